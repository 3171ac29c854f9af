"""After the reply: the petitioner's evaluation, review (复查), recheck (复核) with hearings, and the
conclusion (终结) of the matter — Arts. 35–36 of the 2022 条例 and 国信发〔2022〕11号.

Every window of the petitioner is computed here from the day the document that opens it reached
them — its service (送达, issue #10 point 8) — with the rule profile of the body whose opinion is
contested (``deadlines.due_date``): the review-request window and the evaluation window from the
service of the decision letter (``DecisionLetter.served_on``; Art. 35: 自收到书面答复之日起), the
recheck-request window from the service of the review opinion (``Appeal.opinion_served_on``;
Art. 36: 自收到复查意见之日起).  The documents app records the service (``documents.services.
record_service``) and calls ``serve_letter`` / ``serve_opinion`` below in the same transaction.

Until the document is served no window has started: the window functions return None, the
petitioner may still evaluate or ask for review/recheck (a window that has not started cannot have
passed), nothing is counted as lapsed, and the office cannot conclude the matter for a lapsed window
(docs/procedure.md, "Service and the petitioner's windows").  Letters and opinions from before
service was recorded count as served the day they were issued (migration workflow 0010).
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.db import transaction
from django.db.models import Prefetch, Subquery
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from xinfang.core import page_memo
from xinfang.organisations.choices import OrganisationKind
from xinfang.organisations.models import Organisation
from xinfang.petitions.choices import Conclusion, InvolvementReason, Status
from xinfang.petitions.models import Involvement, Petition

from .deadlines import Deadline, due_date, paused_days_between, rule_for
from .engine import Effect, TransitionRefused, open_appeal, perform
from .models import (
    Appeal,
    AppealKind,
    AppealOutcome,
    DecisionLetter,
    Evaluation,
    EvaluationSource,
    EvaluationStatus,
    Hearing,
    Rating,
    Step,
)

# --- windows and bodies -------------------------------------------------------------------------


def reviewing_body(organisation: Organisation, petition: Petition | None = None) -> Organisation | None:
    """The organ one level above ``organisation`` that reviews its opinion (Art. 35–36).

    A department's or a government's is the body it belongs to.  A petition office that handled its
    own matter is part of its government, which reviews through that same office; so its opinion
    goes one level further up, to the government above, and nobody reviews their own reply.
    """
    body = organisation.parent
    if body is not None and organisation.kind == OrganisationKind.PETITION_OFFICE:
        body = body.parent
    # Art. 30 ¶3 (issue #7 point 3): the accused of a report never reviews it — it may not even
    # see it, so the review would wait for ever.  The next body up that is not the accused does.
    subject = petition.subject_organisation if petition is not None and petition.is_confidential else None
    while body is not None and subject is not None and body.is_within(subject):
        body = body.parent
    return body if body is not None and body.is_active else None


def first_letter(petition: Petition) -> DecisionLetter | None:
    return DecisionLetter.objects.filter(petition=petition).order_by("issued_at", "pk").first()


def letters_newest_first(petition: Petition) -> list[DecisionLetter]:
    """The petition's decision letters with issuer and signatory, newest first; loaded once for the
    petition page, whose 处理意见书 list and every window and evaluation rule read them."""
    return page_memo.remember(
        petition,
        "decision_letters",
        lambda: list(
            DecisionLetter.objects.filter(petition=petition)
            .select_related("organisation", "issued_by")
            .order_by("-issued_at", "-pk")
        ),
    )


def last_letter(petition: Petition) -> DecisionLetter | None:
    if page_memo.active(petition):  # the petition page asks it from many panels
        letters = letters_newest_first(petition)
        return letters[0] if letters else None
    return DecisionLetter.objects.filter(petition=petition).order_by("-issued_at", "-pk").first()


def appeals_with_hearings(petition: Petition) -> list[Appeal]:
    """The petition's appeals (复查、复核) with their bodies, deciders and hearings (in the order held);
    loaded once for the petition page, whose after-reply panel and 听证通知书 rule read them."""
    return page_memo.remember(
        petition,
        "appeals",
        lambda: list(
            Appeal.objects.filter(petition=petition)
            .select_related("body", "decided_by")
            .prefetch_related(Prefetch("hearings", queryset=Hearing.objects.order_by("started_on", "pk")))
        ),
    )


def last_appeal(petition: Petition, kind: str) -> Appeal | None:
    return Appeal.objects.filter(petition=petition, kind=kind).order_by("-received_on", "-pk").first()


def standing_letter(petition: Petition) -> DecisionLetter | None:
    """The reply that stands: the latest decision letter, unless the petition is being handled again
    (``accepted`` after a reply: the completion report was sent back, or a review ordered
    re-handling), when no reply stands until the new one is issued (issue #7 point 6)."""
    if petition.status == Status.ACCEPTED:
        return None
    return last_letter(petition)


# Said in place of a date while the document that opens a window has not reached the petitioner.
NOT_SERVED_NOTES = {
    Step.REVIEW_REQUEST: gettext_lazy("复查请求期限自处理意见书送达之日起计算；处理意见书尚未送达。"),
    Step.EVALUATION: gettext_lazy("满意度评价期限自处理意见书送达之日起计算；处理意见书尚未送达。"),
    Step.RECHECK_REQUEST: gettext_lazy("复核请求期限自复查意见书送达之日起计算；复查意见书尚未送达。"),
}


def letter_window(step: str, letter: DecisionLetter) -> Deadline | None:
    """``step``'s window (evaluation or review request) of ``letter``, counted from the day it was
    served; None while it is not served — the window has not started."""
    if letter.served_on is None:
        return None
    return due_date(step, letter.served_on, letter.organisation)


def evaluation_window(petition: Petition) -> Deadline | None:
    """The evaluation window of the reply that stands, counted from its service (None while no reply
    stands, or while it is not served yet: ``standing_letter`` tells the two apart)."""
    letter = standing_letter(petition)
    if letter is None:
        return None
    return letter_window(Step.EVALUATION, letter)


def standing_evaluation(petition: Petition) -> Evaluation | None:
    """The evaluation of the reply that stands, if the petitioner gave one."""
    letter = standing_letter(petition)
    if letter is None:
        return None
    return page_memo.remember(
        petition,
        ("evaluation", letter.pk),
        lambda: (
            Evaluation.objects.filter(letter=letter).select_related("office", "unit", "recorded_by").first()
        ),
    )


def evaluation_state(
    petition: Petition, today: dt.date | None = None
) -> tuple[Evaluation | None, str | None]:
    """The evaluation of the reply that stands and its status — pending / evaluated / lapsed, None
    while no reply stands — in one query when evaluated, two otherwise.  A lapsed one never counts as
    satisfied; an unserved reply is pending however old (its window has not started)."""
    if petition.status == Status.ACCEPTED:  # being handled (again): no reply stands
        return None, None
    if page_memo.active(petition):  # the petition page: the letter is known already
        letter = last_letter(petition)
        evaluation = (
            None
            if letter is None
            else page_memo.remember(
                petition,
                ("evaluation", letter.pk),
                lambda: (
                    Evaluation.objects.filter(letter=letter)
                    .select_related("office", "unit", "recorded_by")
                    .first()
                ),
            )
        )
    else:
        latest = (
            DecisionLetter.objects.filter(petition=petition).order_by("-issued_at", "-pk").values("pk")[:1]
        )
        evaluation = (
            Evaluation.objects.filter(letter_id=Subquery(latest))
            .select_related("office", "unit", "recorded_by")
            .first()
        )
    if evaluation is not None:
        return evaluation, EvaluationStatus.EVALUATED
    letter = last_letter(petition)
    if letter is None:
        return None, None
    window = letter_window(Step.EVALUATION, letter)
    if window is None:  # not served: the window has not started, so it cannot have lapsed
        return None, EvaluationStatus.PENDING
    today = today or timezone.localdate()
    return None, EvaluationStatus.LAPSED if today > window.due_on else EvaluationStatus.PENDING


def evaluation_status(petition: Petition, today: dt.date | None = None) -> str | None:
    """pending / evaluated / lapsed of the reply that stands; None while none stands."""
    return evaluation_state(petition, today)[1]


def review_request_window(petition: Petition) -> Deadline | None:
    """30 days from the service of the (latest) reply to ask the body above the replying one for a
    review (Art. 35); None while that letter is not served (the window has not started)."""
    letter = last_letter(petition)
    if letter is None:
        raise TransitionRefused(_("该信访事项尚未答复。"), code="wrong_state")
    return letter_window(Step.REVIEW_REQUEST, letter)


def recheck_request_window(petition: Petition) -> Deadline | None:
    """30 days from the service of the review opinion to ask the body above the reviewer for a
    recheck (Art. 36); None while the opinion is not served."""
    review = last_appeal(petition, AppealKind.REVIEW)
    if review is None or review.decided_on is None:
        raise TransitionRefused(_("该信访事项尚无复查意见。"), code="wrong_state")
    if review.opinion_served_on is None:
        return None
    return due_date(Step.RECHECK_REQUEST, review.opinion_served_on, review.body)


def appeal_deadline(appeal: Appeal) -> Deadline:
    """The review or recheck period from the day the request was received, lengthened by exactly the
    days of every finished hearing (Art. 36): from its first day to its last day, both included — a
    hearing held on one day pauses that day (issue #7 point 8)."""
    step = Step.REVIEW if appeal.kind == AppealKind.REVIEW else Step.RECHECK
    rule = rule_for(step, appeal.body)
    # The day the request arrived is not counted anyway (民法典 Art. 201), so a hearing begun that
    # day pauses the clock only from the next one.
    first_counted = appeal.received_on + dt.timedelta(days=1)
    paused = sum(
        paused_days_between(
            max(h.started_on, first_counted),
            max(h.ended_on + dt.timedelta(days=1), first_counted),
            unit=rule.unit,
        )
        for h in appeal.hearings.filter(ended_on__isnull=False)
    )
    return due_date(step, appeal.received_on, appeal.body, paused_days=paused)


def running_due_on(appeal: Appeal) -> dt.date | None:
    """The due date of an undecided appeal as shown to people: None while a hearing is open, since
    the clock stands still and the end of the pause is not known yet (issue #7 point 8)."""
    if appeal.decided_on is not None or appeal.hearings.filter(ended_on__isnull=True).exists():
        return None
    return appeal_deadline(appeal).due_on


def window_open(window: Deadline | None, today: dt.date | None = None) -> bool:
    """Whether the petitioner may still act in ``window``: a window not started (None: the document
    is not served) is open."""
    return window is None or (today or timezone.localdate()) <= window.due_on


# --- evaluation -----------------------------------------------------------------------------------


def _check_rating(value: str, whom: str, field: str) -> None:
    if value not in Rating.values:
        raise TransitionRefused(
            _("请选择对{whom}的评价。").format(whom=whom), code="missing_rating", params={"field": field}
        )


def evaluate(
    *,
    user: Any,
    number: str,
    office_rating: str,
    unit_rating: str,
    reasons: str = "",
    version: int | None = None,
) -> Petition:
    """满意度评价: the petitioner rates the petition office and the handling unit separately, on the
    portal (``user`` a Citizen) or staff record it from a follow-up call.  "Dissatisfied" needs a
    reason.  The evaluation is never shown as satisfied unless the petitioner said so."""
    from .engine import Citizen

    _check_rating(office_rating, _("信访部门"), "office_rating")
    _check_rating(unit_rating, _("办理单位"), "unit_rating")
    reason = (reasons or "").strip()
    if Rating.DISSATISFIED in {office_rating, unit_rating} and not reason:
        raise TransitionRefused(
            _("评价为不满意的，请填写理由。"), code="missing_reason", params={"field": "reasons"}
        )
    portal = isinstance(user, Citizen)

    def apply(petition: Petition) -> Effect:
        letter = standing_letter(petition)  # the guard (transitions._evaluable) made sure there is one
        Evaluation.objects.create(
            petition=petition, letter=letter, office=petition.office, unit=letter.organisation,
            office_rating=office_rating, unit_rating=unit_rating, reason=reason,
            source=EvaluationSource.PORTAL if portal else EvaluationSource.FOLLOW_UP,
            recorded_by=None if portal else user,
        )  # fmt: skip
        note = _("已收到您的评价：对信访部门{office}，对办理单位{unit}。").format(
            office=Rating(office_rating).label, unit=Rating(unit_rating).label
        )
        data = {
            "office_rating": office_rating,
            "unit_rating": unit_rating,
            "source": "portal" if portal else "follow_up",
        }
        return Effect(public_note=note, comment=reason, data=data)

    return perform(user=user, number=number, action="evaluate", apply=apply, version=version)


# --- review and recheck -------------------------------------------------------------------------


def _open_appeal(petition: Petition, kind: str, body: Organisation | None, request: str, user: Any) -> Appeal:
    if body is None:
        raise TransitionRefused(_("没有可以受理该请求的上一级机关。"), code="no_higher_body")
    appeal = Appeal.objects.create(
        petition=petition, kind=kind, body=body, request=request, received_on=timezone.localdate(),
        requested_by=user if getattr(user, "is_authenticated", False) else None,
    )  # fmt: skip
    Involvement.objects.get_or_create(
        petition=petition, organisation=body, reason=InvolvementReason.REVIEW,
        defaults={"organisation_path": body.path},
    )  # fmt: skip
    petition.due_on = appeal_deadline(appeal).due_on
    return appeal


def _request_text(request: str) -> str:
    request = (request or "").strip()
    if not request:
        raise TransitionRefused(_("请填写请求及理由。"), code="missing_reason", params={"field": "reasons"})
    return request


def _request_appeal(*, user: Any, number: str, reasons: str, kind: str, version: int | None) -> Petition:
    """Open a review (of the latest reply) or a recheck (of the review): the request goes to the
    organ above the one whose opinion is contested, whose period starts today."""
    request = _request_text(reasons)
    review = kind == AppealKind.REVIEW

    def apply(petition: Petition) -> Effect:
        contested = (
            last_letter(petition).organisation if review else last_appeal(petition, AppealKind.REVIEW).body
        )
        appeal = _open_appeal(petition, kind, reviewing_body(contested, petition), request, user)
        note = (
            _("您的复查请求已提交{body}，复查期限至{date}。")
            if review
            else _("您的复核请求已提交{body}，复核期限至{date}（听证时间不计入）。")
        )
        return Effect(
            public_note=note.format(body=appeal.body.name, date=petition.due_on.isoformat()),
            comment=request, organisation=appeal.body, data={"body": appeal.body_id},
        )  # fmt: skip

    action = "request_review" if review else "request_recheck"
    return perform(user=user, number=number, action=action, apply=apply, version=version)


def request_review(*, user: Any, number: str, reasons: str, version: int | None = None) -> Petition:
    """请求复查: within the window after the reply, the petitioner (or a clerk on their behalf) asks the
    organ above the replying one; that organ has 30 days (Art. 35)."""
    return _request_appeal(user=user, number=number, reasons=reasons, kind=AppealKind.REVIEW, version=version)


def request_recheck(*, user: Any, number: str, reasons: str, version: int | None = None) -> Petition:
    """请求复核: within the window after the review opinion, to the organ above the reviewer; 30 days
    for the recheck opinion, hearing days not counted (Art. 36)."""
    return _request_appeal(
        user=user, number=number, reasons=reasons, kind=AppealKind.RECHECK, version=version
    )


def _opinion_fields(outcome: str, facts: str, basis: str, opinion: str) -> tuple[str, str, str]:
    from .services import _required

    if outcome not in AppealOutcome.values:
        raise TransitionRefused(_("请选择结论。"), code="missing_outcome", params={"field": "outcome"})
    return (
        _required(facts, _("查明的事实"), "facts"),
        _required(basis, _("法律政策依据"), "basis"),
        _required(opinion, _("意见"), "opinion"),
    )


def _decide(appeal: Appeal, user: Any, outcome: str, facts: str, basis: str, opinion: str) -> None:
    appeal.outcome, appeal.facts, appeal.basis, appeal.opinion = outcome, facts, basis, opinion
    appeal.decided_by, appeal.decided_on = user, timezone.localdate()
    appeal.save()


def review(
    *, user: Any, number: str, outcome: str, facts: str, basis: str, opinion: str, version: int | None = None
) -> Petition:
    """复查意见: the reviewing organ upholds or changes the reply, or orders it handled again.  Upheld
    or changed, the petitioner's recheck window opens; re-handling sends the petition back to the
    replying body with a fresh handling period, and its new reply may be reviewed again."""
    facts, basis, opinion = _opinion_fields(outcome, facts, basis, opinion)

    def apply(petition: Petition) -> Effect:
        appeal = open_appeal(petition)
        _decide(appeal, user, outcome, facts, basis, opinion)
        label = AppealOutcome(outcome).label
        if outcome == AppealOutcome.REHANDLE:
            from .services import reopen_handling

            unit = reopen_handling(petition, user=user, organisation=last_letter(petition).organisation)
            note = _("复查意见：{label}。{unit}将重新办理并书面答复。").format(label=label, unit=unit.name)
            return Effect(public_note=note, comment=opinion, organisation=appeal.body, target=Status.ACCEPTED,
                          data={"outcome": outcome})  # fmt: skip
        # The recheck-request window starts when the opinion is served (serve_opinion), not today.
        petition.due_on = None
        recheck_body = reviewing_body(appeal.body, petition)
        note = _("复查意见：{label}。{opinion}").format(label=label, opinion=opinion)
        if recheck_body is not None:
            note += _("对复查意见不服的，可以自收到之日起{days}日内向{body}请求复核。").format(
                days=rule_for(Step.RECHECK_REQUEST, appeal.body).length, body=recheck_body.name
            )
        return Effect(public_note=note, organisation=appeal.body, data={"outcome": outcome})

    return perform(user=user, number=number, action="review", apply=apply, version=version)


def start_hearing(*, user: Any, number: str, comment: str = "", version: int | None = None) -> Petition:
    """听证: the recheck clock stops from today until the hearing ends (Art. 36).  While it stands
    still no deadline runs (``due_on`` None), so the petition never shows as overdue during the
    hearing — not in the queue's light, nor in the API's days left; ``end_hearing`` sets it again."""

    def apply(petition: Petition) -> Effect:
        appeal = open_appeal(petition)
        today = timezone.localdate()
        Hearing.objects.create(appeal=appeal, started_on=today, note=comment)
        petition.due_on = None
        return Effect(
            public_note=_("复核机关举行听证，听证期间不计入复核期限。"),
            comment=comment, organisation=appeal.body, data={"started_on": today.isoformat()},
        )  # fmt: skip

    return perform(user=user, number=number, action="start_hearing", apply=apply, version=version)


def end_hearing(*, user: Any, number: str, comment: str = "", version: int | None = None) -> Petition:
    """The hearing ends today, its last day (not counted); the clock runs again from tomorrow and the
    deadline moves by exactly the paused days (``appeal_deadline``)."""

    def apply(petition: Petition) -> Effect:
        appeal = open_appeal(petition)
        hearing = appeal.hearings.get(ended_on__isnull=True)
        hearing.ended_on = timezone.localdate()
        hearing.save(update_fields=["ended_on"])
        petition.due_on = appeal_deadline(appeal).due_on
        return Effect(
            public_note=_("听证已结束，复核期限顺延至{date}。").format(date=petition.due_on.isoformat()),
            comment=comment, organisation=appeal.body, data={"due_on": petition.due_on.isoformat()},
        )  # fmt: skip

    return perform(user=user, number=number, action="end_hearing", apply=apply, version=version)


def recheck(
    *, user: Any, number: str, outcome: str, facts: str, basis: str, opinion: str, version: int | None = None
) -> Petition:
    """复核意见: final (Art. 36 ¶3).  The matter is concluded; the same facts and reasons are not
    accepted again anywhere."""
    if outcome == AppealOutcome.REHANDLE:  # a recheck decides; it does not send the matter round again
        raise TransitionRefused(_("复核意见为最终意见，请选择维持或变更。"), code="missing_outcome")
    facts, basis, opinion = _opinion_fields(outcome, facts, basis, opinion)

    def apply(petition: Petition) -> Effect:
        appeal = open_appeal(petition)
        _decide(appeal, user, outcome, facts, basis, opinion)
        _set_concluded(petition, Conclusion.RECHECKED)
        note = _("复核意见：{label}。{opinion} 本复核意见为最终意见，该信访事项已终结。").format(
            label=AppealOutcome(outcome).label, opinion=opinion
        )
        return Effect(public_note=note, organisation=appeal.body, fields=("conclusion", "concluded_on"),
                      data={"outcome": outcome, "conclusion": Conclusion.RECHECKED})  # fmt: skip

    return perform(user=user, number=number, action="recheck", apply=apply, version=version)


def _set_concluded(petition: Petition, reason: str) -> None:
    """The matter is closed: like every other final state, it leaves no unit's assignment open (a
    completion report of a concluded matter can no longer be approved)."""
    from .services import _end_assignment

    _end_assignment(petition, "concluded")
    petition.conclusion, petition.concluded_on, petition.due_on = reason, timezone.localdate(), None


def conclude(
    *, user: Any, number: str, conclusion: str, comment: str = "", version: int | None = None
) -> Petition:
    """终结 by the petition office: the review (or recheck) window passed unused, or an agreement was
    reached and carried out.  A lapse is checked against the window, not taken on trust."""
    from .engine import System

    reason = conclusion
    if reason not in {Conclusion.REVIEW_LAPSED, Conclusion.RECHECK_LAPSED, Conclusion.AGREEMENT}:
        raise TransitionRefused(_("请选择终结理由。"), code="missing_reason", params={"field": "conclusion"})

    def apply(petition: Petition) -> Effect:
        if reason != Conclusion.AGREEMENT:
            expected = (
                Conclusion.REVIEW_LAPSED if petition.status == Status.REPLIED else Conclusion.RECHECK_LAPSED
            )
            window = (
                review_request_window if expected == Conclusion.REVIEW_LAPSED else recheck_request_window
            )(petition)
            if window is None:  # not served: the window has not even started
                raise TransitionRefused(
                    _("{document}尚未送达，请求期限尚未起算，不能以逾期未请求为由终结。").format(
                        document=_("处理意见书") if expected == Conclusion.REVIEW_LAPSED else _("复查意见书")
                    ),
                    code="not_served",
                )
            if reason != expected or window_open(window):
                raise TransitionRefused(
                    _("请求期限至{date}，尚未届满，不能以逾期未请求为由终结。").format(
                        date=window.due_on.isoformat()
                    ),
                    code="window_open",
                )
        if isinstance(user, System):
            _check_completion_report_approved(petition)
        _set_concluded(petition, reason)
        return Effect(
            public_note=_("该信访事项已终结（{reason}）。同一事实和理由的信访事项不再受理。").format(
                reason=Conclusion(reason).label
            ),
            comment=comment, fields=("conclusion", "concluded_on"), data={"conclusion": reason},
        )  # fmt: skip

    return perform(user=user, number=number, action="conclude", apply=apply, version=version)


def _check_completion_report_approved(petition: Petition) -> None:
    """The daily job concludes only what the calendar alone decides (issue #7 point 12).  A replied
    matter that was assigned (交办) is finished only once the office has checked the unit's completion
    report (Art. 22(3)); while the report waits, the lapsed window does not conclude it — the office
    approves the report (or sends it back), and the next run concludes it.  After a review the
    reviewing body has judged the reply itself, so a report still open then does not hold it back."""
    from .models import Assignment

    pending = Assignment.objects.filter(petition=petition, ended_at__isnull=True, report_required=True)
    if petition.status == Status.REPLIED and pending.exists():
        raise TransitionRefused(
            _("办结报告尚未经信访部门审核通过，不能自动终结。"), code="completion_report_pending"
        )


# --- the scheduled job ----------------------------------------------------------------------------


def conclude_lapsed() -> tuple[int, int]:
    """Conclude every matter whose review or recheck window passed unused (Art. 36 ¶3; 浙江条例
    Art. 25(2)), as the system.  Returns (concluded, skipped).

    Safe to run from any number of workers at once and as often as wanted: each petition is one
    transaction under its row lock, and ``conclude`` checks the state and the window again, so a
    petition concluded, appealed or changed meanwhile is simply skipped.  The stored ``due_on`` of a
    replied or reviewed petition is the end of its window, so the candidates come from the
    (status, due_on) index.
    """
    from .engine import System

    today = timezone.localdate()
    candidates = (
        Petition.objects.filter(status__in=[Status.REPLIED, Status.REVIEWED], due_on__lt=today)
        .order_by("due_on", "pk")
        .values_list("number", "status")
    )
    concluded = skipped = 0
    # Read whole before writing: iterating a cursor over the table being written is unsafe on SQLite.
    for number, status in list(candidates):
        reason = Conclusion.REVIEW_LAPSED if status == Status.REPLIED else Conclusion.RECHECK_LAPSED
        try:
            conclude(user=System(), number=number, conclusion=reason)
        except TransitionRefused:
            skipped += 1
        else:
            concluded += 1
    return concluded, skipped


# --- service (送达) ---------------------------------------------------------------------------------


def _check_service(served_on: dt.date | None, already: dt.date | None, issued_on: dt.date, what: str) -> None:
    # The documents app refuses a second service and a date outside [issue day, today] before it
    # calls here; checked again so that no other caller moves a window that is already running.
    if already is not None:
        raise TransitionRefused(
            _("该{what}已于{date}送达。").format(what=what, date=already.isoformat()), code="already_served"
        )
    if served_on is None or served_on < issued_on or served_on > timezone.localdate():
        raise TransitionRefused(_("送达日期应在出具之日至今天之间。"), code="invalid_date")


def _announce_service(petition: Petition, action: str) -> None:
    """Service is not a transition (no state, no timeline event: the documents app writes the audit
    event), but it moves dated facts — the letter's evaluation window, the petition's window — so
    the apps above are told like after one (the statistics recount the days it touches); ``event``
    is None and ``action`` names the service, which no SMS or bell rule knows."""
    from .signals import transition_performed

    transition_performed.send(
        sender=Petition, petition=petition, action=action, user=None, event=None, source=petition.status
    )


def serve_letter(letter: DecisionLetter, served_on: dt.date) -> None:
    """The decision letter reached the petitioner on ``served_on`` (issue #10 point 8): the
    evaluation and review-request windows start from that day.  Called by ``documents`` inside the
    transaction that records the service (which writes the audit event).

    The letter keeps its evaluation window (``evaluation_due_on``, counted in the statistics) in any
    case; the petition's clock becomes the review-request window only if this letter is the reply
    that stands and the petition still waits for the petitioner (replied).  An older letter, or one
    served after the petitioner already asked for review, only records the day."""
    with transaction.atomic():  # a savepoint inside the documents' transaction
        petition = Petition.objects.select_for_update().get(pk=letter.petition_id)  # lock first
        already = DecisionLetter.objects.values_list("served_on", flat=True).get(pk=letter.pk)
        _check_service(served_on, already, timezone.localdate(letter.issued_at), _("处理意见书"))
        letter.served_on = served_on
        letter.evaluation_due_on = due_date(Step.EVALUATION, served_on, letter.organisation).due_on
        letter.save(update_fields=["served_on", "evaluation_due_on"])
        if petition.status == Status.REPLIED and last_letter(petition).pk == letter.pk:
            petition.due_on = due_date(Step.REVIEW_REQUEST, served_on, letter.organisation).due_on
            petition.save(update_fields=["due_on", "updated_at"])
        _announce_service(petition, "serve_letter")


def serve_opinion(appeal: Appeal, served_on: dt.date) -> None:
    """The review (or recheck) opinion reached the petitioner: a review's recheck-request window
    starts from that day, if it is the latest review and the petition waits for the petitioner
    (reviewed).  A recheck opinion is final: its service only records the day."""
    with transaction.atomic():
        petition = Petition.objects.select_for_update().get(pk=appeal.petition_id)
        decided_on, already = Appeal.objects.values_list("decided_on", "opinion_served_on").get(pk=appeal.pk)
        if decided_on is None:
            raise TransitionRefused(_("尚未出具意见，不能登记送达。"), code="wrong_state")
        _check_service(served_on, already, decided_on, _("意见书"))
        appeal.opinion_served_on = served_on
        appeal.save(update_fields=["opinion_served_on"])
        latest = last_appeal(petition, AppealKind.REVIEW)
        if appeal.kind == AppealKind.REVIEW and petition.status == Status.REVIEWED and latest.pk == appeal.pk:
            petition.due_on = due_date(Step.RECHECK_REQUEST, served_on, appeal.body).due_on
            petition.save(update_fields=["due_on", "updated_at"])
        _announce_service(petition, "serve_opinion")
