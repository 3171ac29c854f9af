"""One service per transition of the procedure (so far: disposal by the petition office,
acceptance or objection by the responsible unit, extension, reply and the completion report).
Staff pages and the API call these; each runs through ``engine.perform``, which checks state, role,
side and version and writes the timeline and the audit log in the same transaction."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _

from xinfang.audit.services import chain_at_end
from xinfang.organisations.choices import RoleCode
from xinfang.organisations.models import Organisation
from xinfang.petitions import services as intake
from xinfang.petitions.choices import FINAL_STATUSES, EventKind, InvolvementReason, Status
from xinfang.petitions.drafts import PetitionDraft
from xinfang.petitions.models import Involvement, Petition, PetitionEvent, Recusal

from . import appeals, disputes, routing
from .deadline_records import track as track_deadlines
from .deadlines import Deadline, due_date, extend, rule_for
from .engine import Effect, TransitionRefused, handling_organisation, open_assignment, perform
from .models import (
    Assignment,
    AssignmentKind,
    DecisionLetter,
    ExtensionDecision,
    ExtensionRequest,
    ReplyOutcome,
    Step,
)
from .signals import transition_performed


def register(
    *,
    draft: PetitionDraft,
    office: Organisation,
    actor: Any = None,
    public: bool = False,
    keep_written: bool = False,
    **options: Any,
) -> intake.Registration:
    """登记: register a petition and start the petition office's disposal clock (Art. 22): the
    deadline is counted from the date of receipt under the office's rule profile and calendar.

    The returned petition carries the rows just written (petitioners, events, attachments) as if
    prefetched, for the receivers inside the transaction; they are forgotten on return unless
    ``keep_written`` (the API's 201 body reads them, then forgets them: ``intake.forget_written``),
    so a caller that goes on with the petition never reads a stale list."""
    due_on = due_date(Step.DISPOSAL, draft.received_on, office).due_on

    then = options.pop("before_numbering", None)

    def open_deadline(petition: Petition) -> None:
        track_deadlines(petition, action="register", user=actor)
        if then is not None:
            then(petition)

    # The deadline record needs no number, so it is written before the number is taken; the
    # receivers below need it (the petitioner's SMS names it) and run after, with the audit event
    # chained last of all (chain_at_end): docs/architecture.md, "Numbering".
    with transaction.atomic(), chain_at_end():
        registration = intake.register_petition(
            draft=draft, office=office, actor=actor, public=public, due_on=due_on,
            before_numbering=open_deadline, keep_written=True, **options,
        )  # fmt: skip
        # Registration is not a transition, but apps above (notifications: the petitioner's SMS)
        # react to it like one, inside the same transaction: action "register", source "".
        transition_performed.send(
            sender=Petition, petition=registration.petition, action="register", user=actor,
            event=registration.event, source="",
        )  # fmt: skip
    if not keep_written:
        intake.forget_written(registration.petition)
    return registration


def _required(text: str, what: str, field: str | None = None) -> str:
    """``text`` stripped, or a ``missing_reason`` refusal; ``field`` names the input for the API
    when an action requires more than one text."""
    text = (text or "").strip()
    if not text:
        raise TransitionRefused(
            _("请填写{what}。").format(what=what), code="missing_reason", params={"field": field}
        )
    return text


def _check_unit(petition: Petition, unit: Organisation) -> None:
    """A unit may receive the petition: active, not the office itself, never the accused
    organisation of a confidential report nor anything inside it (条例 Art. 30 ¶3), and inside the
    office's area (routing.allowed_units, issue #7 point 4) — for a report against the office or
    its government, only the level above (point 2).  Checked here, so for every caller."""
    if not unit.is_active or unit.pk == petition.office_id:
        raise TransitionRefused(_("请选择有效的责任单位。"), code="invalid_unit")
    subject = petition.subject_organisation
    if petition.is_confidential and subject is not None and unit.is_within(subject):
        raise TransitionRefused(
            _("检举控告不得转送、交办给被检举控告的单位或其下属单位。"), code="accused_unit"
        )
    if not routing.allowed_units(petition).filter(pk=unit.pk).exists():
        if routing.implicates_office(petition):
            raise TransitionRefused(
                _("该检举控告涉及本机构或本级政府，只能转送上一级信访工作机构或纪检监察机关。"),
                code="must_go_up",
            )
        raise TransitionRefused(
            _(
                "{unit}不在本机构的转送交办范围内：只能转送、交办本级政府所属单位，或按规定导入政法、纪检监察机关。"
            ).format(unit=unit.name),
            code="outside_area",
        )


def _route(
    petition: Petition,
    *,
    user: Any,
    unit: Organisation,
    kind: str,
    report_due_on: Any = None,
    end_reason: str = "rerouted",
) -> None:
    # ``rerouted`` marks the open assignment as misrouted (routing.MISROUTED); a caller that ends it
    # for another reason (re-handling ordered by review) says so.
    Assignment.objects.filter(petition=petition, ended_at__isnull=True).update(
        ended_at=timezone.now(), end_reason=end_reason
    )
    Assignment.objects.create(
        petition=petition, unit=unit, kind=kind, report_required=kind == AssignmentKind.ASSIGN,
        report_due_on=report_due_on, assigned_by=user,
    )  # fmt: skip
    Involvement.objects.get_or_create(
        petition=petition, organisation=unit, reason=InvolvementReason.UNIT,
        defaults={"organisation_path": unit.path},
    )  # fmt: skip
    petition.due_on = due_date(Step.UNIT_ACCEPTANCE, timezone.localdate(), unit).due_on


def forward(
    *, user: Any, number: str, unit: Organisation, comment: str = "", version: int | None = None
) -> Petition:
    """转送: send the petition to the unit with authority, no result report required (Art. 22)."""

    def apply(petition: Petition) -> Effect:
        _check_unit(petition, unit)
        _route(petition, user=user, unit=unit, kind=AssignmentKind.FORWARD)
        return Effect(
            public_note=_("您的信访事项已转送{unit}办理。").format(unit=unit.name),
            comment=comment, data={"unit": unit.pk},
        )  # fmt: skip

    return perform(user=user, number=number, action="forward", apply=apply, version=version)


def assign(
    *,
    user: Any,
    number: str,
    unit: Organisation,
    report_due_on: Any = None,
    comment: str = "",
    version: int | None = None,
) -> Petition:
    """交办: send the petition to the unit and require a completion report by a set date (Art. 22(3))."""

    def apply(petition: Petition) -> Effect:
        _check_unit(petition, unit)
        if report_due_on is not None and report_due_on <= timezone.localdate():
            raise TransitionRefused(_("限办日期应晚于今天。"), code="invalid_date")
        _route(petition, user=user, unit=unit, kind=AssignmentKind.ASSIGN, report_due_on=report_due_on)
        return Effect(
            public_note=_("您的信访事项已交办{unit}办理。").format(unit=unit.name),
            comment=comment,
            data={"unit": unit.pk, "report_due_on": report_due_on.isoformat() if report_due_on else None},
        )

    return perform(user=user, number=number, action="assign", apply=apply, version=version)


def name_subject(
    *,
    user: Any,
    number: str,
    subject_organisation: Organisation | None = None,
    no_subject_organisation: bool = False,
    subject_name: str = "",
    subject_person: str = "",
    version: int | None = None,
) -> Petition:
    """确认被检举控告对象: the registering office names the organisation a report accuses, or states
    that it names none, before the report is disposed of (Art. 30 ¶3; issue #7 point 1).  The scope
    then hides the report from the accused and everything inside it, routing refuses them, and a
    report against the office or its government can only go up.  A blank name or person leaves the
    recorded one as it is; the accused person is stored encrypted and kept out of the timeline."""
    if (subject_organisation is None) == (not no_subject_organisation):
        raise TransitionRefused(
            _("请选择被检举控告的单位，或者确认检举控告未指向具体单位（二者选一）。"),
            code="missing_subject", params={"field": "subject_organisation"},
        )  # fmt: skip

    def apply(petition: Petition) -> Effect:
        petition.subject_organisation, petition.subject_confirmed = subject_organisation, True
        fields = ["subject_organisation", "subject_confirmed"]
        if (subject_name or "").strip():
            petition.subject_name = subject_name.strip()[:200]
            fields.append("subject_name")
        if (subject_person or "").strip():
            petition.subject_person = subject_person.strip()[:200]
            fields.append("subject_person")
        data = {
            "subject_organisation": subject_organisation.pk if subject_organisation else None,
            "person_named": bool(petition.subject_person),
        }
        return Effect(fields=tuple(fields), data=data)

    return perform(user=user, number=number, action="name_subject", apply=apply, version=version)


def accept(*, user: Any, number: str, comment: str = "", version: int | None = None) -> Petition:
    """受理 by the petition office itself, its own matter: starts the 60-day handling clock (Art. 34)."""

    def apply(petition: Petition) -> Effect:
        petition.due_on = due_date(Step.HANDLING, timezone.localdate(), petition.office).due_on
        return Effect(
            public_note=_("{office}已受理您的信访事项，将依法办理并书面答复。").format(
                office=petition.office.name
            ),
            comment=comment,
        )

    return perform(user=user, number=number, action="accept", apply=apply, version=version)


def decline(*, user: Any, number: str, reasons: str, version: int | None = None) -> Petition:
    """不予受理, with written reasons the petitioner is told."""
    reasons = _required(reasons, _("不予受理的理由"))

    def apply(petition: Petition) -> Effect:
        petition.due_on = None
        return Effect(
            public_note=_("不予受理。理由：{reasons}").format(reasons=reasons), data={"reasons": reasons}
        )

    return perform(user=user, number=number, action="decline", apply=apply, version=version)


def redirect(*, user: Any, number: str, channel: str, version: int | None = None) -> Petition:
    """告知: the matter belongs to a lawful channel (court, arbitration, administrative review …) and
    must not be accepted as a petition (Art. 22 ¶2, Art. 31)."""
    channel = _required(channel, _("应当通过的法定途径"))

    def apply(petition: Petition) -> Effect:
        petition.due_on = None
        return Effect(
            public_note=_("您反映的事项应当通过以下途径依法解决：{channel}").format(channel=channel),
            data={"channel": channel},
        )

    return perform(user=user, number=number, action="redirect", apply=apply, version=version)


def unit_accept(*, user: Any, number: str, comment: str = "", version: int | None = None) -> Petition:
    """The responsible unit confirms receipt and accepts (Art. 23 ¶3): the handling clock starts."""

    def apply(petition: Petition) -> Effect:
        unit = open_assignment(petition).unit
        petition.due_on = due_date(Step.HANDLING, timezone.localdate(), unit).due_on
        return Effect(
            public_note=_("{unit}已受理您的信访事项，将依法办理并书面答复。").format(unit=unit.name),
            comment=comment, organisation=unit,
        )  # fmt: skip

    return perform(user=user, number=number, action="unit_accept", apply=apply, version=version)


def return_petition(*, user: Any, number: str, reasons: str, version: int | None = None) -> Petition:
    """退回: the unit objects that the matter is outside its remit, with detailed reasons, within
    5 working days of receiving it (Art. 23 ¶3).  The petition office then decides."""
    reasons = _required(reasons, _("退回的详细理由"))

    def apply(petition: Petition) -> Effect:
        # the objection window is the transition's guard (transitions._objection_in_window), so that
        # allowed_actions stops offering 退回 once it has passed
        assignment = open_assignment(petition)
        assignment.ended_at, assignment.end_reason = timezone.now(), "returned"
        assignment.save(update_fields=["ended_at", "end_reason"])
        petition.due_on = due_date(Step.DISPOSAL, timezone.localdate(), petition.office).due_on
        return Effect(comment=reasons, organisation=assignment.unit, data={"unit": assignment.unit_id})

    return perform(user=user, number=number, action="return", apply=apply, version=version)


def overrule_return(*, user: Any, number: str, comment: str, version: int | None = None) -> Petition:
    """The petition office does not agree with the objection: the same unit must handle it."""
    comment = _required(comment, _("不同意退回的理由"))

    def apply(petition: Petition) -> Effect:
        last = Assignment.objects.filter(petition=petition).order_by("-assigned_at", "-pk").first()
        if last is None:
            raise TransitionRefused(_("没有可恢复的转送交办记录。"), code="wrong_state")
        _route(petition, user=user, unit=last.unit, kind=last.kind, report_due_on=last.report_due_on)
        target = Status.ASSIGNED if last.kind == AssignmentKind.ASSIGN else Status.FORWARDED
        return Effect(comment=comment, target=target, data={"unit": last.unit_id})

    return perform(user=user, number=number, action="overrule_return", apply=apply, version=version)


# --- handling: extension, reply, completion report (Arts. 22(3), 32, 34) -------------------------


def _pending_extension(petition: Petition) -> ExtensionRequest:
    return ExtensionRequest.objects.select_for_update().get(
        petition=petition, decision=ExtensionDecision.PENDING
    )


def _handling_started_on(petition: Petition) -> Any:
    """The day the handling period now running started: the last acceptance (受理, by the office or
    the unit) or re-handling ordered by review (reopen_handling); None if neither is recorded."""
    at = (
        PetitionEvent.objects.filter(petition=petition)
        .filter(Q(kind=EventKind.ACCEPTED) | Q(kind=EventKind.REVIEWED, data__outcome="rehandle"))
        .order_by("-at", "-pk")
        .values_list("at", flat=True)
        .first()
    )
    return timezone.localdate(at) if at is not None else None


def handling_period(petition: Petition, organisation: Organisation) -> Deadline:
    """The handling period now running, as counted, so that its statutory end (``nominal_end``, the
    60th day) is known and not only the due date moved past a holiday (民法典 Art. 203).

    Recounted from the day handling started; when that no longer gives the stored due date (the rule
    was changed since, or the date was set otherwise) the stored date is taken as the period's end.
    """
    started = _handling_started_on(petition)
    if started is not None:
        period = due_date(Step.HANDLING, started, organisation)
        if period.due_on == petition.due_on:
            return period
    end = petition.due_on or due_date(Step.HANDLING, timezone.localdate(), organisation).due_on
    return Deadline(
        step=Step.HANDLING, start=end, due_on=end, rule=rule_for(Step.HANDLING, organisation), length=0,
        nominal_end=end,
    )  # fmt: skip


def request_extension(
    *, user: Any, number: str, reasons: str, days: int | None, version: int | None = None
) -> Petition:
    """申请延期: the handling body asks its leader for more time, with the reason and the days (at
    most the EXTENSION rule of its profile).  Only one extension per petition (Art. 34)."""
    reasons = _required(reasons, _("延期理由"))

    def apply(petition: Petition) -> Effect:
        organisation = handling_organisation(petition)
        rule = rule_for(Step.EXTENSION, organisation)
        if days is None or not 1 <= days <= rule.length:
            raise TransitionRefused(
                _("延长期限应在1至{max}{unit}之间（{source}）。").format(
                    max=rule.length, unit=rule.get_unit_display(), source=rule.source
                ),
                code="extension_too_long",
            )
        ExtensionRequest.objects.create(
            petition=petition, organisation=organisation, days=days, reason=reasons, requested_by=user,
            old_due_on=petition.due_on,
        )  # fmt: skip
        return Effect(comment=reasons, organisation=organisation, data={"days": days})

    return perform(user=user, number=number, action="request_extension", apply=apply, version=version)


def approve_extension(*, user: Any, number: str, comment: str = "", version: int | None = None) -> Petition:
    """批准延期: a leader of the handling body's line approves — never the one who asked (the
    transition's actor guard) —; the days asked for are added to the end of the statutory handling
    period, the 60th day, not to the date a holiday moved it to (deadlines.extend; docs/procedure.md
    §8), and the petitioner is told the reason and the new date (Art. 34)."""

    def apply(petition: Petition) -> Effect:
        request = _pending_extension(petition)
        current = handling_period(petition, request.organisation)
        try:
            new_due_on = extend(current, organisation=request.organisation, days=request.days).due_on
        except ValidationError as exc:  # the rule was shortened since the request
            raise TransitionRefused(exc.messages[0], code="extension_too_long") from None
        request.decision, request.decided_by, request.decided_at = (
            ExtensionDecision.APPROVED,
            user,
            timezone.now(),
        )
        request.decision_note, request.old_due_on, request.new_due_on = comment, petition.due_on, new_due_on
        request.save()
        petition.due_on = new_due_on
        return Effect(
            public_note=_("您的信访事项办理期限已延长至{date}。延期理由：{reason}").format(
                date=new_due_on.isoformat(), reason=request.reason
            ),
            comment=comment, organisation=request.organisation,
            data={"days": request.days, "due_on": new_due_on.isoformat()},
        )  # fmt: skip

    return perform(user=user, number=number, action="approve_extension", apply=apply, version=version)


def reject_extension(*, user: Any, number: str, reasons: str, version: int | None = None) -> Petition:
    """不批准延期: the leader refuses, with reasons (internal); the handling deadline stays."""
    reasons = _required(reasons, _("不批准延期的理由"))

    def apply(petition: Petition) -> Effect:
        request = _pending_extension(petition)
        request.decision, request.decided_by, request.decided_at = (
            ExtensionDecision.REJECTED,
            user,
            timezone.now(),
        )
        request.decision_note = reasons
        request.save()
        return Effect(comment=reasons, organisation=request.organisation, data={"days": request.days})

    return perform(user=user, number=number, action="reject_extension", apply=apply, version=version)


def review_notice(organisation: Organisation, petition: Petition | None = None) -> str:
    """The right to request review (Art. 35): within the REVIEW_REQUEST period, from the body above
    the replying one — the one ``request_review`` will send the request to (appeals.reviewing_body:
    a petition office's own reply goes to the government above its own)."""
    rule = rule_for(Step.REVIEW_REQUEST, organisation)
    body = appeals.reviewing_body(organisation, petition)  # never the accused of a report
    reviewer = body.name if body is not None else _("上一级机关、单位")
    return _(
        "信访人对处理意见不服的，可以自收到本处理意见书之日起{days}{unit}内，向{reviewer}请求复查。"
    ).format(days=rule.length, unit=rule.get_unit_display(), reviewer=reviewer)


def reply(
    *,
    user: Any,
    number: str,
    outcome: str,
    facts: str,
    basis: str,
    opinion: str,
    request_summary: str = "",
    version: int | None = None,
) -> Petition:
    """答复: the handling body issues the written decision letter (处理意见书, Art. 32) — outcome
    (support / explain / not supported), facts found, legal or policy basis, the decision — with the
    right to request review.  The petitioner's windows (review request, Art. 35; evaluation) run
    from the day the letter reaches them, not from today: until its service is recorded
    (``appeals.serve_letter``, called by the documents app) no window runs and ``due_on`` is None."""
    if outcome not in ReplyOutcome.values:
        raise TransitionRefused(_("请选择处理结果。"), code="missing_outcome")
    facts = _required(facts, _("查明的事实"), "facts")
    basis = _required(basis, _("法律政策依据"), "basis")
    opinion = _required(opinion, _("处理意见"), "opinion")

    def apply(petition: Petition) -> Effect:
        organisation = handling_organisation(petition)
        notice = review_notice(organisation, petition)
        DecisionLetter.objects.create(
            petition=petition, organisation=organisation, outcome=outcome,
            request_summary=(request_summary or "").strip() or petition.content,
            facts=facts, basis=basis, opinion=opinion, review_notice=notice, issued_by=user,
            handling_due_on=petition.due_on,
        )  # fmt: skip
        petition.due_on = None  # the review-request window starts on service (appeals.serve_letter)
        return Effect(
            public_note=_("{unit}已对您的信访事项作出书面答复，处理结果：{outcome}。{notice}").format(
                unit=organisation.name, outcome=ReplyOutcome(outcome).label, notice=notice
            ),
            organisation=organisation, data={"outcome": outcome},
        )  # fmt: skip

    return perform(user=user, number=number, action="reply", apply=apply, version=version)


def approve_completion(*, user: Any, number: str, comment: str = "", version: int | None = None) -> Petition:
    """The petition office accepts the completion report of an assigned petition (Art. 22(3)): the
    assignment is closed (ended, reason ``completed``); the petition stays replied."""

    def apply(petition: Petition) -> Effect:
        assignment = open_assignment(petition)
        assignment.ended_at, assignment.end_reason = timezone.now(), "completed"
        assignment.save(update_fields=["ended_at", "end_reason"])
        return Effect(comment=comment, data={"unit": assignment.unit_id})

    return perform(user=user, number=number, action="approve_completion", apply=apply, version=version)


def reject_completion(*, user: Any, number: str, reasons: str, version: int | None = None) -> Petition:
    """退回重办: the office sends the report back and the unit handles the petition again.

    The handling deadline is the one that ran when the unit replied (kept on the decision letter),
    not a fresh 60 days: sending it back does not give the unit more time than the law allows.  If
    that date has already passed the petition is overdue at once, which is what the office should
    see.  The decision letter stays on record; the unit replies again with a new one.
    """
    reasons = _required(reasons, _("退回重办的理由"))

    def apply(petition: Petition) -> Effect:
        assignment = open_assignment(petition)
        letter = DecisionLetter.objects.filter(petition=petition).order_by("-issued_at", "-pk").first()
        petition.due_on = letter.handling_due_on if letter is not None else petition.due_on
        return Effect(
            public_note=_("您的信访事项已退回{unit}重新办理。").format(unit=assignment.unit.name),
            comment=reasons, data={"unit": assignment.unit_id},
        )  # fmt: skip

    return perform(user=user, number=number, action="reject_completion", apply=apply, version=version)


def reopen_handling(petition: Petition, *, user: Any, organisation: Organisation) -> Organisation:
    """Handling starts again at ``organisation`` (a review ordered it, 责令重新办理) with a fresh
    handling period; a unit other than the office gets an open assignment again."""
    if organisation.pk != petition.office_id:
        last = (
            Assignment.objects.filter(petition=petition, unit=organisation).order_by("-assigned_at").first()
        )
        kind = last.kind if last is not None else AssignmentKind.ASSIGN
        # The routing was right; only the handling is done again: not a misroute (issue #7 point 13).
        _route(petition, user=user, unit=organisation, kind=kind, end_reason="rehandled")
    petition.due_on = due_date(Step.HANDLING, timezone.localdate(), organisation).due_on
    return organisation


def record_agreement(
    *, user: Any, number: str, parties: str, terms: str, version: int | None = None
) -> Petition:
    """调解、和解 (Art. 33): the parties reached an agreement while the matter was handled or
    appealed.  Recorded as its own step — on the public timeline (parties and terms: the petitioner
    signed them) and in the audit log —; the state does not change.  The matter then ends by the
    office's ``appeals.conclude(conclusion="agreement")`` once the agreement is carried out; before
    the reply the handling body still replies (its letter records the agreement).  The document
    (调解/和解协议书) is drafted by the documents app, whose issue calls this."""
    parties = _required(parties, _("协议各方"), "parties")
    terms = _required(terms, _("协议内容"), "terms")

    def apply(petition: Petition) -> Effect:
        note = _("{parties}达成调解（和解）协议：{terms}。协议履行后，该信访事项将依法终结。").format(
            parties=parties, terms=terms.rstrip("。")
        )
        return Effect(public_note=note, data={"parties": parties, "terms": terms})

    return perform(user=user, number=number, action="record_agreement", apply=apply, version=version)


# --- closing without a reply, flags and recusal ------------------------------------------------


def _end_assignment(petition: Petition, reason: str) -> None:
    Assignment.objects.filter(petition=petition, ended_at__isnull=True).update(
        ended_at=timezone.now(), end_reason=reason
    )


def withdraw(*, user: Any, number: str, reasons: str = "", version: int | None = None) -> Petition:
    """撤回: the petitioner withdraws the petition before it is answered (portal, or a clerk on
    their behalf with the reason).  Nothing remains to be done; the record stays."""
    from .engine import Citizen

    reason = (reasons or "").strip()
    if not isinstance(user, Citizen):
        reason = _required(reason, _("撤回的情况说明"), "reasons")

    def apply(petition: Petition) -> Effect:
        _end_assignment(petition, "withdrawn")
        petition.due_on = None
        return Effect(public_note=_("信访人已撤回该信访事项。"), comment=reason)

    return perform(user=user, number=number, action="withdraw", apply=apply, version=version)


def same_petitioner(petition: Petition, other: Petition) -> bool:
    """Whether the two petitions share a petitioner: the same ID number, or the same name and phone
    number — compared by their keyed hashes, never decrypted.  For a group, one person in common is
    enough (the representatives of a repeat visit may change)."""
    mine = list(petition.petitioners.values_list("name", "id_number_hash", "phone_hash"))
    match = Q(pk__in=[])
    for name, id_hash, phone_hash in mine:
        if id_hash:
            match |= Q(id_number_hash=id_hash)
        if phone_hash:
            match |= Q(name=name, phone_hash=phone_hash)
    return other.petitioners.filter(match).exists()


def merge(*, user: Any, number: str, into: str, comment: str = "", version: int | None = None) -> Petition:
    """合并: a duplicate of a petition already under way (same person, same facts) is merged into it
    and handled there; it is marked a repeat of that petition and closed.  Only petitions of the
    same petitioner are joined (``same_petitioner``, issue #7 point 10); the merged petition's query
    code then shows the result of the one it went into (portal.services.public_view)."""
    into = (into or "").strip()

    def apply(petition: Petition) -> Effect:
        target = Petition.objects.restrict(user).filter(number=into).first()
        if target is None or target.pk == petition.pk or target.status in FINAL_STATUSES:
            raise TransitionRefused(
                _("请填写本机构可见、仍在办理中的另一件信访事项编号。"), code="invalid_target",
                params={"field": "into"},
            )  # fmt: skip
        if not same_petitioner(petition, target):
            raise TransitionRefused(
                _("两件信访事项的信访人不同（身份证号或姓名和电话均不一致），不能合并。"),
                code="different_petitioner", params={"field": "into"},
            )  # fmt: skip
        _end_assignment(petition, "merged")
        petition.repeat_of, petition.is_repeat, petition.due_on = target, True, None
        return Effect(
            public_note=_("您的信访事项与{number}内容相同，已合并办理。").format(number=target.number),
            comment=comment, fields=("repeat_of", "is_repeat"), data={"into": target.number},
        )  # fmt: skip

    return perform(user=user, number=number, action="merge", apply=apply, version=version)


# Accepted (受理) and not yet concluded: the states of a matter "已经受理或者正在办理" (Art. 19 ¶3).
# Registered, forwarded, assigned, returned or disputed matters have not been accepted by anyone yet.
ACCEPTED_STATUSES = frozenset(
    {Status.ACCEPTED, Status.REPLIED, Status.UNDER_REVIEW, Status.REVIEWED, Status.UNDER_RECHECK}
)


def handled_within_time_limit(petition: Petition, today: Any = None) -> bool:
    """Whether ``petition`` is being handled within its time limit (Art. 19 ¶3): accepted, and its
    current period (handling, or the review or recheck that followed) not yet passed (issue #7 point
    9).  A petition only registered, or sent to a unit that has not accepted it, does not count: a
    new petition on the same matter must then be handled, not refused."""
    today = today or timezone.localdate()
    return petition.status in ACCEPTED_STATUSES and (petition.due_on is None or petition.due_on >= today)


def refuse_repeat(*, user: Any, number: str, comment: str = "", version: int | None = None) -> Petition:
    """不再受理: the petition repeats, with the same facts and reasons, a matter that is concluded
    (Art. 36 ¶3) or that is accepted and being handled within its time limit (Art. 19 ¶3,
    ``handled_within_time_limit``).  The clerk linked it at intake; the earlier petition must really
    be in one of those states."""

    def apply(petition: Petition) -> Effect:
        earlier = petition.repeat_of
        in_time = handled_within_time_limit(earlier)
        if earlier.status == Status.CONCLUDED:
            note = _("您反映的事项已于{date}依法终结（{number}），对同一事实和理由不再受理。").format(
                date=earlier.concluded_on.isoformat() if earlier.concluded_on else "", number=earlier.number
            )
        elif in_time:
            note = _("您反映的事项正在依法办理（{number}），且仍在办理期限内，本次不再重复受理。").format(
                number=earlier.number
            )
        else:
            raise TransitionRefused(
                _("关联的信访事项既未终结，也不是已受理且在办理期限内的事项，应当依法处理。"),
                code="not_settled",
            )
        petition.due_on = None
        return Effect(public_note=note, comment=comment, data={"repeat_of": earlier.number})

    return perform(user=user, number=number, action="refuse_repeat", apply=apply, version=version)


def report_urgent(*, user: Any, number: str, reasons: str, version: int | None = None) -> Petition:
    """重大紧急: report the matter up the chain at once (Art. 25).  The petition is flagged, and the
    petition office one level up sees it (and its urgent list) from now on."""
    reasons = _required(reasons, _("重大紧急的情况"), "reasons")

    def apply(petition: Petition) -> Effect:
        petition.is_urgent = True
        upper = petition.office.parent.parent if petition.office.parent_id else None
        if upper is not None:
            Involvement.objects.get_or_create(
                petition=petition, organisation=upper, reason=InvolvementReason.SUPERVISOR,
                defaults={"organisation_path": upper.path},
            )  # fmt: skip
        return Effect(
            comment=reasons, fields=("is_urgent",), data={"reported_to": upper.pk if upper else None}
        )

    return perform(user=user, number=number, action="report_urgent", apply=apply, version=version)


def recuse(
    *, user: Any, number: str, reasons: str, staff: str | None = None, version: int | None = None
) -> Petition:
    """回避 (Art. 28 ¶3): a staff member with a conflict of interest steps aside — themselves, or on
    the order of a leader or supervisor of their organisation.  From then on the scope hides the
    petition from them (access.py), so they can neither read it nor act on it."""
    reasons = _required(reasons, _("回避理由"), "reasons")

    def apply(petition: Petition) -> Effect:
        # Looked up only once ``perform`` has checked scope, side and role: the petitioner (a Citizen,
        # no username) and outsiders are refused before any staff name is looked at.
        person = user
        if staff and staff.strip() != user.get_username():
            from xinfang.organisations.models import User

            person = (
                User.objects.filter(username=staff.strip(), is_active=True)
                .select_related("organisation")
                .first()
            )
            if person is None:
                raise TransitionRefused(
                    _("没有这名工作人员。"), code="invalid_staff", params={"field": "staff"}
                )
        if person.pk != user.pk and not (
            user.has_role(RoleCode.LEADER, RoleCode.SUPERVISOR)
            and person.organisation is not None
            and person.organisation.is_within(user.organisation)
        ):
            raise TransitionRefused(
                _("只能决定本单位工作人员回避。"), code="not_allowed", params={"field": "staff"}
            )
        _recusal, created = Recusal.objects.get_or_create(
            petition=petition, user=person, defaults={"reason": reasons, "decided_by": user}
        )
        if not created:
            raise TransitionRefused(_("该工作人员已回避。"), code="already_recused")
        return Effect(comment=reasons, data={"staff": person.get_username()})

    return perform(user=user, number=number, action="recuse", apply=apply, version=version)


def handler_choices(petition: Petition) -> Any:
    """Who may be named handler (承办人): active staff of the handling body (or a body inside it)
    who work cases there (handlers and leaders), excluding anyone recused from the petition."""
    from xinfang.organisations.models import User

    body = handling_organisation(petition)
    return (
        User.objects.filter(
            is_active=True,
            organisation__path__startswith=body.path,
            roles__code__in=[RoleCode.HANDLER, RoleCode.LEADER, RoleCode.INTAKE, RoleCode.SUPERVISOR],
        )
        .exclude(recusals__petition=petition)
        .distinct()
        .order_by("organisation__path", "username")
    )


def assign_handler(
    *, user: Any, number: str, staff: str, reasons: str = "", version: int | None = None
) -> Petition:
    """指定承办人 (首办负责制): name the person who works the petition inside the handling body.
    Changing a handler already named needs a reason, which the timeline keeps."""

    def apply(petition: Petition) -> Effect:
        person = handler_choices(petition).filter(username=(staff or "").strip()).first()
        if person is None:
            raise TransitionRefused(
                _("请选择办理单位中可以承办的工作人员。"), code="invalid_staff", params={"field": "staff"}
            )
        if petition.handler_id == person.pk:
            raise TransitionRefused(
                _("该工作人员已是承办人。"), code="already_handler", params={"field": "staff"}
            )
        previous = petition.handler
        if previous is not None and not (reasons or "").strip():
            raise TransitionRefused(
                _("更换承办人须说明理由。"), code="missing_reason", params={"field": "reasons"}
            )
        petition.handler = person
        data = {"handler": person.get_username(), "handler_name": str(person)}
        if previous is not None:
            data["previous"] = previous.get_username()
        return Effect(comment=(reasons or "").strip(), fields=("handler",), data=data)

    return perform(user=user, number=number, action="assign_handler", apply=apply, version=version)


# The service of each action of the transition table, for callers that dispatch by name (the
# action panel, the API).  Their keyword arguments are the action's fields.
ACTION_SERVICES: dict[str, Callable[..., Petition]] = {
    "name_subject": name_subject,
    "forward": forward,
    "assign": assign,
    "accept": accept,
    "decline": decline,
    "redirect": redirect,
    "unit_accept": unit_accept,
    "return": return_petition,
    "overrule_return": overrule_return,
    "dispute_jurisdiction": disputes.dispute_jurisdiction,
    "decide_jurisdiction": disputes.decide_jurisdiction,
    "request_extension": request_extension,
    "approve_extension": approve_extension,
    "reject_extension": reject_extension,
    "reply": reply,
    "approve_completion": approve_completion,
    "reject_completion": reject_completion,
    "evaluate": appeals.evaluate,
    "request_review": appeals.request_review,
    "review": appeals.review,
    "request_recheck": appeals.request_recheck,
    "start_hearing": appeals.start_hearing,
    "end_hearing": appeals.end_hearing,
    "recheck": appeals.recheck,
    "conclude": appeals.conclude,
    "record_agreement": record_agreement,
    "refuse_repeat": refuse_repeat,
    "withdraw": withdraw,
    "merge": merge,
    "report_urgent": report_urgent,
    "recuse": recuse,
    "assign_handler": assign_handler,
}
