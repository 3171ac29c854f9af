"""Business rules of leadership: every write, one transaction each with its audit event; the staff
pages, the API, the demo seed and other apps (campaigns) call these.

Refusals: ``ValidationError`` (field-keyed, Chinese) for bad input, ``LeadershipRefused`` (a
``PermissionError``: the API's 403) for an actor who may not act.  Bell notifications are rung after
the commit (``transaction.on_commit``), so a rolled-back write rings nobody.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Iterable
from typing import Any

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from xinfang.audit.services import record_event
from xinfang.organisations.choices import CASEWORK_ROLES, RoleCode
from xinfang.organisations.models import Organisation, User

from . import access
from .access import LeadershipRefused
from .models import (
    ContractingPolicy,
    ContractMilestone,
    ContractProgress,
    ContractStatus,
    DutyLogEntry,
    DutyShift,
    Instruction,
    InstructionEntry,
    InstructionStatus,
    InstructionStep,
    LeaderContract,
)

__all__ = [
    "LeadershipRefused",
    "add_progress",
    "answer_instruction",
    "close_contract",
    "close_instruction",
    "complete_milestone",
    "issue_instruction",
    "log_duty",
    "open_contract",
    "policy_for",
    "return_instruction",
    "save_shift",
    "set_policy",
]

MAX_MILESTONES = 20
MAX_TEXT = 5000


def _ring(users: Iterable[Any], **kwargs: Any) -> None:
    """Ring the bell after the commit (notifications is a floor-4 sibling: imported lazily)."""
    ids = sorted({u.pk if hasattr(u, "pk") else u for u in users if u is not None})
    if not ids:
        return

    def send() -> None:
        from xinfang.notifications.services import notify

        notify(ids, **kwargs)

    transaction.on_commit(send)


def _text(value: str, field: str, label: str) -> str:
    value = (value or "").strip()
    if not value:
        raise ValidationError({field: _("请填写%(label)s。") % {"label": label}})
    if len(value) > MAX_TEXT:
        raise ValidationError({field: _("%(label)s不能超过%(n)d字。") % {"label": label, "n": MAX_TEXT}})
    return value


def _number(prefix: str, pk: int) -> str:
    """A readable number by year and id: BA2026-00012 (包案), YP2026-00034 (阅批)."""
    return f"{prefix}{timezone.localdate():%Y}-{pk:05d}"


# --- case contracting (包案) --------------------------------------------------------------------


def _check_subject(actor: Any, petition: Any, dispute: Any) -> None:
    if (petition is None) == (dispute is None):
        raise ValidationError({"petition": _("包案对象须为一件信访事项或一件矛盾纠纷，二者选一。")})
    if petition is not None and not access.visible_petitions(actor).filter(pk=petition.pk).exists():
        raise LeadershipRefused(_("该信访事项不在您的工作范围内。"))
    if dispute is not None and not access.visible_disputes(actor).filter(pk=dispute.pk).exists():
        raise LeadershipRefused(_("该矛盾纠纷不在您的工作范围内。"))


def _check_team(actor: Any, leader: Any, official: Any, handler: Any) -> None:
    if leader is None or not access.leaders_for(actor).filter(pk=leader.pk).exists():
        if not access.in_office(actor) and not actor.has_role(RoleCode.LEADER):
            raise LeadershipRefused(_("只有领导本人或信访工作机构的登记员、督办员可以确定包案领导。"))
        raise ValidationError({"leader": _("包案领导须为您本人（领导）或本级政府辖区内的领导。")})
    team = access.team_choices(leader)
    for field, user, label in (("official", official, _("责任人")), ("handler", handler, _("承办人"))):
        if user is not None and not team.filter(pk=user.pk).exists():
            raise ValidationError({field: _("%(label)s须为包案领导辖区内的工作人员。") % {"label": label}})


def _check_milestones(
    milestones: Iterable[tuple[str, dt.date]], due_on: dt.date
) -> list[tuple[str, dt.date]]:
    clean = []
    for title, due in milestones:
        title = (title or "").strip()
        if not title:
            continue
        if due is None or due > due_on:
            raise ValidationError(
                {"milestones": _("节点“%(t)s”的计划完成日期须在办结期限之前。") % {"t": title}}
            )
        clean.append((title[:200], due))
    if len(clean) > MAX_MILESTONES:
        raise ValidationError({"milestones": _("节点不能超过%(n)d个。") % {"n": MAX_MILESTONES}})
    return clean


def open_contract(
    *,
    actor: Any,
    leader: Any,
    petition: Any = None,
    dispute: Any = None,
    measures: str,
    due_on: dt.date,
    official: Any = None,
    handler: Any = None,
    milestones: Iterable[tuple[str, dt.date]] = (),
) -> LeaderContract:
    """Contract a petition or a dispute to ``leader`` (包案): "定领导、定措施、定时间、定责任".

    A leader contracts for themself; a petition office's clerk or supervisor assigns a leader of
    its government.  One open contract per subject.  When the subject is a dispute, the dispute's
    contracting leader is set too (``screening.services.set_leader``, when screening has it)."""
    if not access.is_casework(actor):
        raise LeadershipRefused(_("您的账号不能登记领导包案。"))
    _check_subject(actor, petition, dispute)
    _check_team(actor, leader, official, handler)
    measures = _text(measures, "measures", _("化解措施"))
    today = timezone.localdate()
    if due_on is None or due_on < today:
        raise ValidationError({"due_on": _("办结期限不能早于今天。")})
    plan = _check_milestones(milestones, due_on)
    open_ = LeaderContract.objects.filter(status=ContractStatus.OPEN)
    if (petition and open_.filter(petition=petition).exists()) or (
        dispute and open_.filter(dispute=dispute).exists()
    ):
        raise ValidationError(
            {"petition" if petition else "dispute": _("该案件已有包案领导，请先办结原包案。")}
        )
    try:
        contract = _create_contract(
            actor=actor, leader=leader, petition=petition, dispute=dispute, measures=measures, due_on=due_on,
            official=official, handler=handler, plan=plan,
        )  # fmt: skip
    except IntegrityError:
        # Two contracts of the same subject at once: the partial unique constraint let one through.
        raise ValidationError(
            {"petition" if petition else "dispute": _("该案件已有包案领导，请先办结原包案。")}
        ) from None
    url = reverse("leadership:contract", args=[contract.pk])
    _ring(
        [u for u in (leader, official, handler) if u is not None and u.pk != actor.pk],
        kind="leadership.contract",
        title=_("包案：%(subject)s") % {"subject": contract.subject_title},
        body=_("您被确定为此案的包案领导或包案责任人、承办人，办结期限 %(due)s。") % {"due": due_on},
        url=url,
        petition=petition,
        dedupe_key=f"contract-{contract.pk}",
    )
    return contract


def _create_contract(
    *, actor: Any, leader: Any, petition: Any, dispute: Any, measures: str, due_on: dt.date,
    official: Any, handler: Any, plan: list[tuple[str, dt.date]],
) -> LeaderContract:  # fmt: skip
    """The writes of ``open_contract``, in one transaction with the audit event."""
    with transaction.atomic():
        contract = LeaderContract.objects.create(
            number=f"tmp-{uuid.uuid4().hex}",  # replaced by the numbered one below
            petition=petition,
            dispute=dispute,
            leader=leader,
            official=official,
            handler=handler,
            measures=measures,
            due_on=due_on,
            created_by=actor,
        )
        contract.number = _number("BA", contract.pk)
        contract.save(update_fields=["number"])
        ContractMilestone.objects.bulk_create(
            ContractMilestone(contract=contract, title=t, due_on=d) for t, d in plan
        )
        if dispute is not None:
            _set_dispute_leader(dispute=dispute, leader=leader, actor=actor)
        record_event(
            actor=actor,
            action="leadership.contract_opened",
            obj=contract,
            data={
                "subject": contract.subject_number,
                "leader": leader.get_username(),
                "due_on": due_on.isoformat(),
                "milestones": len(plan),
            },
        )
    return contract


def _set_dispute_leader(*, dispute: Any, leader: Any, actor: Any) -> None:
    # The screening helper writes set_leader; until it exists the contract alone records the leader.
    from xinfang.screening import services as screening_services

    if hasattr(screening_services, "set_leader"):
        screening_services.set_leader(dispute=dispute, leader=leader, actor=actor)


def may_work_on(actor: Any, contract: LeaderContract) -> bool:
    """The team, or the petition office of the scope (it keeps the ledger)."""
    if not access.is_casework(actor):
        return False
    if actor.pk in {contract.leader_id, contract.official_id, contract.handler_id}:
        return True
    return access.in_office(actor) and access.contracts_visible_to(actor).filter(pk=contract.pk).exists()


def _require_open(contract: LeaderContract) -> None:
    if contract.status != ContractStatus.OPEN:
        raise ValidationError(_("该包案已办结。"))


def add_progress(
    *, actor: Any, contract: LeaderContract, text: str, on: dt.date | None = None
) -> ContractProgress:
    """Record what was done on the case (by the team or the office keeping the ledger)."""
    if not may_work_on(actor, contract):
        raise LeadershipRefused(_("只有包案领导、责任人、承办人或信访工作机构可以填报进展。"))
    _require_open(contract)
    text = _text(text, "text", _("进展情况"))
    on = on or timezone.localdate()
    if on > timezone.localdate():
        raise ValidationError({"on": _("进展日期不能晚于今天。")})
    with transaction.atomic():
        entry = ContractProgress.objects.create(contract=contract, on=on, text=text, author=actor)
        record_event(
            actor=actor, action="leadership.contract_progress", obj=contract, data={"on": on.isoformat()}
        )
    if actor.pk != contract.leader_id:
        _ring(
            [contract.leader],
            kind="leadership.contract_progress",
            title=_("包案进展：%(subject)s") % {"subject": contract.subject_title},
            body=text[:200],
            url=reverse("leadership:contract", args=[contract.pk]),
        )
    return entry


def complete_milestone(
    *, actor: Any, milestone: ContractMilestone, done_on: dt.date | None = None
) -> ContractMilestone:
    """Mark a step of the plan done."""
    contract = milestone.contract
    if not may_work_on(actor, contract):
        raise LeadershipRefused(_("只有包案领导、责任人、承办人或信访工作机构可以填报进展。"))
    _require_open(contract)
    if milestone.done_on is not None:
        raise ValidationError(_("该节点已完成。"))
    done_on = done_on or timezone.localdate()
    if done_on > timezone.localdate():
        raise ValidationError({"done_on": _("完成日期不能晚于今天。")})
    with transaction.atomic():
        milestone.done_on = done_on
        milestone.save(update_fields=["done_on"])
        record_event(
            actor=actor, action="leadership.milestone_done", obj=contract, data={"milestone": milestone.title}
        )
    return milestone


def close_contract(*, actor: Any, contract: LeaderContract, result: str) -> LeaderContract:
    """Close the contract: the result note is required (how the case was resolved)."""
    if actor.pk not in {contract.leader_id, contract.official_id} and not (
        access.in_office(actor) and access.contracts_visible_to(actor).filter(pk=contract.pk).exists()
    ):
        raise LeadershipRefused(_("只有包案领导、责任人或信访工作机构可以办结包案。"))
    _require_open(contract)
    result = _text(result, "result", _("办结情况"))
    with transaction.atomic():
        locked = LeaderContract.objects.select_for_update().get(pk=contract.pk)
        _require_open(locked)
        contract.status = ContractStatus.CLOSED
        contract.result = result
        contract.closed_at = timezone.now()
        contract.closed_by = actor
        contract.save(update_fields=["status", "result", "closed_at", "closed_by"])
        record_event(
            actor=actor,
            action="leadership.contract_closed",
            obj=contract,
            data={"late": contract.due_on < timezone.localdate()},
        )
    return contract


def policy_for(organisation: Organisation | None) -> ContractingPolicy | None:
    """The contracting policy that applies to ``organisation``: its own or the nearest above."""
    if organisation is None:
        return None
    line = [int(p) for p in organisation.path.strip("/").split("/") if p]
    return (
        ContractingPolicy.objects.filter(organisation_id__in=line)
        .order_by("-organisation__depth")
        .select_related("organisation")
        .first()
    )


def may_set_policy(actor: Any) -> bool:
    return access.is_casework(actor) and actor.has_role(RoleCode.SUPERVISOR, RoleCode.LEADER)


def set_policy(*, actor: Any, require_for_listed: bool, require_for_backlog: bool) -> ContractingPolicy:
    """Set the contracting policy of the actor's area (the government a petition office belongs to)."""
    if not may_set_policy(actor):
        raise LeadershipRefused(_("只有督办员或领导可以设置包案要求。"))
    from xinfang.petitions.access import scope_root

    area = scope_root(actor.organisation)
    with transaction.atomic():
        policy, _created = ContractingPolicy.objects.update_or_create(
            organisation=area,
            defaults={
                "require_for_listed": require_for_listed,
                "require_for_backlog": require_for_backlog,
                "updated_by": actor,
            },
        )
        record_event(
            actor=actor,
            action="leadership.policy_set",
            obj=policy,
            data={"listed": require_for_listed, "backlog": require_for_backlog},
        )
    return policy


# --- instructions (阅批) -------------------------------------------------------------------------


def _unit_staff(unit: Organisation) -> list[int]:
    return list(
        User.objects.filter(organisation=unit, is_active=True, roles__code__in=list(CASEWORK_ROLES))
        .values_list("pk", flat=True)
        .distinct()
    )


def _entry(instruction: Instruction, step: str, actor: Any, text: str = "") -> None:
    InstructionEntry.objects.create(instruction=instruction, step=step, actor=actor, text=text)


def issue_instruction(
    *, actor: Any, petition: Any, unit: Organisation, text: str, due_on: dt.date
) -> Instruction:
    """A leader's instruction on a petition (阅批): a tracked task for ``unit`` with its deadline."""
    if not access.is_casework(actor) or not actor.has_role(RoleCode.LEADER):
        raise LeadershipRefused(_("只有领导可以阅批。"))
    if not access.visible_petitions(actor).filter(pk=petition.pk).exists():
        raise LeadershipRefused(_("该信访事项不在您的工作范围内。"))
    if unit is None or not access.unit_choices(actor).filter(pk=unit.pk).exists():
        raise ValidationError({"unit": _("承办单位须为您辖区内的单位。")})
    # A report is never sent to the body it accuses, nor to one inside it (Art. 30 ¶3).
    if petition.is_confidential and petition.subject_organisation_id:
        accused = Organisation.objects.get(pk=petition.subject_organisation_id)
        if unit.path.startswith(accused.path):
            raise ValidationError({"unit": _("检举控告事项不得交由被检举控告的单位办理。")})
    text = _text(text, "text", _("批示内容"))
    if due_on is None or due_on <= timezone.localdate():
        raise ValidationError({"due_on": _("办理期限须晚于今天。")})
    with transaction.atomic():
        instruction = Instruction.objects.create(
            number=f"tmp-{uuid.uuid4().hex}",  # replaced by the numbered one below
            petition=petition,
            leader=actor,
            unit=unit,
            text=text,
            due_on=due_on,
        )
        instruction.number = _number("YP", instruction.pk)
        instruction.save(update_fields=["number"])
        _entry(instruction, InstructionStep.ISSUED, actor, text)
        record_event(
            actor=actor,
            action="leadership.instruction_issued",
            obj=instruction,
            data={"petition": petition.number, "unit": unit.name, "due_on": due_on.isoformat()},
        )
    _ring(
        _unit_staff(unit),
        kind="leadership.instruction",
        title=_("领导阅批：%(title)s") % {"title": petition.title},
        body=_("%(leader)s批示：%(text)s（请于%(due)s前办理并回复）")
        % {"leader": actor, "text": text[:150], "due": due_on},
        url=reverse("leadership:instruction", args=[instruction.pk]),
        dedupe_key=f"instruction-{instruction.pk}",
    )
    return instruction


def answer_instruction(*, actor: Any, instruction: Instruction, text: str) -> Instruction:
    """The named unit answers; the answer goes back to the leader (bell + "阅批已回复")."""
    if not access.may_answer(actor, instruction):
        raise LeadershipRefused(_("只有批示指定的承办单位可以回复。"))
    if instruction.status != InstructionStatus.OPEN:
        raise ValidationError(_("该阅批不在待办理状态。"))
    text = _text(text, "text", _("办理结果"))
    with transaction.atomic():
        instruction.status = InstructionStatus.ANSWERED
        instruction.answer = text
        instruction.answered_at = timezone.now()
        instruction.save(update_fields=["status", "answer", "answered_at"])
        _entry(instruction, InstructionStep.ANSWERED, actor, text)
        record_event(actor=actor, action="leadership.instruction_answered", obj=instruction, data={})
    _ring(
        [instruction.leader_id],
        kind="leadership.instruction_answered",
        title=_("阅批已回复：%(unit)s") % {"unit": instruction.unit.name},
        body=text[:200],
        url=reverse("leadership:instruction", args=[instruction.pk]),
        dedupe_key=f"instruction-{instruction.pk}-answer-{instruction.entries.count()}",
    )
    return instruction


def _require_leader(actor: Any, instruction: Instruction) -> None:
    if actor.pk != instruction.leader_id:
        raise LeadershipRefused(_("只有作出批示的领导可以阅示回复。"))
    if instruction.status != InstructionStatus.ANSWERED:
        raise ValidationError(_("承办单位尚未回复。"))


def close_instruction(*, actor: Any, instruction: Instruction, note: str = "") -> Instruction:
    """The leader has read the answer and closes the instruction."""
    _require_leader(actor, instruction)
    with transaction.atomic():
        instruction.status = InstructionStatus.CLOSED
        instruction.closed_at = timezone.now()
        instruction.save(update_fields=["status", "closed_at"])
        _entry(instruction, InstructionStep.CLOSED, actor, (note or "").strip()[:MAX_TEXT])
        record_event(actor=actor, action="leadership.instruction_closed", obj=instruction, data={})
    return instruction


def return_instruction(
    *, actor: Any, instruction: Instruction, text: str, due_on: dt.date | None = None
) -> Instruction:
    """The leader sends the answer back for more; the unit has a task again (new deadline optional)."""
    _require_leader(actor, instruction)
    text = _text(text, "text", _("继续办理的要求"))
    if due_on is not None and due_on <= timezone.localdate():
        raise ValidationError({"due_on": _("办理期限须晚于今天。")})
    fields = ["status"]
    with transaction.atomic():
        instruction.status = InstructionStatus.OPEN
        if due_on is not None:
            instruction.due_on = due_on
            fields.append("due_on")
        instruction.save(update_fields=fields)
        _entry(instruction, InstructionStep.RETURNED, actor, text)
        record_event(actor=actor, action="leadership.instruction_returned", obj=instruction, data={})
    _ring(
        _unit_staff(instruction.unit),
        kind="leadership.instruction",
        title=_("领导要求继续办理：%(title)s") % {"title": instruction.petition.title},
        body=text[:200],
        url=reverse("leadership:instruction", args=[instruction.pk]),
    )
    return instruction


# --- duty rota (值班) ----------------------------------------------------------------------------


def save_shift(
    *,
    actor: Any,
    organisation: Organisation,
    date: dt.date,
    kind: str,
    leader: Any,
    staff_on_duty: str = "",
    phone: str = "",
    shift: DutyShift | None = None,
) -> DutyShift:
    """Put a shift on the rota (or change one): the leader on duty must be a leader in scope."""
    if not access.rota_units(actor).filter(pk=organisation.pk).exists():
        raise LeadershipRefused(_("只有本辖区的督办员、领导或信访工作机构可以安排值班。"))
    if shift is not None and not access.shifts_visible_to(actor).filter(pk=shift.pk).exists():
        raise LeadershipRefused(_("该值班安排不在您的工作范围内。"))
    leaders = User.objects.filter(
        is_active=True, roles__code=RoleCode.LEADER, organisation__path__startswith=access.scope_path(actor)
    )
    if leader is None or not leaders.filter(pk=leader.pk).exists():
        raise ValidationError({"leader": _("带班领导须为本辖区的领导。")})
    clash = DutyShift.objects.filter(organisation=organisation, date=date, kind=kind)
    if shift is not None:
        clash = clash.exclude(pk=shift.pk)
    if clash.exists():
        raise ValidationError({"date": _("该单位当天已有此班次的值班安排。")})
    with transaction.atomic():
        shift = shift or DutyShift()
        shift.organisation = organisation
        shift.date = date
        shift.kind = kind
        shift.leader = leader
        shift.staff_on_duty = (staff_on_duty or "").strip()[:200]
        shift.phone = (phone or "").strip()[:40]
        shift.save()
        record_event(
            actor=actor,
            action="leadership.shift_saved",
            obj=shift,
            data={"date": date.isoformat(), "kind": kind, "leader": leader.get_username()},
        )
    return shift


def log_duty(
    *,
    actor: Any,
    shift: DutyShift,
    at: dt.datetime,
    happened: str,
    action_taken: str = "",
    handed_over_to: str = "",
    petitions: Iterable[Any] = (),
) -> DutyLogEntry:
    """Write an entry of the duty log (领导值班记录) of a shift in the actor's scope."""
    if not access.shifts_visible_to(actor).filter(pk=shift.pk).exists():
        raise LeadershipRefused(_("该值班安排不在您的工作范围内。"))
    happened = _text(happened, "happened", _("值班情况"))
    if at is None:
        raise ValidationError({"at": _("请填写时间。")})
    if timezone.is_naive(at):
        at = timezone.make_aware(at)
    petitions = list(petitions)
    visible = set(
        access.visible_petitions(actor).filter(pk__in=[p.pk for p in petitions]).values_list("pk", flat=True)
    )
    if len(visible) != len({p.pk for p in petitions}):
        raise ValidationError({"petitions": _("涉及的信访事项须在您的工作范围内。")})
    with transaction.atomic():
        entry = DutyLogEntry.objects.create(
            shift=shift,
            at=at,
            happened=happened,
            action_taken=(action_taken or "").strip()[:MAX_TEXT],
            handed_over_to=(handed_over_to or "").strip()[:100],
            recorded_by=actor,
        )
        if petitions:
            entry.petitions.set(petitions)
        record_event(
            actor=actor,
            action="leadership.duty_logged",
            obj=entry,
            data={"shift": shift.pk, "petitions": [p.number for p in petitions]},
        )
    return entry
