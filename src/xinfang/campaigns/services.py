"""The writes of campaigns: the backlog rule, resolution categories, campaigns and their cases, and
relief applications (信访救助, 《信访工作条例》第三十七条).

Each service validates completely (field-keyed Chinese ``ValidationError``), refuses what the user
may not do (``CampaignRefused``, a 403 in the API), then writes in one transaction together with its
audit event.  Pages and the API call these and nothing else.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from decimal import Decimal, InvalidOperation
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Max, Q
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from xinfang.audit.services import record_event
from xinfang.organisations.choices import OrganisationKind, RoleCode
from xinfang.organisations.models import Organisation, User
from xinfang.petitions.models import Petition, Petitioner

from . import access, backlog
from .access import CampaignRefused
from .models import (
    DEFAULT_CATEGORIES,
    BacklogRule,
    Campaign,
    CampaignCase,
    CampaignStatus,
    CampaignTarget,
    CaseStatus,
    ReliefApplication,
    ReliefStatus,
    ResolutionCategory,
    TargetMetric,
)

# A bulk add takes at most this many petitions (a campaign of a county is a few dozen cases).
MAX_BULK = 200
MAX_AMOUNT = Decimal("9999999999.99")

AUDIT_ACTIONS = {
    "campaigns.rule_saved": gettext_lazy("修改积案认定标准"),
    "campaigns.category_added": gettext_lazy("新增化解类别"),
    "campaigns.campaign_created": gettext_lazy("新建专项行动"),
    "campaigns.campaign_updated": gettext_lazy("修改专项行动"),
    "campaigns.campaign_status": gettext_lazy("专项行动开始或结束"),
    "campaigns.cases_added": gettext_lazy("专项行动列入案件"),
    "campaigns.case_updated": gettext_lazy("设置专项行动案件的化解类别或责任单位"),
    "campaigns.case_contracted": gettext_lazy("专项行动案件落实包案领导"),
    "campaigns.case_resolved": gettext_lazy("专项行动案件化解"),
    "campaigns.closing_report": gettext_lazy("生成专项行动总结报告"),
    "campaigns.exported": gettext_lazy("导出积案、专项行动或救助台账"),
    "campaigns.relief_applied": gettext_lazy("登记信访救助申请"),
    "campaigns.relief_approved": gettext_lazy("批准信访救助"),
    "campaigns.relief_rejected": gettext_lazy("不予批准信访救助"),
    "campaigns.relief_paid": gettext_lazy("登记信访救助发放"),
}


# --- the backlog rule and the categories ----------------------------------------------------------


def save_backlog_rule(
    *,
    user: Any,
    overdue_enabled: bool,
    overdue_days: int | None,
    repeat_enabled: bool,
    repeat_count: int | None,
    concluded_enabled: bool,
) -> BacklogRule:
    """Set the backlog definition of the user's area (leader or supervisor of an office or a
    government)."""
    if not access.may_configure(user):
        raise CampaignRefused(_("只有信访工作机构或本级政府的领导、督办员可以设置积案认定标准。"))
    errors: dict[str, list[str]] = {}
    if overdue_days is None or not 0 <= overdue_days <= 3650:
        errors["overdue_days"] = [_("超期天数须为0至3650之间的整数。")]
    if repeat_count is None or not 0 <= repeat_count <= 100:
        errors["repeat_count"] = [_("重复次数须为0至100之间的整数。")]
    if errors:
        raise ValidationError(errors)
    area = backlog.area_of(user)
    with transaction.atomic():
        rule, _created = BacklogRule.objects.select_for_update().get_or_create(organisation=area)
        rule.overdue_enabled, rule.overdue_days = bool(overdue_enabled), overdue_days
        rule.repeat_enabled, rule.repeat_count = bool(repeat_enabled), repeat_count
        rule.concluded_enabled = bool(concluded_enabled)
        rule.updated_by, rule.updated_at = user, timezone.now()
        rule.save()
        record_event(
            actor=user,
            action="campaigns.rule_saved",
            obj=rule,
            data={
                "overdue": overdue_days if overdue_enabled else None,
                "repeats": repeat_count if repeat_enabled else None,
                "after_conclusion": bool(concluded_enabled),
            },
        )
    return rule


def categories_for(org: Organisation) -> list[ResolutionCategory]:
    """The area's active resolution categories; the five usual ones are created the first time."""
    if not ResolutionCategory.objects.filter(organisation=org).exists():
        ResolutionCategory.objects.bulk_create(
            [
                ResolutionCategory(organisation=org, name=n, sort_order=i)
                for i, n in enumerate(DEFAULT_CATEGORIES)
            ],
            ignore_conflicts=True,
        )
    return list(ResolutionCategory.objects.filter(organisation=org, is_active=True))


def add_category(*, user: Any, name: str) -> ResolutionCategory:
    if not access.may_configure(user):
        raise CampaignRefused(_("只有信访工作机构或本级政府的领导、督办员可以设置化解类别。"))
    name = (name or "").strip()
    if not name or len(name) > 30:
        raise ValidationError({"name": [_("请填写化解类别名称（不超过30字），如“化解一批”。")]})
    area = backlog.area_of(user)
    categories_for(area)
    if ResolutionCategory.objects.filter(organisation=area, name=name).exists():
        raise ValidationError({"name": [_("已有同名的化解类别。")]})
    with transaction.atomic():
        last = ResolutionCategory.objects.filter(organisation=area).aggregate(m=Max("sort_order"))["m"] or 0
        category = ResolutionCategory.objects.create(organisation=area, name=name, sort_order=last + 1)
        record_event(actor=user, action="campaigns.category_added", obj=category, data={"name": name})
    return category


# --- campaigns ------------------------------------------------------------------------------------


def _clean_targets(targets: dict[str, Any] | None, errors: dict[str, list[str]]) -> dict[str, Decimal]:
    out: dict[str, Decimal] = {}
    for metric, value in (targets or {}).items():
        if value in (None, ""):
            continue
        if metric not in TargetMetric.values:
            errors.setdefault("targets", []).append(_("未知的目标指标：%(m)s") % {"m": metric})
            continue
        try:
            number = Decimal(str(value))
        except InvalidOperation:
            number = Decimal(-1)
        if not Decimal(0) <= number <= Decimal(100):
            errors.setdefault(f"target_{metric}", []).append(_("目标值须为0至100之间的百分数。"))
            continue
        out[metric] = number.quantize(Decimal("0.1"))
    return out


def _clean_campaign(
    user: Any, *, name: str, starts_on: dt.date | None, ends_on: dt.date | None, organisation: Any
) -> tuple[dict[str, list[str]], Organisation | None]:
    errors: dict[str, list[str]] = {}
    if not (name or "").strip():
        errors["name"] = [_("请填写专项行动名称，如“百日攻坚”。")]
    if starts_on is None:
        errors["starts_on"] = [_("请填写开始日期。")]
    if ends_on is None:
        errors["ends_on"] = [_("请填写结束日期。")]
    elif starts_on is not None and ends_on < starts_on:
        errors["ends_on"] = [_("结束日期不能早于开始日期。")]
    org_id = organisation.pk if isinstance(organisation, Organisation) else organisation
    org = None
    if org_id is None:
        org = backlog.area_of(user)
    else:
        org = access.scope_organisations(user).filter(pk=org_id).first()
        if org is None:
            errors["organisation"] = [_("请选择本机关管辖范围内的地区或信访工作机构。")]
    return errors, org


def create_campaign(
    *,
    user: Any,
    name: str,
    starts_on: dt.date | None,
    ends_on: dt.date | None,
    description: str = "",
    organisation: Organisation | int | None = None,
    targets: dict[str, Any] | None = None,
) -> Campaign:
    """A new campaign over the user's area (or an area inside it), planned or — when it starts
    today or earlier — running."""
    if not access.may_create(user):
        raise CampaignRefused(_("只有领导或督办员可以发起专项行动。"))
    errors, org = _clean_campaign(
        user, name=name, starts_on=starts_on, ends_on=ends_on, organisation=organisation
    )
    clean_targets = _clean_targets(targets, errors)
    if errors:
        raise ValidationError(errors)
    assert org is not None and starts_on is not None and ends_on is not None
    today = timezone.localdate()
    with transaction.atomic():
        campaign = Campaign.objects.create(
            organisation=org,
            organisation_path=org.path,
            name=name.strip()[:100],
            starts_on=starts_on,
            ends_on=ends_on,
            description=(description or "").strip(),
            status=CampaignStatus.RUNNING if starts_on <= today else CampaignStatus.PLANNED,
            created_by=user,
        )
        CampaignTarget.objects.bulk_create(
            [CampaignTarget(campaign=campaign, metric=m, threshold=v) for m, v in clean_targets.items()]
        )
        categories_for(backlog.area_of(user) or org)
        record_event(
            actor=user,
            action="campaigns.campaign_created",
            obj=campaign,
            data={"name": campaign.name, "organisation": org.pk, "starts_on": starts_on.isoformat(),
                  "ends_on": ends_on.isoformat(), "targets": {k: str(v) for k, v in clean_targets.items()}},
        )  # fmt: skip
    return campaign


def _managed(user: Any, campaign_id: int) -> Campaign:
    """The campaign under a row lock, if the user may read it (else DoesNotExist, a 404), and
    manage it (else CampaignRefused, a 403)."""
    campaign = (
        access.visible_campaigns(user)
        .select_for_update(of=("self",))
        .select_related("organisation")
        .get(pk=campaign_id)
    )
    if not access.may_manage(user, campaign):
        raise CampaignRefused(_("只有专项行动范围所属机关的领导或督办员可以管理该专项行动。"))
    return campaign


def update_campaign(
    *,
    user: Any,
    campaign_id: int,
    name: str,
    starts_on: dt.date | None,
    ends_on: dt.date | None,
    description: str = "",
    targets: dict[str, Any] | None = None,
) -> Campaign:
    with transaction.atomic():
        campaign = _managed(user, campaign_id)
        errors, _org = _clean_campaign(
            user, name=name, starts_on=starts_on, ends_on=ends_on, organisation=campaign.organisation
        )
        errors.pop("organisation", None)
        clean_targets = _clean_targets(targets, errors)
        if errors:
            raise ValidationError(errors)
        campaign.name, campaign.starts_on, campaign.ends_on = name.strip()[:100], starts_on, ends_on
        campaign.description = (description or "").strip()
        campaign.save(update_fields=["name", "starts_on", "ends_on", "description"])
        CampaignTarget.objects.filter(campaign=campaign).delete()
        CampaignTarget.objects.bulk_create(
            [CampaignTarget(campaign=campaign, metric=m, threshold=v) for m, v in clean_targets.items()]
        )
        record_event(
            actor=user,
            action="campaigns.campaign_updated",
            obj=campaign,
            data={"targets": {k: str(v) for k, v in clean_targets.items()}},
        )
    return campaign


def set_campaign_status(*, user: Any, campaign_id: int, status: str, note: str = "") -> Campaign:
    """Start a planned campaign, or close a running one (with a summary note)."""
    with transaction.atomic():
        campaign = _managed(user, campaign_id)
        allowed = {
            CampaignStatus.PLANNED: {CampaignStatus.RUNNING},
            CampaignStatus.RUNNING: {CampaignStatus.CLOSED},
        }.get(campaign.status, set())
        if status not in allowed:
            raise ValidationError(
                {
                    "status": [
                        _("专项行动当前为“%(s)s”，不能改为该状态。") % {"s": campaign.get_status_display()}
                    ]
                }
            )
        previous = campaign.status
        campaign.status = status
        fields = ["status"]
        if status == CampaignStatus.CLOSED:
            campaign.closed_at, campaign.closing_note = timezone.now(), (note or "").strip()
            fields += ["closed_at", "closing_note"]
        campaign.save(update_fields=fields)
        record_event(
            actor=user,
            action="campaigns.campaign_status",
            obj=campaign,
            data={"from": previous, "to": status},
        )
    return campaign


def get_campaign(user: Any, campaign_id: int) -> Campaign:
    """A campaign the user may read; a missing and a forbidden one look the same (DoesNotExist)."""
    return (
        access.visible_campaigns(user)
        .select_related("organisation", "created_by")
        .prefetch_related("targets")
        .get(pk=campaign_id)
    )


# --- cases ----------------------------------------------------------------------------------------


def _category(campaign: Campaign, category: Any) -> ResolutionCategory | None:
    """A category of the campaign's area (or of an area above it, whose set the office uses)."""
    cat_id = category.pk if isinstance(category, ResolutionCategory) else category
    if cat_id in (None, ""):
        return None
    line = [int(p) for p in campaign.organisation_path.strip("/").split("/") if p]
    found = ResolutionCategory.objects.filter(pk=cat_id, organisation_id__in=line, is_active=True).first()
    if found is None:
        raise ValidationError({"category": [_("请从本机关的化解类别中选择。")]})
    return found


def category_choices(campaign: Campaign) -> list[ResolutionCategory]:
    """The categories a case of ``campaign`` may take: those of its area and the areas above."""
    categories_for(campaign.organisation)
    line = [int(p) for p in campaign.organisation_path.strip("/").split("/") if p]
    return list(
        ResolutionCategory.objects.filter(organisation_id__in=line, is_active=True).order_by(
            "organisation__depth", "sort_order", "id"
        )
    )


def add_cases(
    *, user: Any, campaign_id: int, petition_numbers: Iterable[str], category: Any = None
) -> list[CampaignCase]:
    """List petitions in the campaign (from the backlog list or by number).  Each must be one the
    user may see and not already listed; its responsible unit is the body now handling it, and its
    backlog reasons (if any) are kept."""
    from xinfang.workflow.engine import handling_organisation

    numbers = list(dict.fromkeys(n.strip() for n in petition_numbers if n and n.strip()))
    with transaction.atomic():
        campaign = _managed(user, campaign_id)
        if campaign.status == CampaignStatus.CLOSED:
            raise ValidationError({"petitions": [_("专项行动已结束，不能再列入案件。")]})
        if not numbers:
            raise ValidationError({"petitions": [_("请选择或填写信访编号。")]})
        if len(numbers) > MAX_BULK:
            raise ValidationError({"petitions": [_("一次最多列入%(n)d件。") % {"n": MAX_BULK}]})
        chosen = _category(campaign, category)
        petitions = list(Petition.objects.restrict(user).filter(number__in=numbers).select_related("office"))
        missing = sorted(set(numbers) - {p.number for p in petitions})
        if missing:
            raise ValidationError(
                {"petitions": [_("以下编号不存在或不在您的查看范围内：%(n)s") % {"n": "、".join(missing)}]}
            )
        listed = set(
            CampaignCase.objects.filter(campaign=campaign, petition__in=petitions).values_list(
                "petition__number", flat=True
            )
        )
        if listed:
            raise ValidationError(
                {"petitions": [_("以下信访事项已列入本次专项行动：%(n)s") % {"n": "、".join(sorted(listed))}]}
            )
        today = timezone.localdate()
        rule = backlog.rule_for(campaign.organisation)
        annotated = {
            p.pk: p
            for p in backlog.annotate_backlog(
                Petition.objects.filter(pk__in=[p.pk for p in petitions]), rule, today
            )
        }
        cases = [
            CampaignCase(
                campaign=campaign,
                petition=p,
                unit=handling_organisation(p),
                category=chosen,
                reasons=",".join(backlog.reasons_of(annotated[p.pk], rule, today).codes),
                added_by=user,
            )
            for p in petitions
        ]
        CampaignCase.objects.bulk_create(cases)
        record_event(
            actor=user,
            action="campaigns.cases_added",
            obj=campaign,
            data={
                "petitions": sorted(p.number for p in petitions),
                "category": chosen.pk if chosen else None,
            },
        )
    return list(CampaignCase.objects.filter(campaign=campaign, petition__in=petitions))


def _case(user: Any, case_id: int) -> CampaignCase:
    """A case under a row lock, if its campaign and petition are visible to the user (else 404)."""
    case = (
        CampaignCase.objects.select_for_update(of=("self",))
        .select_related("campaign", "petition", "unit")
        .filter(campaign__in=access.visible_campaigns(user), petition__in=Petition.objects.restrict(user))
        .get(pk=case_id)
    )
    return case


def update_case(*, user: Any, case_id: int, category: Any = None, unit: Any = None) -> CampaignCase:
    """Set a case's resolution category and (optionally) its responsible unit."""
    with transaction.atomic():
        case = _case(user, case_id)
        if not access.may_manage(user, case.campaign):
            raise CampaignRefused(_("只有专项行动范围所属机关的领导或督办员可以调整案件。"))
        case.category = _category(case.campaign, category)
        fields = ["category"]
        if unit not in (None, ""):
            unit_id = unit.pk if isinstance(unit, Organisation) else unit
            found = Organisation.objects.filter(
                pk=unit_id, path__startswith=case.campaign.organisation_path
            ).first()
            if found is None:
                raise ValidationError({"unit": [_("责任单位须在专项行动范围内。")]})
            case.unit = found
            fields.append("unit")
        case.save(update_fields=fields)
        record_event(
            actor=user,
            action="campaigns.case_updated",
            obj=case,
            data={"petition": case.petition.number, "category": case.category_id, "unit": case.unit_id},
        )
    return case


def leader_choices(campaign: Campaign) -> Any:
    """Leaders who may take a case of the campaign: leaders inside its scope, or of an organisation
    above it (a city leader often takes a county's hardest case, 市领导包案)."""
    line = [int(p) for p in campaign.organisation_path.strip("/").split("/") if p]
    return (
        User.objects.filter(
            Q(organisation__path__startswith=campaign.organisation_path) | Q(organisation_id__in=line),
            is_active=True,
            roles__code=RoleCode.LEADER,
        )
        .select_related("organisation")
        .order_by("organisation__path", "username")
        .distinct()
    )


def contract_case(
    *, user: Any, case_id: int, leader: Any, measures: str, due_on: dt.date | None
) -> CampaignCase:
    """Contract a case to a leader (包案: 定领导、定措施、定时间、定责任) through the leadership
    app's ``open_contract``, and keep the leader and deadline on the case for the lists."""
    with transaction.atomic():
        case = _case(user, case_id)
        if not access.may_manage(user, case.campaign):
            raise CampaignRefused(_("只有专项行动范围所属机关的领导或督办员可以落实包案。"))
        errors: dict[str, list[str]] = {}
        leader_id = leader.pk if isinstance(leader, User) else leader
        leader_obj = leader_choices(case.campaign).filter(pk=leader_id).first() if leader_id else None
        if leader_obj is None:
            errors["leader"] = [_("请选择专项行动范围内或上级的领导。")]
        if not (measures or "").strip():
            errors["measures"] = [_("请填写化解措施。")]
        if due_on is None:
            errors["due_on"] = [_("请填写包案期限。")]
        elif due_on < timezone.localdate():
            errors["due_on"] = [_("包案期限不能早于今天。")]
        if case.status != CaseStatus.IN_PROGRESS:
            errors["__all__"] = [_("该案件已化解，无需再包案。")]
        if errors:
            raise ValidationError(errors)
        contract = _open_contract(user, leader_obj, case, measures.strip(), due_on)
        case.leader, case.contract_due_on = leader_obj, due_on
        case.contract_id = getattr(contract, "pk", None)
        case.save(update_fields=["leader", "contract_due_on", "contract_id"])
        record_event(
            actor=user,
            action="campaigns.case_contracted",
            obj=case,
            data={"petition": case.petition.number, "leader": leader_obj.pk, "due_on": due_on.isoformat(),
                  "contract": case.contract_id},
        )  # fmt: skip
        _notify_leader(case, leader_obj)
    return case


def _open_contract(user: Any, leader: User, case: CampaignCase, measures: str, due_on: dt.date) -> Any:
    """The leadership app's contract for the case (imported here: leadership is being built beside
    this app, and campaigns may import it; a site without it still records the leader)."""
    try:
        from xinfang.leadership.services import open_contract
    except ImportError:  # TODO(issue #11): leadership.services.open_contract not there yet
        return None
    return open_contract(actor=user, leader=leader, petition=case.petition, measures=measures, due_on=due_on)


def _notify_leader(case: CampaignCase, leader: User) -> None:
    from xinfang.notifications.services import notify

    notify(
        [leader],
        kind="campaign",
        title=_("【包案】%(campaign)s：%(number)s")
        % {"campaign": case.campaign.name, "number": case.petition.number},
        body=_("您是该积案的包案领导，请于%(date)s前化解。") % {"date": case.contract_due_on},
        url=reverse("campaigns:detail", args=[case.campaign_id]),
        petition=case.petition,
        dedupe_key=f"campaign-case:{case.pk}:contract:{leader.pk}:{case.contract_due_on}",
    )


def resolve_case(*, user: Any, case_id: int, resolved_on: dt.date | None, note: str) -> CampaignCase:
    """Record that a case is resolved (化解), with the date and what was done."""
    with transaction.atomic():
        case = _case(user, case_id)
        if not access.may_resolve(user, case):
            raise CampaignRefused(_("只有专项行动的管理机关或责任单位的领导、承办人可以登记化解。"))
        errors: dict[str, list[str]] = {}
        if case.status == CaseStatus.RESOLVED:
            errors["__all__"] = [_("该案件已登记化解。")]
        if resolved_on is None:
            errors["resolved_on"] = [_("请填写化解日期。")]
        elif resolved_on > timezone.localdate():
            errors["resolved_on"] = [_("化解日期不能晚于今天。")]
        if not (note or "").strip():
            errors["note"] = [_("请填写化解情况：做了什么、信访人是否息访。")]
        if errors:
            raise ValidationError(errors)
        case.status, case.resolved_on, case.resolution_note = CaseStatus.RESOLVED, resolved_on, note.strip()
        case.save(update_fields=["status", "resolved_on", "resolution_note"])
        record_event(
            actor=user,
            action="campaigns.case_resolved",
            obj=case,
            data={"petition": case.petition.number, "resolved_on": resolved_on.isoformat()},
        )
    return case


# --- relief (信访救助, Art. 37) ----------------------------------------------------------------------


def _amount(value: Any, field: str, errors: dict[str, list[str]]) -> Decimal | None:
    try:
        amount = Decimal(str(value)).quantize(Decimal("0.01"))
    except (InvalidOperation, TypeError, ValueError):
        amount = None
    if amount is None or amount <= 0 or amount > MAX_AMOUNT:
        errors[field] = [_("请填写大于0的金额（元）。")]
        return None
    return amount


def apply_relief(
    *,
    user: Any,
    petition_number: str,
    applicant: Any,
    reason: str,
    amount: Any,
    campaign_case: Any = None,
) -> ReliefApplication:
    """Record an application for relief on a petition (normally concluded); the approving leaders
    of the area are told."""
    if not access.may_record_relief(user):
        raise CampaignRefused(_("只有登记员、督办员或领导可以登记救助申请。"))
    errors: dict[str, list[str]] = {}
    petition = Petition.objects.restrict(user).filter(number=(petition_number or "").strip()).first()
    if petition is None:
        errors["petition"] = [_("信访编号不存在或不在您的查看范围内。")]
    applicant_id = applicant.pk if isinstance(applicant, Petitioner) else applicant
    person = None
    if petition is not None:
        person = (
            Petitioner.objects.filter(petition=petition, pk=applicant_id).first() if applicant_id else None
        )
        if person is None:
            errors["applicant"] = [_("申请人须为该信访事项的信访人。")]
    if not (reason or "").strip():
        errors["reason"] = [_("请填写申请理由：生活困难情况和救助依据。")]
    money = _amount(amount, "amount", errors)
    case = None
    if campaign_case not in (None, "") and petition is not None:
        case_id = campaign_case.pk if isinstance(campaign_case, CampaignCase) else campaign_case
        case = CampaignCase.objects.filter(pk=case_id, petition=petition).first()
        if case is None:
            errors["campaign_case"] = [_("所选专项行动案件与该信访事项不符。")]
    if errors:
        raise ValidationError(errors)
    area = backlog.area_of(user)
    with transaction.atomic():
        application = ReliefApplication.objects.create(
            petition=petition,
            applicant=person,
            campaign_case=case,
            organisation=area,
            organisation_path=area.path,
            reason=reason.strip(),
            amount_requested=money,
            recorded_by=user,
        )
        record_event(
            actor=user,
            action="campaigns.relief_applied",
            obj=application,
            data={"petition": petition.number, "amount": str(money)},
        )
        _notify_relief(
            _leaders_over(area),
            application,
            title=_("【救助待审批】%(number)s") % {"number": petition.number},
            body=_("申请金额%(amount)s元，请审批。") % {"amount": money},
            key="applied",
        )
    return application


def _leaders_over(area: Organisation) -> list[int]:
    """The leaders whose scope holds ``area``: those of the area itself (its government and its
    petition office)."""
    own = Q(organisation=area) | Q(
        organisation__parent=area, organisation__kind=OrganisationKind.PETITION_OFFICE
    )
    return list(
        User.objects.filter(own, is_active=True, roles__code=RoleCode.LEADER)
        .values_list("pk", flat=True)
        .distinct()
    )


def _notify_relief(
    users: Iterable[int], application: ReliefApplication, *, title: str, body: str, key: str
) -> None:
    from xinfang.notifications.services import notify

    notify(
        users,
        kind="relief",
        title=title,
        body=body,
        url=reverse("campaigns:relief_detail", args=[application.pk]),
        petition=application.petition,
        dedupe_key=f"relief:{application.pk}:{key}",
    )


def _relief(user: Any, relief_id: int) -> ReliefApplication:
    return (
        access.visible_relief(user)
        .select_for_update(of=("self",))
        .select_related("petition", "organisation")
        .get(pk=relief_id)
    )


def _relief_to_decide(user: Any, relief_id: int) -> tuple[ReliefApplication, dict[str, list[str]]]:
    """The application, locked, if ``user`` may decide it; with the error if it is decided already."""
    application = _relief(user, relief_id)
    if not access.may_decide_relief(user, application):
        raise CampaignRefused(_("只有审批机构的领导可以审批救助申请。"))
    errors: dict[str, list[str]] = {}
    if application.status != ReliefStatus.APPLIED:
        errors["__all__"] = [_("该申请已审批。")]
    return application, errors


def approve_relief(*, user: Any, relief_id: int, amount: Any) -> ReliefApplication:
    with transaction.atomic():
        application, errors = _relief_to_decide(user, relief_id)
        money = _amount(amount, "amount", errors)
        if money is not None and money > application.amount_requested:
            errors["amount"] = [_("批准金额不能超过申请金额。")]
        if errors:
            raise ValidationError(errors)
        application.status, application.amount_approved = ReliefStatus.APPROVED, money
        application.decided_by, application.decided_on = user, timezone.localdate()
        application.save(update_fields=["status", "amount_approved", "decided_by", "decided_on"])
        record_event(
            actor=user, action="campaigns.relief_approved", obj=application, data={"amount": str(money)}
        )
        _notify_relief(
            [application.recorded_by_id],
            application,
            title=_("【救助已批准】%(number)s") % {"number": application.petition.number},
            body=_("批准金额%(amount)s元，请发放后登记发放日期。") % {"amount": money},
            key="approved",
        )
    return application


def reject_relief(*, user: Any, relief_id: int, reason: str) -> ReliefApplication:
    with transaction.atomic():
        application, errors = _relief_to_decide(user, relief_id)
        if not (reason or "").strip():
            errors["reason"] = [_("请填写不予批准的理由。")]
        if errors:
            raise ValidationError(errors)
        application.status, application.rejection_reason = ReliefStatus.REJECTED, reason.strip()
        application.decided_by, application.decided_on = user, timezone.localdate()
        application.save(update_fields=["status", "rejection_reason", "decided_by", "decided_on"])
        record_event(actor=user, action="campaigns.relief_rejected", obj=application, data={})
        _notify_relief(
            [application.recorded_by_id],
            application,
            title=_("【救助未批准】%(number)s") % {"number": application.petition.number},
            body=_("请将不予批准的理由告知申请人。"),
            key="rejected",
        )
    return application


def pay_relief(*, user: Any, relief_id: int, paid_on: dt.date | None) -> ReliefApplication:
    with transaction.atomic():
        application = _relief(user, relief_id)
        if not access.may_record_relief(user):
            raise CampaignRefused(_("只有登记员、督办员或领导可以登记救助发放。"))
        errors: dict[str, list[str]] = {}
        if application.status != ReliefStatus.APPROVED:
            errors["__all__"] = [_("只有已批准的救助可以登记发放。")]
        if paid_on is None:
            errors["paid_on"] = [_("请填写发放日期。")]
        elif paid_on > timezone.localdate() or (application.decided_on and paid_on < application.decided_on):
            errors["paid_on"] = [_("发放日期须在审批日期之后、不晚于今天。")]
        if errors:
            raise ValidationError(errors)
        application.status, application.paid_on, application.paid_by = ReliefStatus.PAID, paid_on, user
        application.save(update_fields=["status", "paid_on", "paid_by"])
        record_event(
            actor=user, action="campaigns.relief_paid", obj=application, data={"paid_on": paid_on.isoformat()}
        )
    return application


def get_relief(user: Any, relief_id: int) -> ReliefApplication:
    return (
        access.visible_relief(user)
        .select_related(
            "petition", "applicant", "organisation", "recorded_by", "decided_by", "campaign_case__campaign"
        )
        .get(pk=relief_id)
    )
