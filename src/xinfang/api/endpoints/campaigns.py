"""``/api/v1/campaigns``: 专项行动 (campaigns on backlog), the backlog list (``/backlog``) and relief
applications (``/relief``, 信访救助, 《信访工作条例》第三十七条) — issue #11 §3.

Thin, like the other endpoints: every rule is in ``campaigns.services`` and ``campaigns.access``,
shared with the staff pages.  A campaign, case or application the caller may not read is the
usual 404; a write the caller may not make is 403; bad input is 422 with field errors.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Annotated, Any, Literal

from django.http import Http404, HttpRequest, HttpResponse
from django.utils import timezone
from django.utils.translation import gettext as _
from ninja import Field, Header, Query, Router, Schema, Status

from xinfang.campaigns import access, backlog, services
from xinfang.campaigns.contracts import open_contracts
from xinfang.campaigns.models import (
    Campaign,
    CampaignCase,
    CampaignStatus,
    ReliefApplication,
    ReliefStatus,
    TargetMetric,
)
from xinfang.campaigns.progress import filter_cases, progress
from xinfang.core.pagination import capped_count
from xinfang.organisations.choices import CASEWORK_ROLES

from ..auth import auth_user, token_auth
from ..idempotency import IdempotentResult
from ..presenters import idempotent_response
from ..schemas import BoundedIntegers, ErrorOut, InputSchema, OrganisationOut, StaffOut

router = Router(tags=["campaigns"], auth=token_auth)

ERRORS = {401: ErrorOut, 403: ErrorOut, 404: ErrorOut, 422: ErrorOut}
IdempotencyKey = Annotated[
    str | None,
    Header(alias="Idempotency-Key", max_length=100, description="幂等键：重试时携带同一键，返回首次结果"),
]


class TargetOut(Schema):
    metric: str = Field(description="resolution_rate 化解率，contract_rate 包案率")
    label: str
    threshold: Decimal = Field(description="目标值（%）")


class CampaignOut(Schema):
    id: int
    name: str
    organisation: OrganisationOut = Field(description="范围：该机构及其下辖单位")
    starts_on: dt.date
    ends_on: dt.date
    description: str
    status: str = Field(description="planned 筹备中，running 进行中，closed 已结束")
    status_label: str
    targets: list[TargetOut]


class CampaignPageOut(Schema):
    count: int
    count_exact: bool
    results: list[CampaignOut]


class CampaignIn(InputSchema):
    name: str = Field(max_length=100)
    starts_on: dt.date
    ends_on: dt.date
    description: str = Field("", max_length=20_000)
    organisation: int | None = Field(None, description="范围机构编号（本机关辖区内）；不填为本地区")
    targets: dict[Literal[tuple(TargetMetric.values)], Decimal] = Field(  # type: ignore[valid-type]
        default_factory=dict, description='目标：指标 → 百分数，如 {"resolution_rate": 95}'
    )


class CaseOut(Schema):
    id: int
    petition: str = Field(description="信访编号")
    title: str
    unit: OrganisationOut = Field(description="责任单位")
    category: str | None = Field(description="化解类别")
    leader: StaffOut | None = Field(description="包案领导")
    contract_due_on: dt.date | None = Field(description="包案期限")
    status: str = Field(description="in_progress 化解中，resolved 已化解")
    resolved_on: dt.date | None
    resolution_note: str
    reasons: list[str] = Field(description="列入时的积案情形：overdue, repeated, after_conclusion")


class CasePageOut(Schema):
    count: int
    results: list[CaseOut]


class CasesIn(InputSchema):
    petitions: list[str] = Field(max_length=services.MAX_BULK, description="信访编号")
    category: int | None = Field(None, description="化解类别编号")


class CaseUpdateIn(InputSchema):
    category: int | None = Field(None, description="化解类别编号；null 为未分类")
    unit: int | None = Field(None, description="责任单位编号（专项行动范围内）；不填为不变")


class CaseContractIn(InputSchema):
    leader: int = Field(description="包案领导的用户编号")
    measures: str = Field(max_length=5000, description="化解措施")
    due_on: dt.date = Field(description="包案期限")


class ResolveIn(InputSchema):
    resolved_on: dt.date
    note: str = Field(max_length=5000, description="化解情况")


class ProgressRowOut(Schema):
    key: str = Field(description="筛选该行案件的值（unit 或 category 参数）")
    label: str
    total: int
    resolved: int
    in_progress: int
    concluded: int
    contracted: int
    resolution_rate: Decimal | None


class TargetProgressOut(Schema):
    metric: str
    label: str
    threshold: Decimal
    actual: Decimal | None
    met: bool


class ProgressOut(Schema):
    total: ProgressRowOut
    by_unit: list[ProgressRowOut]
    by_category: list[ProgressRowOut]
    targets: list[TargetProgressOut]


class BacklogOut(Schema):
    number: str
    title: str
    status: str
    due_on: dt.date | None
    reasons: list[str] = Field(
        description="overdue 超期未办结，repeated 一年内多次重复信访，after_conclusion 终结后仍信访"
    )
    reason_labels: list[str]
    repeats_within_year: int


class BacklogPageOut(Schema):
    rule: str = Field(description="本地区的积案认定标准")
    count: int
    count_exact: bool
    results: list[BacklogOut]


class PageFilters(BoundedIntegers):
    limit: int = Field(30, ge=1, le=200)
    offset: int = Field(0, ge=0, le=100_000)


class CampaignFilters(PageFilters):
    status: Literal[tuple(CampaignStatus.values)] | None = None  # type: ignore[valid-type]


class CaseFilters(PageFilters):
    unit: str = Field("", max_length=20)
    category: str = Field("", max_length=20)
    status: str = Field("", max_length=20, description="in_progress, resolved, concluded, contracted")


class ReliefOut(Schema):
    id: int
    petition: str
    applicant: str = Field(description="申请人姓名")
    reason: str
    amount_requested: Decimal
    status: str = Field(description="applied 待审批，approved 已批准，rejected 未批准，paid 已发放")
    status_label: str
    amount_approved: Decimal | None
    decided_by: StaffOut | None
    decided_on: dt.date | None
    rejection_reason: str
    paid_on: dt.date | None
    campaign_case: int | None


class ReliefPageOut(Schema):
    count: int
    count_exact: bool
    results: list[ReliefOut]


class ReliefFilters(PageFilters):
    status: Literal[tuple(ReliefStatus.values)] | None = None  # type: ignore[valid-type]


class ReliefIn(InputSchema):
    petition: str = Field(max_length=40, description="信访编号")
    applicant: int = Field(description="申请人：该事项信访人的编号")
    reason: str = Field(max_length=5000)
    amount: Decimal = Field(description="申请金额（元）")
    campaign_case: int | None = None


class ReliefApproveIn(InputSchema):
    amount: Decimal = Field(description="批准金额（元），不超过申请金额")


class RejectIn(InputSchema):
    reason: str = Field(max_length=5000)


class PayIn(InputSchema):
    paid_on: dt.date


class BacklogRuleOut(Schema):
    area: OrganisationOut = Field(description="调用者所在地区（积案认定标准按地区设置）")
    source: Literal["own", "inherited", "default"] = Field(
        description="own 本地区自己的标准，inherited 沿用上级地区的标准，default 尚未设置、使用默认标准"
    )
    inherited_from: OrganisationOut | None = Field(description="沿用其标准的上级地区（inherited 时）")
    overdue_enabled: bool = Field(description="超期未办结")
    overdue_days: int = Field(description="超过办理时限天数")
    repeat_enabled: bool = Field(description="一年内重复信访")
    repeat_count: int = Field(description="一年内重复次数")
    concluded_enabled: bool = Field(description="终结后仍信访")
    text: str = Field(description="标准的文字表述")
    updated_by: StaffOut | None
    updated_at: dt.datetime | None


class BacklogRuleIn(InputSchema):
    overdue_enabled: bool
    overdue_days: int = Field(ge=0, le=3650, description="未办结且超过办理时限多于此天数")
    repeat_enabled: bool
    repeat_count: int = Field(ge=0, le=100, description="同一事项一年内重复信访多于此次数")
    concluded_enabled: bool


class CategoryItemOut(Schema):
    id: int
    name: str
    sort_order: int


class CategoryListOut(Schema):
    area: OrganisationOut
    results: list[CategoryItemOut]


class CategoryAddIn(InputSchema):
    name: str = Field(max_length=30, description="化解类别名称，如“化解一批”")


# --- helpers --------------------------------------------------------------------------------------


def _user(request: HttpRequest) -> Any:
    user = auth_user(request)
    if not user.role_codes & CASEWORK_ROLES:
        raise access.CampaignRefused(_("专项行动和信访救助只对登记员、承办人、督办员和领导开放。"))
    return user


def _staff(user: Any) -> dict[str, Any] | None:
    return {"id": user.pk, "name": str(user)} if user is not None else None


def _campaign_out(c: Campaign) -> dict[str, Any]:
    return {
        "id": c.pk, "name": c.name, "organisation": c.organisation, "starts_on": c.starts_on,
        "ends_on": c.ends_on, "description": c.description, "status": c.status,
        "status_label": str(c.get_status_display()),
        "targets": [{"metric": t.metric, "label": str(t.get_metric_display()), "threshold": t.threshold}
                    for t in c.targets.all()],
    }  # fmt: skip


def _case_out(c: CampaignCase, contracts: dict[int, Any]) -> dict[str, Any]:
    contract = contracts.get(c.petition_id)
    return {
        "id": c.pk, "petition": c.petition.number, "title": c.petition.title, "unit": c.unit,
        "category": c.category.name if c.category_id else None,
        "leader": _staff(contract.leader if contract else c.leader),
        "contract_due_on": contract.due_on if contract else c.contract_due_on,
        "status": c.status, "resolved_on": c.resolved_on, "resolution_note": c.resolution_note,
        "reasons": [r for r in c.reasons.split(",") if r],
    }  # fmt: skip


def _campaign(user: Any, campaign_id: int) -> Campaign:
    try:
        return services.get_campaign(user, campaign_id)
    except Campaign.DoesNotExist:
        raise Http404 from None


def _reload_case(user: Any, case_id: int) -> dict[str, Any]:
    case = (
        CampaignCase.objects.select_related("petition", "unit", "category", "leader")
        .filter(pk=case_id)
        .first()
    )
    if case is None:
        raise Http404
    return _case_out(case, open_contracts([case.petition_id]))


def _case_call(fn: Any, **kwargs: Any) -> Any:
    try:
        return fn(**kwargs)
    except CampaignCase.DoesNotExist:
        raise Http404 from None


def _row(r: Any) -> dict[str, Any]:
    return {"key": r.key, "label": r.label, "total": r.total, "resolved": r.resolved,
            "in_progress": r.in_progress, "concluded": r.concluded, "contracted": r.contracted,
            "resolution_rate": r.resolution_rate}  # fmt: skip


def _relief_out(a: ReliefApplication) -> dict[str, Any]:
    return {
        "id": a.pk, "petition": a.petition.number, "applicant": a.applicant.name, "reason": a.reason,
        "amount_requested": a.amount_requested, "status": a.status,
        "status_label": str(a.get_status_display()),
        "amount_approved": a.amount_approved, "decided_by": _staff(a.decided_by), "decided_on": a.decided_on,
        "rejection_reason": a.rejection_reason, "paid_on": a.paid_on, "campaign_case": a.campaign_case_id,
    }  # fmt: skip


def _relief(user: Any, relief_id: int) -> ReliefApplication:
    try:
        return services.get_relief(user, relief_id)
    except ReliefApplication.DoesNotExist:
        raise Http404 from None


# --- backlog --------------------------------------------------------------------------------------


@router.get("/backlog", response={200: BacklogPageOut, **ERRORS}, summary="信访积案清单")
def backlog_list(request: HttpRequest, filters: Query[PageFilters]) -> dict[str, Any]:
    """The backlog cases the caller may see, by the backlog rule of their area, oldest deadline
    first, each with the criteria it meets."""
    user = _user(request)
    today = timezone.localdate()
    rule = backlog.rule_for(backlog.area_of(user))
    qs = backlog.backlog_cases(user, today, rule=rule)
    page = list(qs[filters.offset : filters.offset + filters.limit])
    count, exact = capped_count(qs)
    results = []
    for p in page:
        reasons = backlog.reasons_of(p, rule, today)
        results.append({"number": p.number, "title": p.title, "status": p.status, "due_on": p.due_on,
                        "reasons": list(reasons.codes), "reason_labels": list(reasons.labels),
                        "repeats_within_year": p.backlog_repeats})  # fmt: skip
    return {"rule": backlog.rule_text(rule), "count": count, "count_exact": exact, "results": results}


def _rule_out(user: Any) -> dict[str, Any]:
    area = backlog.area_of(user)
    rule = backlog.rule_for(area)
    if rule.pk is None:
        source, inherited = "default", None
    elif rule.organisation_id == area.pk:
        source, inherited = "own", None
    else:
        source, inherited = "inherited", rule.organisation
    return {
        "area": area, "source": source, "inherited_from": inherited,
        "overdue_enabled": rule.overdue_enabled, "overdue_days": rule.overdue_days,
        "repeat_enabled": rule.repeat_enabled, "repeat_count": rule.repeat_count,
        "concluded_enabled": rule.concluded_enabled, "text": backlog.rule_text(rule),
        "updated_by": _staff(rule.updated_by) if rule.pk else None,
        "updated_at": rule.updated_at if rule.pk else None,
    }  # fmt: skip


@router.get("/backlog/rule", response={200: BacklogRuleOut, **ERRORS}, summary="积案认定标准")
def backlog_rule(request: HttpRequest) -> dict[str, Any]:
    """The backlog rule in force for the caller's area: its own, one inherited from an area above
    (``inherited_from``), or the default when none is set."""
    return _rule_out(_user(request))


@router.put("/backlog/rule", response={200: BacklogRuleOut, **ERRORS}, summary="设置积案认定标准")
def backlog_rule_set(request: HttpRequest, payload: BacklogRuleIn) -> dict[str, Any]:
    """Set the caller's area's own rule (leaders and supervisors of a petition office or a
    government, 403 otherwise); areas below without their own rule follow it."""
    user = _user(request)
    services.save_backlog_rule(user=user, **payload.model_dump())
    return _rule_out(user)


def _categories_out(user: Any) -> dict[str, Any]:
    area = backlog.area_of(user)
    items = [{"id": c.pk, "name": c.name, "sort_order": c.sort_order} for c in services.categories_for(area)]
    return {"area": area, "results": items}


@router.get("/categories", response={200: CategoryListOut, **ERRORS}, summary="化解类别")
def category_list(request: HttpRequest) -> dict[str, Any]:
    """The resolution categories of the caller's area (the five usual ones until the area adds its
    own), which a campaign's cases are put in."""
    return _categories_out(_user(request))


@router.post("/categories", response={201: CategoryItemOut, **ERRORS}, summary="新增化解类别")
def category_add(
    request: HttpRequest, payload: CategoryAddIn, idempotency_key: IdempotencyKey = None
) -> HttpResponse:
    """Add a category to the caller's area (leaders and supervisors of a petition office or a
    government, 403 otherwise); a name already there is 422."""
    user = _user(request)

    def action() -> IdempotentResult:
        c = services.add_category(user=user, name=payload.name)
        body = CategoryItemOut.model_validate({"id": c.pk, "name": c.name, "sort_order": c.sort_order})
        return IdempotentResult(status=201, body=body.model_dump(mode="json"))

    return idempotent_response(request, user=user, key=idempotency_key, payload=payload, action=action)


# --- relief ---------------------------------------------------------------------------------------


@router.get("/relief", response={200: ReliefPageOut, **ERRORS}, summary="信访救助台账")
def relief_list(request: HttpRequest, filters: Query[ReliefFilters]) -> dict[str, Any]:
    user = _user(request)
    qs = access.visible_relief(user).select_related("petition", "applicant", "decided_by")
    if filters.status:
        qs = qs.filter(status=filters.status)
    qs = qs.order_by("-recorded_at", "-id")
    count, exact = capped_count(qs)
    page = qs[filters.offset : filters.offset + filters.limit]
    return {"count": count, "count_exact": exact, "results": [_relief_out(a) for a in page]}


@router.post("/relief", response={201: ReliefOut, **ERRORS}, summary="登记信访救助申请")
def relief_apply(request: HttpRequest, payload: ReliefIn) -> Status:
    """Record an application (intake, supervisor or leader; the petition must be one the caller
    sees and the applicant one of its petitioners).  The area's leaders are notified."""
    user = _user(request)
    a = services.apply_relief(
        user=user, petition_number=payload.petition, applicant=payload.applicant, reason=payload.reason,
        amount=payload.amount, campaign_case=payload.campaign_case,
    )  # fmt: skip
    return Status(201, _relief_out(_relief(user, a.pk)))


@router.get("/relief/{relief_id}", response={200: ReliefOut, **ERRORS}, summary="信访救助申请详情")
def relief_detail(request: HttpRequest, relief_id: int) -> dict[str, Any]:
    return _relief_out(_relief(_user(request), relief_id))


def _relief_action(request: HttpRequest, relief_id: int, fn: Any, **kwargs: Any) -> dict[str, Any]:
    user = _user(request)
    _relief(user, relief_id)  # 404 before 403
    fn(user=user, relief_id=relief_id, **kwargs)
    return _relief_out(_relief(user, relief_id))


@router.post("/relief/{relief_id}/approve", response={200: ReliefOut, **ERRORS}, summary="批准信访救助")
def relief_approve(request: HttpRequest, relief_id: int, payload: ReliefApproveIn) -> dict[str, Any]:
    """A leader of the approving area only (403 otherwise)."""
    return _relief_action(request, relief_id, services.approve_relief, amount=payload.amount)


@router.post("/relief/{relief_id}/reject", response={200: ReliefOut, **ERRORS}, summary="不予批准信访救助")
def relief_reject(request: HttpRequest, relief_id: int, payload: RejectIn) -> dict[str, Any]:
    return _relief_action(request, relief_id, services.reject_relief, reason=payload.reason)


@router.post("/relief/{relief_id}/paid", response={200: ReliefOut, **ERRORS}, summary="登记信访救助发放")
def relief_pay(request: HttpRequest, relief_id: int, payload: PayIn) -> dict[str, Any]:
    return _relief_action(request, relief_id, services.pay_relief, paid_on=payload.paid_on)


# --- cases ----------------------------------------------------------------------------------------


@router.post("/cases/{case_id}", response={200: CaseOut, **ERRORS}, summary="设置案件的化解类别、责任单位")
def case_update(request: HttpRequest, case_id: int, payload: CaseUpdateIn) -> dict[str, Any]:
    user = _user(request)
    _case_call(services.update_case, user=user, case_id=case_id, category=payload.category, unit=payload.unit)
    return _reload_case(user, case_id)


@router.post("/cases/{case_id}/contract", response={200: CaseOut, **ERRORS}, summary="落实包案领导")
def case_contract(request: HttpRequest, case_id: int, payload: CaseContractIn) -> dict[str, Any]:
    """Contract the case to a leader through the leadership app (包案); the leader is notified."""
    user = _user(request)
    _case_call(
        services.contract_case, user=user, case_id=case_id, leader=payload.leader, measures=payload.measures,
        due_on=payload.due_on,
    )  # fmt: skip
    return _reload_case(user, case_id)


@router.post("/cases/{case_id}/resolve", response={200: CaseOut, **ERRORS}, summary="登记案件化解")
def case_resolve(request: HttpRequest, case_id: int, payload: ResolveIn) -> dict[str, Any]:
    user = _user(request)
    _case_call(
        services.resolve_case, user=user, case_id=case_id, resolved_on=payload.resolved_on, note=payload.note
    )
    return _reload_case(user, case_id)


# --- campaigns ------------------------------------------------------------------------------------


@router.get("", response={200: CampaignPageOut, **ERRORS}, summary="专项行动列表")
def campaign_list(request: HttpRequest, filters: Query[CampaignFilters]) -> dict[str, Any]:
    user = _user(request)
    qs = access.visible_campaigns(user).select_related("organisation").prefetch_related("targets")
    if filters.status:
        qs = qs.filter(status=filters.status)
    qs = qs.order_by("-starts_on", "-id")
    count, exact = capped_count(qs)
    page = qs[filters.offset : filters.offset + filters.limit]
    return {"count": count, "count_exact": exact, "results": [_campaign_out(c) for c in page]}


@router.post("", response={201: CampaignOut, **ERRORS}, summary="发起专项行动")
def campaign_create(request: HttpRequest, payload: CampaignIn) -> Status:
    """A leader or supervisor starts a campaign over their area or an area inside it."""
    user = _user(request)
    c = services.create_campaign(
        user=user, name=payload.name, starts_on=payload.starts_on, ends_on=payload.ends_on,
        description=payload.description, organisation=payload.organisation, targets=dict(payload.targets),
    )  # fmt: skip
    return Status(201, _campaign_out(_campaign(user, c.pk)))


@router.get("/{campaign_id}", response={200: CampaignOut, **ERRORS}, summary="专项行动详情")
def campaign_detail(request: HttpRequest, campaign_id: int) -> dict[str, Any]:
    return _campaign_out(_campaign(_user(request), campaign_id))


@router.get("/{campaign_id}/cases", response={200: CasePageOut, **ERRORS}, summary="专项行动的案件")
def campaign_cases(request: HttpRequest, campaign_id: int, filters: Query[CaseFilters]) -> dict[str, Any]:
    """The campaign's cases whose petition the caller may see, filtered as the progress figures
    link (``unit``, ``category``, ``status``)."""
    user = _user(request)
    campaign = _campaign(user, campaign_id)
    qs = filter_cases(
        access.visible_cases(user, campaign),
        unit=filters.unit,
        category=filters.category,
        status=filters.status,
    )
    count = qs.count()
    page = list(
        qs.select_related("petition", "unit", "category", "leader").order_by("unit__path", "id")[
            filters.offset : filters.offset + filters.limit
        ]
    )
    contracts = open_contracts([c.petition_id for c in page])
    return {"count": count, "results": [_case_out(c, contracts) for c in page]}


@router.post("/{campaign_id}/cases", response={201: CasePageOut, **ERRORS}, summary="列入案件")
def campaign_add_cases(request: HttpRequest, campaign_id: int, payload: CasesIn) -> Status:
    """List petitions in the campaign (by number; from the backlog list or by hand)."""
    user = _user(request)
    _campaign(user, campaign_id)
    added = services.add_cases(
        user=user, campaign_id=campaign_id, petition_numbers=payload.petitions, category=payload.category
    )
    cases = list(
        CampaignCase.objects.filter(pk__in=[c.pk for c in added]).select_related(
            "petition", "unit", "category"
        )
    )
    contracts = open_contracts([c.petition_id for c in cases])
    return Status(201, {"count": len(cases), "results": [_case_out(c, contracts) for c in cases]})


@router.get("/{campaign_id}/progress", response={200: ProgressOut, **ERRORS}, summary="专项行动进度")
def campaign_progress(request: HttpRequest, campaign_id: int) -> dict[str, Any]:
    """Cases, resolved and 化解率 per responsible unit and per resolution category, and the targets;
    each row's ``key`` filters ``/cases`` to the cases it counts."""
    user = _user(request)
    campaign = _campaign(user, campaign_id)
    p = progress(campaign, access.visible_cases(user, campaign))
    return {
        "total": _row(p.total),
        "by_unit": [_row(r) for r in p.by_unit],
        "by_category": [_row(r) for r in p.by_category],
        "targets": [{"metric": t.metric, "label": t.label, "threshold": t.threshold, "actual": t.actual,
                     "met": t.met} for t in p.targets],
    }  # fmt: skip
