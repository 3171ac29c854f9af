"""The business rules of the dispute screening ledger: every write, in one transaction with its
audit event (and, for a dispute, its timeline line).  Views and the API call these.

Refusals: invalid input raises ``ValidationError`` (field-keyed, Chinese); an action the user may
not take raises ``ScreeningRefused`` (a ``PermissionError``: the API answers 403).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import F
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from xinfang.audit.services import record_event
from xinfang.core import crypto
from xinfang.notifications.services import notify
from xinfang.organisations.choices import CASEWORK_ROLES, OrganisationKind, RoleCode
from xinfang.organisations.models import Organisation, User
from xinfang.petitions.access import PetitionNotFound, access_petition, scope_root
from xinfang.petitions.services import office_code
from xinfang.petitions.validators import check_id_number, check_phone, mask_id_number, mask_phone

from . import access
from .models import (
    OPEN_STATUSES,
    Dispute,
    DisputeEvent,
    DisputeKind,
    DisputeParty,
    DisputeSequence,
    DisputeSource,
    DisputeStatus,
    RiskLevel,
    RoundKind,
    RoundReturn,
    ScreeningRound,
)

MAX_PARTIES = 10

# The status machine: from → the statuses it may move to.  Resolved, turned into a petition and
# handed to a court/arbitration are final.
TRANSITIONS: dict[str, tuple[str, ...]] = {
    DisputeStatus.SCREENED: (
        DisputeStatus.IN_RESOLUTION,
        DisputeStatus.RESOLVED,
        DisputeStatus.TURNED_PETITION,
        DisputeStatus.HANDED_OVER,
    ),
    DisputeStatus.IN_RESOLUTION: (
        DisputeStatus.RESOLVED,
        DisputeStatus.TURNED_PETITION,
        DisputeStatus.HANDED_OVER,
    ),
}
FINAL = (DisputeStatus.RESOLVED, DisputeStatus.TURNED_PETITION, DisputeStatus.HANDED_OVER)

# Which note each transition asks for (shown as the field's label and in the timeline).
NOTE_LABELS = {
    DisputeStatus.IN_RESOLUTION: "化解措施",
    DisputeStatus.RESOLVED: "化解结果",
    DisputeStatus.TURNED_PETITION: "转信访原因",
    DisputeStatus.HANDED_OVER: "移交机关及理由",
}

# Unit kinds a round may ask to report (the default: townships' governments and departments).
DEFAULT_UNIT_KINDS = (OrganisationKind.GOVERNMENT, OrganisationKind.DEPARTMENT)


class ScreeningRefused(PermissionError):
    """The user may not take this action (403), with the reason in Chinese."""


@dataclass(frozen=True)
class PartyData:
    name: str
    id_number: str = ""
    phone: str = ""


# --- numbers -------------------------------------------------------------------------------------


def next_number(office: Organisation, year: int) -> str:
    """``JF-<office code>-<year>-<seq:06d>``, gap-free per office and year (as petitions'
    ``next_number``: the UPDATE takes the row lock inside the registering transaction)."""
    if not transaction.get_connection().in_atomic_block:
        raise RuntimeError("next_number() must run inside the registering transaction")
    updated = DisputeSequence.objects.filter(office=office, year=year).update(last=F("last") + 1)
    if not updated:
        try:
            with transaction.atomic():
                DisputeSequence.objects.create(office=office, year=year, last=1)
        except IntegrityError:
            DisputeSequence.objects.filter(office=office, year=year).update(last=F("last") + 1)
    seq = DisputeSequence.objects.filter(office=office, year=year).values_list("last", flat=True).get()
    return f"JF-{office_code(office)}-{year}-{seq:06d}"


# --- validation ----------------------------------------------------------------------------------


def _clean_parties(parties: Sequence[PartyData]) -> list[PartyData]:
    errors: list[str] = []
    cleaned: list[PartyData] = []
    for index, party in enumerate(parties, start=1):
        name = (party.name or "").strip()
        id_number = (party.id_number or "").strip()
        phone = (party.phone or "").strip()
        if not (name or id_number or phone):
            continue
        if not name:
            errors.append(_("第%(n)d位当事人：请填写姓名或名称。") % {"n": index})
            continue
        try:
            id_number = check_id_number(id_number) if id_number else ""
            phone = check_phone(phone) if phone else ""
        except ValidationError as exc:
            errors.append(_("第%(n)d位当事人：") % {"n": index} + exc.messages[0])
            continue
        cleaned.append(PartyData(name=name[:100], id_number=id_number, phone=phone))
    if len(cleaned) > MAX_PARTIES:
        errors.append(_("当事人最多%(n)d位。") % {"n": MAX_PARTIES})
    if errors:
        raise ValidationError({"parties": errors})
    return cleaned


def _check_fields(values: dict[str, Any], *, actor: Any) -> None:
    errors: dict[str, list[str]] = {}

    def add(field: str, message: str) -> None:
        errors.setdefault(field, []).append(message)

    if "title" in values and not (values["title"] or "").strip():
        add("title", _("请填写纠纷名称。"))
    if "kind" in values and values["kind"] not in DisputeKind.values:
        add("kind", _("请选择纠纷类别。"))
    if "risk" in values and values["risk"] not in RiskLevel.values:
        add("risk", _("请选择风险等级（高、中、低）。"))
    if "source" in values and values["source"] not in DisputeSource.values:
        add("source", _("请选择纠纷来源。"))
    if values.get("source") == DisputeSource.ROUND and values.get("round") is None:
        add("round", _("来源为排查任务的，请选择是哪一次排查任务。"))
    rnd = values.get("round")
    if (
        rnd is not None
        and not access.restrict_rounds(ScreeningRound.objects.filter(pk=rnd.pk), actor).exists()
    ):
        add("round", _("排查任务不存在，或不在您的范围内。"))
    organisation = values.get("organisation")
    if "organisation" in values and (organisation is None or not access.may_write_for(actor, organisation)):
        add("organisation", _("请选择您有权登记的责任单位（本单位或辖区内单位）。"))
    locality = values.get("locality")
    path = access.scope_path(actor)
    if locality is not None and (path is None or not locality.path.startswith(path)):
        add("locality", _("属地须在您的辖区内。"))
    deadline = values.get("deadline")
    screened_on = values.get("screened_on")
    today = timezone.localdate()
    if screened_on is not None and screened_on > today:
        add("screened_on", _("排查日期不能晚于今天。"))
    if deadline is not None and screened_on is not None and deadline < screened_on:
        add("deadline", _("化解期限不能早于排查日期。"))
    if errors:
        raise ValidationError(errors)


def _validate(
    values: dict[str, Any], parties: Sequence[PartyData] | None, *, actor: Any
) -> list[PartyData] | None:
    """Every field error at once (the form shows them all), parties included."""
    errors: dict[str, list[str]] = {}
    try:
        _check_fields(values, actor=actor)
    except ValidationError as exc:
        errors.update(exc.message_dict)
    cleaned = None
    if parties is not None:
        try:
            cleaned = _clean_parties(parties)
        except ValidationError as exc:
            errors.update(exc.message_dict)
    if errors:
        raise ValidationError(errors)
    return cleaned


def _check_leader(leader: User | None, dispute_unit: Organisation) -> None:
    """The contracting leader holds the leader role in the dispute's area (its scope)."""
    if leader is None:
        return
    root = scope_root(dispute_unit)
    if not (
        leader.is_active
        and leader.has_role(RoleCode.LEADER)
        and leader.organisation is not None
        and (dispute_unit.is_within(scope_root(leader.organisation)) or leader.organisation.is_within(root))
    ):
        raise ValidationError({"leader": [_("包案领导须是本辖区具有领导角色的在岗人员。")]})


def _event(
    dispute: Dispute, actor: Any, action: str, *, note: str = "", to_status: str = "", from_status: str = ""
) -> None:
    DisputeEvent.objects.create(
        dispute=dispute,
        actor=actor if getattr(actor, "is_authenticated", False) else None,
        action=action,
        from_status=from_status,
        to_status=to_status,
        note=note,
    )


def _save_parties(dispute: Dispute, parties: list[PartyData]) -> None:
    dispute.parties.all().delete()
    DisputeParty.objects.bulk_create(
        DisputeParty(
            dispute=dispute,
            position=position,
            name=p.name,
            id_number=p.id_number or None,
            id_number_hash=crypto.blind_index(p.id_number, purpose="id") if p.id_number else None,
            id_number_mask=mask_id_number(p.id_number) if p.id_number else "",
            phone=p.phone or None,
            phone_hash=crypto.blind_index(p.phone, purpose="phone") if p.phone else None,
            phone_mask=mask_phone(p.phone) if p.phone else "",
        )
        for position, p in enumerate(parties)
    )


def _notify_leader(dispute: Dispute) -> None:
    if dispute.leader_id is None:
        return
    notify(
        [dispute.leader_id],
        kind="dispute_contracted",
        title=_("请您包案化解矛盾纠纷 %(number)s") % {"number": dispute.number},
        body=_("%(title)s；责任单位：%(unit)s；化解期限：%(deadline)s。")
        % {
            "title": dispute.title,
            "unit": dispute.organisation.name,
            "deadline": dispute.deadline.isoformat() if dispute.deadline else _("未定"),
        },
        url=reverse("screening:detail", args=[dispute.number]),
        dedupe_key=f"dispute-leader:{dispute.pk}:{dispute.leader_id}",
    )


def _notify_unit(dispute: Dispute, actor: Any) -> None:
    """The responsible unit's staff learn that a dispute is theirs to resolve (not the registrar)."""
    staff = (
        User.objects.filter(
            is_active=True, roles__code__in=CASEWORK_ROLES, organisation_id=dispute.organisation_id
        )
        .exclude(pk=getattr(actor, "pk", None))
        .values_list("pk", flat=True)
        .distinct()
    )
    notify(
        staff,
        kind="dispute_assigned",
        title=_("本单位负责化解矛盾纠纷 %(number)s") % {"number": dispute.number},
        body=_("%(title)s；化解期限：%(deadline)s。请落实化解方案并在台账中更新进展。")
        % {
            "title": dispute.title,
            "deadline": dispute.deadline.isoformat() if dispute.deadline else _("未定"),
        },
        url=reverse("screening:detail", args=[dispute.number]),
        dedupe_key=f"dispute-unit:{dispute.pk}:{dispute.organisation_id}",
    )


# --- disputes ------------------------------------------------------------------------------------

EDITABLE = ("title", "kind", "description", "risk", "source", "round", "organisation", "locality",
            "plan", "deadline", "screened_on")  # fmt: skip


def create_dispute(
    *,
    actor: Any,
    organisation: Organisation,
    title: str,
    kind: str = DisputeKind.OTHER,
    risk: str = RiskLevel.LOW,
    source: str = DisputeSource.OTHER,
    description: str = "",
    locality: Organisation | None = None,
    round: ScreeningRound | None = None,  # noqa: A002 — the model's field name
    plan: str = "",
    deadline: dt.date | None = None,
    screened_on: dt.date | None = None,
    leader: User | None = None,
    parties: Sequence[PartyData] = (),
) -> Dispute:
    """Register a dispute in the ledger, numbered by the registering user's organisation."""
    if not access.is_casework(actor) or not (
        actor.has_role(*access.OFFICE_WRITERS) or actor.has_role(RoleCode.HANDLER)
    ):
        raise ScreeningRefused(_("您的账号不能登记矛盾纠纷。"))
    screened_on = screened_on or timezone.localdate()
    values = {
        "title": title, "kind": kind, "risk": risk, "source": source, "organisation": organisation,
        "locality": locality, "round": round, "deadline": deadline, "screened_on": screened_on,
    }  # fmt: skip
    cleaned = _validate(values, parties, actor=actor)
    _check_leader(leader, organisation)
    with transaction.atomic():
        office = actor.organisation
        dispute = Dispute(
            number=next_number(office, timezone.localdate().year),
            office=office,
            organisation=organisation,
            locality=locality or organisation,
            title=title.strip(),
            kind=kind,
            description=description.strip(),
            risk=risk,
            source=source,
            round=round if source == DisputeSource.ROUND else None,
            plan=plan.strip(),
            deadline=deadline,
            screened_on=screened_on,
            leader=leader,
            created_by=actor,
        )
        dispute.save()
        _save_parties(dispute, cleaned)
        _event(dispute, actor, "created", to_status=dispute.status)
        record_event(
            actor=actor,
            action="dispute.created",
            obj=dispute,
            data={"number": dispute.number, "unit": organisation.pk, "risk": risk, "dispute_kind": kind},
        )
        _notify_leader(dispute)  # bell rows in the same transaction
        _notify_unit(dispute, actor)
    return dispute


def _writable(actor: Any, dispute: Dispute) -> None:
    if not access.may_write_for(actor, dispute.organisation):
        raise ScreeningRefused(
            _("您不能修改这条矛盾纠纷：只有登记机关的登记员、督办员、领导和责任单位的承办人可以修改。")
        )


def update_dispute(
    *, actor: Any, dispute: Dispute, parties: Sequence[PartyData] | None = None, **changes: Any
) -> Dispute:
    """Change the facts of a dispute (not its status: see ``transition``).  Only the fields
    given change; a closed dispute is not edited any more."""
    unknown = set(changes) - set(EDITABLE)
    if unknown:
        raise TypeError(f"not editable: {sorted(unknown)}")
    _writable(actor, dispute)
    if dispute.status in FINAL:
        raise ValidationError(_("这条矛盾纠纷已办结，不能再修改。"))
    values = dict(changes)
    if "source" in values or "round" in values:
        values.setdefault("source", dispute.source)
        values.setdefault("round", dispute.round)
    if "deadline" in values or "screened_on" in values:
        values.setdefault("deadline", dispute.deadline)
        values.setdefault("screened_on", dispute.screened_on)
    if values.get("screened_on") is None and "screened_on" in values:
        values["screened_on"] = dispute.screened_on
    cleaned = _validate(values, parties, actor=actor)
    changed = []
    with transaction.atomic():
        dispute = Dispute.objects.select_for_update().get(pk=dispute.pk)
        for field, value in values.items():
            if field not in changes:
                continue
            if isinstance(value, str):
                value = value.strip()
            if field == "round" and values.get("source") != DisputeSource.ROUND:
                value = None
            if getattr(dispute, field) != value:
                setattr(dispute, field, value)
                changed.append(field)
        if changed:
            dispute.save()
            if "organisation" in changed:
                _notify_unit(dispute, actor)
        if cleaned is not None:
            _save_parties(dispute, cleaned)
            changed.append("parties")
        if changed:
            _event(
                dispute,
                actor,
                "updated",
                note="、".join(
                    str(Dispute._meta.get_field(f).verbose_name) if f != "parties" else _("当事人")
                    for f in changed
                ),
            )
            record_event(
                actor=actor,
                action="dispute.updated",
                obj=dispute,
                data={"number": dispute.number, "fields": changed},
            )
    return dispute


def set_leader(*, dispute: Dispute, leader: User | None, actor: Any) -> Dispute:
    """Name (or clear) the contracting leader (包案领导).  Public: leadership's ``open_contract``
    calls it with the contract's leader, so keep the signature."""
    _writable(actor, dispute)
    _check_leader(leader, dispute.organisation)
    with transaction.atomic():
        dispute = Dispute.objects.select_for_update().select_related("organisation").get(pk=dispute.pk)
        if dispute.leader_id == (leader.pk if leader else None):
            return dispute
        previous = dispute.leader_id
        dispute.leader = leader
        dispute.save(update_fields=["leader", "updated_at"])
        _event(dispute, actor, "leader_set", note=str(leader) if leader else _("取消包案领导"))
        record_event(
            actor=actor,
            action="dispute.leader_set",
            obj=dispute,
            data={
                "number": dispute.number,
                "leader": leader.pk if leader else None,
                "previous_leader": previous,
            },
        )
        _notify_leader(dispute)  # bell rows in the same transaction
    return dispute


def transition(
    *, actor: Any, dispute: Dispute, to: str, note: str, petition_number: str = "", on: dt.date | None = None
) -> Dispute:
    """Move a dispute to ``to`` with the reason or result ``note``.  Turning it into a petition
    links the registered petition (which the actor must be able to see)."""
    _writable(actor, dispute)
    if to not in DisputeStatus.values:
        raise ValidationError({"to": [_("未知的状态。")]})
    allowed = TRANSITIONS.get(dispute.status, ())
    if to not in allowed:
        raise ValidationError(
            {"to": [_("“%(from)s”的矛盾纠纷不能改为“%(to)s”。") % {
                "from": DisputeStatus(dispute.status).label, "to": DisputeStatus(to).label}]}
        )  # fmt: skip
    note = (note or "").strip()
    if not note:
        raise ValidationError({"note": [_("请填写%(what)s。") % {"what": NOTE_LABELS[to]}]})
    petition = None
    if to == DisputeStatus.TURNED_PETITION:
        petition = _visible_petition(actor, petition_number)
    on = on or timezone.localdate()
    with transaction.atomic():
        locked = Dispute.objects.select_for_update().get(pk=dispute.pk)
        if locked.status != dispute.status:
            raise ValidationError({"to": [_("这条矛盾纠纷的状态刚刚被他人改变，请刷新后重试。")]})
        previous = locked.status
        locked.status = to
        fields = ["status", "updated_at"]
        if to in FINAL:
            locked.closed_on = on
            fields.append("closed_on")
        if to == DisputeStatus.RESOLVED:
            locked.resolved_on = on
            fields.append("resolved_on")
        locked.save(update_fields=fields)
        if petition is not None:
            locked.petitions.add(petition)
        _event(locked, actor, "status", from_status=previous, to_status=to, note=note)
        record_event(
            actor=actor,
            action="dispute.transition",
            obj=locked,
            data={"number": locked.number, "previous_status": previous, "dispute_status": to,
                  "petition": petition.number if petition else None},
        )  # fmt: skip
    return locked


def _visible_petition(actor: Any, number: str) -> Any:
    number = (number or "").strip()
    if not number:
        raise ValidationError({"petition": [_("请填写已登记的信访事项编号。")]})
    try:
        return access_petition(actor, number)
    except PetitionNotFound:
        raise ValidationError({"petition": [_("信访事项不存在，或您无权查看。")]}) from None


def link_petition(*, actor: Any, dispute: Dispute, petition_number: str) -> Dispute:
    """Link a petition about the same matter (a petition may concern a dispute already screened)."""
    _writable(actor, dispute)
    petition = _visible_petition(actor, petition_number)
    with transaction.atomic():
        if dispute.petitions.filter(pk=petition.pk).exists():
            return dispute
        dispute.petitions.add(petition)
        _event(dispute, actor, "petition_linked", note=petition.number)
        record_event(
            actor=actor, action="dispute.petition_linked", obj=dispute,
            data={"number": dispute.number, "petition": petition.number},
        )  # fmt: skip
    return dispute


def reveal_party(*, actor: Any, party: DisputeParty) -> dict[str, str]:
    """The full ID and phone numbers of a party, for a user who may change the dispute; audited."""
    _writable(actor, party.dispute)
    with transaction.atomic():
        record_event(
            actor=actor, action="dispute.party_revealed", obj=party.dispute,
            data={"number": party.dispute.number, "party": party.pk},
        )  # fmt: skip
    return {"id_number": party.id_number or "", "phone": party.phone or ""}


# --- screening rounds ----------------------------------------------------------------------------


def round_units(office: Organisation, kinds: Iterable[str]) -> list[Organisation]:
    """The units that must report: the organisations of the office's area of the chosen kinds,
    below the area's top (the county government does not report to its own office)."""
    root = scope_root(office)
    return list(
        Organisation.objects.filter(path__startswith=root.path, kind__in=list(kinds))
        .exclude(pk=root.pk)
        .exclude(pk=office.pk)
        .order_by("path")
    )


def issue_round(
    *,
    actor: Any,
    title: str,
    period_start: dt.date,
    period_end: dt.date,
    due_on: dt.date,
    kind: str = RoundKind.MONTHLY,
    unit_kinds: Sequence[str] = DEFAULT_UNIT_KINDS,
    instructions: str = "",
) -> ScreeningRound:
    """Issue a screening round: one return per unit of the area, each unit's staff notified."""
    if not access.may_issue(actor):
        raise ScreeningRefused(_("只有信访工作机构的督办员或领导可以下发排查任务。"))
    errors: dict[str, list[str]] = {}
    if not (title or "").strip():
        errors["title"] = [_("请填写排查任务名称。")]
    if kind not in RoundKind.values:
        errors["kind"] = [_("请选择排查类型。")]
    if period_end < period_start:
        errors["period_end"] = [_("排查期间的结束日期不能早于开始日期。")]
    if due_on < timezone.localdate():
        errors["due_on"] = [_("报送期限不能早于今天。")]
    kinds = [k for k in unit_kinds if k in OrganisationKind.values]
    if not kinds or len(kinds) != len(list(unit_kinds)):
        errors["unit_kinds"] = [_("请选择需要报送的单位类型。")]
    units = round_units(actor.organisation, kinds) if kinds else []
    if kinds and not units:
        errors["unit_kinds"] = [_("辖区内没有这些类型的单位。")]
    if errors:
        raise ValidationError(errors)
    root = scope_root(actor.organisation)
    with transaction.atomic():
        rnd = ScreeningRound.objects.create(
            office=actor.organisation,
            area_path=root.path,
            kind=kind,
            title=title.strip(),
            period_start=period_start,
            period_end=period_end,
            due_on=due_on,
            unit_kinds=kinds,
            instructions=instructions.strip(),
            issued_by=actor,
        )
        RoundReturn.objects.bulk_create(RoundReturn(round=rnd, unit=u, unit_path=u.path) for u in units)
        record_event(
            actor=actor, action="screening.round_issued", obj=rnd,
            data={"title": rnd.title, "due_on": due_on.isoformat(), "units": len(units)},
        )  # fmt: skip
        _notify_units(rnd, units)
    return rnd


def _notify_units(rnd: ScreeningRound, units: list[Organisation]) -> None:
    """The staff of each unit (and, for a government unit, its petition office) learn of the task."""
    ids = [u.pk for u in units]
    staff = (
        User.objects.filter(is_active=True, roles__code__in=CASEWORK_ROLES)
        .filter(organisation_id__in=ids)
        .values_list("pk", flat=True)
        .distinct()
    )
    offices = User.objects.filter(
        is_active=True,
        roles__code__in=CASEWORK_ROLES,
        organisation__kind=OrganisationKind.PETITION_OFFICE,
        organisation__parent_id__in=ids,
    ).values_list("pk", flat=True)
    notify(
        set(staff) | set(offices),
        kind="screening_round",
        title=_("排查任务：%(title)s") % {"title": rnd.title},
        body=_("请在%(due)s前完成矛盾纠纷排查并报送（无纠纷的报送零报告）。")
        % {"due": rnd.due_on.isoformat()},
        url=reverse("screening:round", args=[rnd.pk]),
        dedupe_key=f"screening-round:{rnd.pk}",
    )


def complete_return(
    *,
    actor: Any,
    round_return: RoundReturn,
    dispute_numbers: Sequence[str] = (),
    zero: bool = False,
    note: str = "",
) -> RoundReturn:
    """A unit reports its round: the disputes it found (registered in the ledger first), or a
    zero report (零报告).  Reporting again before the office closes it replaces the earlier return."""
    if not access.may_report_for(actor, round_return.unit):
        raise ScreeningRefused(
            _("只有%(unit)s本单位可以报送本单位的排查情况。") % {"unit": round_return.unit.name}
        )
    numbers = [n.strip() for n in dispute_numbers if n and n.strip()]
    if zero and numbers:
        raise ValidationError({"disputes": [_("零报告不能同时列出矛盾纠纷。")]})
    if not zero and not numbers:
        raise ValidationError(
            {"disputes": [_("请列出排查发现的矛盾纠纷编号（先在台账中登记），或勾选零报告。")]}
        )
    found = list(
        Dispute.objects.filter(number__in=numbers, organisation_path__startswith=round_return.unit.path)
    )
    missing = sorted(set(numbers) - {d.number for d in found})
    if missing:
        raise ValidationError(
            {"disputes": [_("以下编号不是本单位台账中的矛盾纠纷：%(n)s") % {"n": "、".join(missing)}]}
        )
    now = timezone.now()
    with transaction.atomic():
        ret = RoundReturn.objects.select_for_update().get(pk=round_return.pk)
        ret.completed_at = now
        ret.completed_on = timezone.localdate(now)
        ret.completed_by = actor
        ret.is_zero = zero
        ret.disputes_found = len(found)
        ret.note = (note or "").strip()
        ret.save()
        ret.disputes.set(found)
        record_event(
            actor=actor, action="screening.return_completed", obj=ret.round,
            data={"unit": ret.unit_id, "disputes": len(found), "zero": zero,
                  "on_time": ret.completed_on <= ret.round.due_on},
        )  # fmt: skip
    return ret


def open_statuses() -> tuple[str, ...]:
    return tuple(OPEN_STATUSES)
