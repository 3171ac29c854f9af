"""Supervision services (督办, 《信访工作条例》第三十九条、第四十条): one function per action, called by
the staff pages, the API and the daily job alike.

Each runs through ``engine.perform``: the petition row is locked, state/side/role/version and the
guards of ``transitions`` are checked, and the notice rows change in the same transaction as the
timeline event and the audit event.  The notice is re-read *under that lock* before it changes, so
two people deciding on the same answer (or two workers escalating the same notice) cannot both win.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.conf import settings
from django.db.models import QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

from xinfang.organisations.choices import OrganisationKind, RoleCode
from xinfang.organisations.models import Organisation, User
from xinfang.petitions.choices import InvolvementReason
from xinfang.petitions.models import Involvement, Petition
from xinfang.workflow import deadline_records
from xinfang.workflow.calendar import add_working_days
from xinfang.workflow.engine import Effect, System, TransitionRefused, handling_organisation, perform
from xinfang.workflow.models import DeadlineKind, DeadlineOutcome, DeadlineRecord

from .models import (
    LIVE_NOTICE_STATUSES,
    EscalationLevel,
    FeedbackDecision,
    NoticeKind,
    NoticeStatus,
    SupervisionFeedback,
    SupervisionNotice,
)
from .transitions import answerable, liftable, reviewable

# Working days the unit has to report back when the supervisor gives no date.
DEFAULT_RESPONSE_DAYS = 5


def escalation_days() -> int:
    """Working days after the unit's leaders were told before the level above is told."""
    return int(getattr(settings, "XINFANG_SUPERVISION_ESCALATION_DAYS", 3))


def default_respond_by(today: dt.date | None = None) -> dt.date:
    return add_working_days(today or timezone.localdate(), DEFAULT_RESPONSE_DAYS)


def _text(value: str | None, message: str, field: str) -> str:
    text = (value or "").strip()
    if not text:
        raise TransitionRefused(message, code="missing_reason", params={"field": field})
    return text


def _future(respond_by: dt.date | None, field: str = "respond_by") -> dt.date:
    if respond_by is None:
        return default_respond_by()
    if respond_by <= timezone.localdate():
        raise TransitionRefused(
            _("反馈期限须晚于今天（{today}）。").format(today=timezone.localdate().isoformat()),
            code="invalid_date",
            params={"field": field},
        )
    return respond_by


def leader_choices(office: Organisation) -> QuerySet[User]:
    """Who may be named the leader of a listed supervision (挂牌督办) issued by ``office``: the
    leaders of that petition office or of the government it belongs to (Art. 39 ¶3)."""
    bodies = [office.pk] + ([office.parent_id] if office.parent_id else [])
    return (
        User.objects.filter(is_active=True, organisation_id__in=bodies, roles__code=RoleCode.LEADER)
        .select_related("organisation")
        .distinct()
        .order_by("organisation__path", "username")
    )


def _pick(candidates: QuerySet[SupervisionNotice], notice: Any, none_message: str) -> SupervisionNotice:
    """The one notice an action is about, locked: the one named (an id or an instance, which must be
    among ``candidates``), or the only candidate when none is named."""
    candidates = candidates.select_for_update().select_related("office", "unit")
    if notice not in (None, ""):
        pk = getattr(notice, "pk", notice)
        try:
            found = candidates.filter(pk=int(pk)).first()
        except (TypeError, ValueError):
            found = None
        if found is None:
            raise TransitionRefused(none_message, code="invalid_notice", params={"field": "notice"})
        return found
    found = list(candidates[:2])
    if not found:
        raise TransitionRefused(none_message, code="invalid_notice", params={"field": "notice"})
    if len(found) > 1:
        raise TransitionRefused(
            _("该信访事项有多份督办通知可供办理，请选择要办理的督办通知。"),
            code="choose_notice",
            params={"field": "notice"},
        )
    return found[0]


def _notice_data(notice: SupervisionNotice, **extra: Any) -> dict[str, Any]:
    return {
        "notice": notice.pk,
        "kind": notice.kind,
        "office": notice.office.name,
        "unit": notice.unit.name,
        "respond_by": notice.respond_by.isoformat(),
        **extra,
    }


# --- the unit's response deadline as a record (issue #9 §1) -------------------------------------
# Each period the unit has to answer a notice is a ``DeadlineRecord`` (kind SUPERVISION, reference =
# the notice), written in the action's transaction; the stats receiver of ``transition_performed``
# then marks its due day for the roll-up (figures ``supervision_due``/``supervision_on_time``).


def _open_response_deadline(petition: Petition, notice: SupervisionNotice) -> None:
    deadline_records.open_record(
        petition, kind=DeadlineKind.SUPERVISION, organisation=notice.unit,
        started_on=timezone.localdate(), due_on=notice.respond_by, reference=notice.pk,
    )  # fmt: skip


def _close_response_deadline(
    petition: Petition, notice: SupervisionNotice, *, user: Any, action: str
) -> None:
    """The unit answered: its open response deadline is met or late by the notice's date."""
    deadline_records.close_records(
        petition, kind=DeadlineKind.SUPERVISION, user=user, action=action, reference=notice.pk
    )


def end_response_deadlines(petition: Petition, *, user: Any, action: str, notice: Any = None) -> None:
    """The unit no longer owes an answer (the notice lifted, the petition ended): an open response
    deadline still within its date falls away (void, neither met nor missed).  One already past its
    date had been missed before the obligation ended, so it is closed as late: lifting an ignored
    催办 to issue a 挂牌督办 must not wipe the unit's violation (evidence for Arts. 43-45)."""
    records = DeadlineRecord.objects.filter(
        petition=petition, kind=DeadlineKind.SUPERVISION, closed_on__isnull=True
    )
    if notice is not None:
        records = records.filter(reference=notice.pk)
    today = timezone.localdate()
    for record in records:
        outcome = DeadlineOutcome.VOID if record.due_on >= today else DeadlineOutcome.LATE
        deadline_records.close(record, on=today, user=user, action=action, outcome=outcome)


# --- the actions --------------------------------------------------------------------------------


def supervise(
    *,
    user: Any,
    number: str,
    kind: str,
    requirements: str,
    respond_by: dt.date | None = None,
    leader: Any = None,
    published: bool = False,
    version: int | None = None,
) -> SupervisionNotice:
    """督办: the user's petition office issues a notice to the body handling the petition.

    ``respond_by`` must be after today (default: 5 working days); a listed supervision (挂牌督办)
    names a leader of the issuing office or of its government.  An office has at most one live
    notice per petition: to make it heavier (催办 → 挂牌督办) it lifts the first one.
    """
    created: list[SupervisionNotice] = []

    def apply(petition: Petition) -> Effect:
        office = user.organisation
        if kind not in NoticeKind.values:
            raise TransitionRefused(_("请选择督办方式。"), code="invalid_kind", params={"field": "kind"})
        text = _text(requirements, _("请填写督办要求。"), "requirements")
        due = _future(respond_by)
        named = None
        if kind == NoticeKind.LISTED and leader in (None, ""):
            raise TransitionRefused(
                _("挂牌督办须明确一名挂牌领导（本机关或本级政府的领导）。"),
                code="missing_leader",
                params={"field": "leader"},
            )
        if leader not in (None, ""):
            key = getattr(leader, "pk", None)
            choices = leader_choices(office)
            named = (
                choices.filter(pk=key).first()
                if key is not None
                else choices.filter(username=str(leader).strip()).first()
            )
            if named is None:
                raise TransitionRefused(
                    _("挂牌领导须是本机关或本级政府的领导。"),
                    code="invalid_leader",
                    params={"field": "leader"},
                )
        existing = SupervisionNotice.objects.filter(
            petition=petition, office=office, status__in=LIVE_NOTICE_STATUSES
        ).first()
        if existing is not None:
            raise TransitionRefused(
                _("本机关对该信访事项的{kind}尚未办结；如需改变督办方式，请先解除原督办。").format(
                    kind=existing.get_kind_display()
                ),
                code="already_supervised",
            )
        notice = SupervisionNotice.objects.create(
            petition=petition,
            kind=kind,
            office=office,
            issued_by=user,
            unit=handling_organisation(petition),
            requirements=text,
            respond_by=due,
            leader=named,
            published=bool(published),
        )
        created.append(notice)
        _open_response_deadline(petition, notice)
        data = _notice_data(notice, published=notice.published)
        if named is not None:
            data["leader"] = str(named)
        return Effect(comment=text, data=data, organisation=office)

    perform(user=user, number=number, action="supervise", apply=apply, version=version)
    return created[0]


def answer_supervision(
    *, user: Any, number: str, text: str, notice: Any = None, version: int | None = None
) -> SupervisionFeedback:
    """督办反馈: the body the notice is addressed to reports its progress; the notice then waits
    for the issuing office's decision."""
    written: list[SupervisionFeedback] = []

    def apply(petition: Petition) -> Effect:
        body = _text(text, _("请填写督办反馈内容（办理进展、结果）。"), "text")
        chosen = _pick(answerable(petition, user), notice, _("请选择发给本单位的待反馈督办通知。"))
        feedback = SupervisionFeedback.objects.create(notice=chosen, text=body, submitted_by=user)
        chosen.status = NoticeStatus.ANSWERED
        chosen.save(update_fields=["status"])
        # Met or late by the notice's date, closed by whoever answered for the unit.
        _close_response_deadline(petition, chosen, user=user, action="answer_supervision")
        written.append(feedback)
        return Effect(comment=body, data=_notice_data(chosen, feedback=feedback.pk))

    perform(user=user, number=number, action="answer_supervision", apply=apply, version=version)
    return written[0]


def _decide(
    *,
    user: Any,
    number: str,
    action: str,
    notice: Any,
    note: str,
    decide: Any,
    version: int | None,
) -> SupervisionNotice:
    decided: list[SupervisionNotice] = []

    def apply(petition: Petition) -> Effect:
        chosen = _pick(reviewable(petition, user), notice, _("请选择本机关督办、待审核反馈的督办通知。"))
        feedback = chosen.feedback.filter(decision=FeedbackDecision.PENDING).order_by("-submitted_at").first()
        extra = decide(chosen, feedback)
        decided.append(chosen)
        return Effect(comment=note, data=_notice_data(chosen, **extra), organisation=chosen.office)

    perform(user=user, number=number, action=action, apply=apply, version=version)
    return decided[0]


def accept_supervision_answer(
    *, user: Any, number: str, notice: Any = None, comment: str = "", version: int | None = None
) -> SupervisionNotice:
    """认可督办反馈: the issuing office accepts the unit's report; the notice is closed (已办结).
    A listed supervision stays on the listed list until the office lifts it (摘牌)."""
    now = timezone.now()
    note = (comment or "").strip()

    def decide(chosen: SupervisionNotice, feedback: SupervisionFeedback | None) -> dict[str, Any]:
        if feedback is not None:
            feedback.decision = FeedbackDecision.ACCEPTED
            feedback.decided_by, feedback.decided_at, feedback.decision_note = user, now, note
            feedback.save(update_fields=["decision", "decided_by", "decided_at", "decision_note"])
        chosen.status, chosen.closed_at = NoticeStatus.ACCEPTED, now
        chosen.save(update_fields=["status", "closed_at"])
        return {"feedback": getattr(feedback, "pk", None)}

    return _decide(
        user=user, number=number, action="accept_supervision_answer", notice=notice, note=note,
        decide=decide, version=version,
    )  # fmt: skip


def return_supervision_answer(
    *,
    user: Any,
    number: str,
    reasons: str,
    respond_by: dt.date | None = None,
    notice: Any = None,
    version: int | None = None,
) -> SupervisionNotice:
    """退回督办反馈: the report does not meet the requirements; the notice is open again with a new
    date (default 5 working days), and its escalation starts afresh from that date."""
    now = timezone.now()
    note = _text(reasons, _("请填写退回理由（反馈哪些方面不符合督办要求）。"), "reasons")
    due = _future(respond_by)

    def decide(chosen: SupervisionNotice, feedback: SupervisionFeedback | None) -> dict[str, Any]:
        if feedback is not None:
            feedback.decision = FeedbackDecision.RETURNED
            feedback.decided_by, feedback.decided_at, feedback.decision_note = user, now, note
            feedback.save(update_fields=["decision", "decided_by", "decided_at", "decision_note"])
        chosen.status, chosen.respond_by = NoticeStatus.OPEN, due
        chosen.escalation_level, chosen.escalated_at = EscalationLevel.NONE, None
        chosen.save(update_fields=["status", "respond_by", "escalation_level", "escalated_at"])
        # A return always sets a new date: the unit has a new period to answer in.  The first
        # record keeps its own outcome (the answer was on time or not); the new one starts today.
        _open_response_deadline(chosen.petition, chosen)
        return {"feedback": getattr(feedback, "pk", None)}

    return _decide(
        user=user, number=number, action="return_supervision_answer", notice=notice, note=note,
        decide=decide, version=version,
    )  # fmt: skip


def lift_supervision(
    *, user: Any, number: str, reasons: str, notice: Any = None, version: int | None = None
) -> SupervisionNotice:
    """解除督办 (摘牌 for listed supervision): the issuing office ends its notice, with a reason."""
    lifted: list[SupervisionNotice] = []

    def apply(petition: Petition) -> Effect:
        note = _text(reasons, _("请填写解除督办的理由。"), "reasons")
        chosen = _pick(liftable(petition, user), notice, _("请选择本机关发出、尚未解除的督办通知。"))
        previous = chosen.status
        chosen.status, chosen.lifted_at, chosen.lifted_by, chosen.lift_reason = (
            NoticeStatus.LIFTED, timezone.now(), user, note,
        )  # fmt: skip
        chosen.save(update_fields=["status", "lifted_at", "lifted_by", "lift_reason"])
        end_response_deadlines(petition, user=user, action="lift_supervision", notice=chosen)
        lifted.append(chosen)
        return Effect(comment=note, data=_notice_data(chosen, previous=previous), organisation=chosen.office)

    perform(user=user, number=number, action="lift_supervision", apply=apply, version=version)
    return lifted[0]


# --- escalation (the daily job) -------------------------------------------------------------------


def _government_of(org: Organisation) -> Organisation | None:
    """The nearest level of government at or above ``org``."""
    for ancestor in reversed(list(org.ancestors())):
        if ancestor.kind == OrganisationKind.GOVERNMENT:
            return ancestor
    return None


def office_above(unit: Organisation) -> Organisation | None:
    """The petition office of the government one level above the unit's own government (for a
    county department: the city's 信访局), or None at the top of the tree."""
    government = _government_of(unit)
    above = _government_of(government.parent) if government is not None and government.parent_id else None
    if above is None:
        return None
    return (
        Organisation.objects.filter(parent=above, kind=OrganisationKind.PETITION_OFFICE, is_active=True)
        .order_by("pk")
        .first()
    )


def unit_leaders(unit: Organisation) -> QuerySet[User]:
    """The leaders answerable for the unit: leaders of the unit itself, or, when it has none, of
    the nearest body above it that has (a department's leaders, else its government's)."""
    from xinfang.workflow.engine import leader_line

    for body in leader_line(unit):
        leaders = User.objects.filter(is_active=True, organisation=body, roles__code=RoleCode.LEADER)
        leaders = leaders.distinct()
        if leaders.exists():
            return leaders
    return User.objects.none()


def escalation_due(notice: SupervisionNotice, today: dt.date) -> int | None:
    """The level ``notice`` should rise to today, or None: 0→1 once respond_by has passed, 1→2 once
    ``escalation_days()`` further working days have passed since the unit's leaders were told."""
    if notice.status != NoticeStatus.OPEN or notice.respond_by >= today:
        return None
    if notice.escalation_level == EscalationLevel.NONE:
        return EscalationLevel.UNIT_LEADERS
    if notice.escalation_level == EscalationLevel.UNIT_LEADERS:
        told = timezone.localtime(notice.escalated_at).date() if notice.escalated_at else notice.respond_by
        if today >= add_working_days(told, escalation_days()):
            return EscalationLevel.LEVEL_ABOVE
    return None


def still_handles(notice: SupervisionNotice, petition: Petition) -> bool:
    """Whether the body a notice is addressed to still handles the petition (it or a body inside
    it), i.e. whether it can still answer the notice."""
    return handling_organisation(petition).is_within(notice.unit)


class NothingToEscalate(TransitionRefused):
    """The notice was answered, lifted or already escalated meanwhile (another worker, a user)."""


def escalate_supervision(*, number: str, notice: int, today: dt.date | None = None) -> int | None:
    """Raise one overdue notice by one level, as Xinfang itself (``engine.System``): level 1 tells
    the unit's leaders, level 2 tells the petition office one level above, which also gains sight
    of the petition (an Involvement as supervisor).  Returns the new level, or None when there was
    nothing to do (checked again under the row lock, so a second worker or a second run the same
    day changes nothing)."""
    today = today or timezone.localdate()
    outcome: list[int] = []

    def apply(petition: Petition) -> Effect:
        chosen = (
            SupervisionNotice.objects.select_for_update()
            .select_related("office", "unit", "petition")
            .filter(pk=notice, petition=petition)
            .first()
        )
        level = escalation_due(chosen, today) if chosen is not None else None
        if level is None:
            raise NothingToEscalate(_("该督办通知无需升级。"), code="not_due")
        if not still_handles(chosen, petition):
            # The petition went to another body after the notice (an objection, a new routing):
            # the supervised unit can no longer answer, so chasing its leaders would be wrong.  The
            # supervision panel asks the issuing office to lift it or supervise the new body.
            raise NothingToEscalate(_("被督办单位已不再承办该信访事项。"), code="unit_moved")
        told: list[User] = []
        extra: dict[str, Any] = {"level": int(level)}
        if level == EscalationLevel.UNIT_LEADERS:
            told = list(unit_leaders(chosen.unit))
        else:
            above = office_above(chosen.unit)
            if above is not None:
                Involvement.objects.get_or_create(
                    petition=petition, organisation=above, reason=InvolvementReason.SUPERVISOR,
                    defaults={"organisation_path": above.path},
                )  # fmt: skip
                roles = [RoleCode.SUPERVISOR, RoleCode.LEADER]
                staff = User.objects.filter(is_active=True, organisation=above, roles__code__in=roles)
                told = list(staff.distinct())
                extra["office_above"] = above.name
        chosen.escalation_level, chosen.escalated_at = level, timezone.now()
        chosen.save(update_fields=["escalation_level", "escalated_at"])
        _tell(chosen, int(level), told)
        outcome.append(int(level))
        extra["told"] = [u.get_username() for u in told]
        return Effect(
            comment=_("督办通知逾期未反馈（反馈期限{date}），已升级。").format(
                date=chosen.respond_by.isoformat()
            ),
            data=_notice_data(chosen, **extra),
            organisation=chosen.office,
        )

    try:
        perform(user=System(), number=number, action="escalate_supervision", apply=apply)
    except TransitionRefused:
        # Answered or lifted meanwhile (no_open_notice, not_due), or the petition reached a final
        # state (wrong_state): a notice on a closed petition is no longer chased.
        return None
    return outcome[0]


def _tell(notice: SupervisionNotice, level: int, users: list[User]) -> None:
    """Ring the bell of whoever the escalation reaches (in the action's transaction)."""
    if not users:
        return
    from django.urls import reverse

    from xinfang.notifications.services import notify

    if level == EscalationLevel.UNIT_LEADERS:
        title = _("督办逾期未反馈：{number}").format(number=notice.petition.number)
        body = _("{office}对{unit}的{kind}已超过反馈期限（{date}），请督促尽快反馈。")
    else:
        title = _("下级单位督办逾期未反馈：{number}").format(number=notice.petition.number)
        body = _("{office}对{unit}的{kind}逾期未反馈，已报上一级信访部门，请跟踪督办。")
    notify(
        users,
        kind="supervision_escalated",
        title=title,
        body=body.format(
            office=notice.office.name,
            unit=notice.unit.name,
            kind=notice.get_kind_display(),
            date=notice.respond_by.isoformat(),
        ),  # fmt: skip
        url=reverse("petitions:detail", kwargs={"number": notice.petition.number}),
        petition=notice.petition,
        dedupe_key=f"supervision:{notice.pk}:escalated:{level}:{notice.respond_by.isoformat()}",
        email=True,
        sms=True,  # an unanswered notice going up is urgent (issue #8 §4)
    )
