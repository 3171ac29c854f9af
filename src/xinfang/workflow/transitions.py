"""The transition table of the statutory procedure (《信访工作条例》2022): which action may move a
petition from which state to which, and who may take it.

The table is data; ``engine.perform`` enforces it for every caller (staff pages, API, jobs).  Here
so far: disposal by the petition office, acceptance or objection by the responsible unit, and
handling — extension, reply, and the office's check of the completion report; evaluation, review
and recheck follow (issue #3).

A transition may carry a ``guard``: a check beyond state, side and role that depends on the
petition's records (a pending extension request, an assignment that requires a completion
report).  ``engine.check_allowed`` runs it, so ``allowed_actions`` hides the action too.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.utils.translation import gettext_lazy as _

from xinfang.organisations.choices import RoleCode
from xinfang.petitions.choices import FINAL_STATUSES, EventKind, Status

# Who acts: the petition office that registered the petition, or the unit now responsible for it.
OFFICE = "office"
UNIT = "unit"
# The side handling an accepted petition: the open unit when it was forwarded or assigned, the
# registering office when it accepted its own matter.
HANDLING = "handling"
# The leader line of the handling side: the handling organisation or a body above it up to and
# including the nearest level of government (Art. 34: 经本机关、单位负责人批准).
APPROVER = "approver"
# The organ reviewing (复查) or rechecking (复核) the petition: the body of the open appeal, or the
# petition office of that body's government, which does the work on its behalf.
REVIEWER = "reviewer"
RECHECKER = "rechecker"
# The common superior deciding a jurisdiction dispute (Art. 24 ¶1): its leaders, or the supervisors
# of its petition office when that office is not the party that overruled (disputes.acts_for_superior).
SUPERIOR = "superior"
# A petition office supervising a petition in its scope that it does not handle itself (督办,
# Arts. 39-40): the supervisors and leaders of the office that registered it or of any office above.
SUPERVISING = "supervising"
# The petitioner on the portal (proved by the query code); no staff role applies.
PETITIONER = "petitioner"
# Xinfang itself, in a scheduled job (engine.System): only for what the calendar decides alone.
SYSTEM = "system"
# Sides that act without a staff role.
ROLELESS = frozenset({PETITIONER, SYSTEM})

OFFICE_ROLES = frozenset({RoleCode.INTAKE, RoleCode.SUPERVISOR, RoleCode.LEADER})
UNIT_ROLES = frozenset({RoleCode.HANDLER, RoleCode.LEADER})
HANDLING_ROLES = frozenset({RoleCode.HANDLER, RoleCode.SUPERVISOR, RoleCode.LEADER})
APPROVER_ROLES = frozenset({RoleCode.LEADER})
APPEAL_ROLES = frozenset({RoleCode.HANDLER, RoleCode.SUPERVISOR, RoleCode.LEADER})
SIDE_ROLES: dict[str, frozenset[str]] = {
    OFFICE: OFFICE_ROLES,
    UNIT: UNIT_ROLES,
    HANDLING: HANDLING_ROLES,
    APPROVER: APPROVER_ROLES,
    REVIEWER: APPEAL_ROLES,
    RECHECKER: APPEAL_ROLES,
    SUPERIOR: frozenset({RoleCode.SUPERVISOR, RoleCode.LEADER}),
    SUPERVISING: frozenset({RoleCode.SUPERVISOR, RoleCode.LEADER}),
    PETITIONER: frozenset(),
    SYSTEM: frozenset(),
}


@dataclass(frozen=True)
class Transition:
    """``target`` None: the state does not change (a flag, a pause, a recusal).  ``sides``: who may
    act, each side with its own roles (SIDE_ROLES); the petitioner needs no role."""

    action: str
    label: str
    sources: frozenset[str]
    target: str | None
    sides: tuple[str, ...]
    event: str
    article: str
    guard: Callable[[Any], None] | None = None
    # A check that depends on who acts, not only on the petition (e.g. nobody approves their own
    # extension request): ``actor_guard(petition, user)``, run by ``engine.check_allowed`` too.
    actor_guard: Callable[[Any, Any], None] | None = None

    def roles_for(self, side: str) -> frozenset[str]:
        return SIDE_ROLES[side]

    @property
    def by_petitioner(self) -> bool:
        return PETITIONER in self.sides

    @property
    def citation(self) -> str:
        """The source shown next to the action.  An article number (第…条) is one of the
        《信访工作条例》 (中共中央、国务院, 2022, in force 1 May 2022); any other source names its own
        document in full (issue #7 point 33: the evaluation's read as if it were the 条例's)."""
        from django.utils.translation import gettext

        article = str(self.article)
        if article.startswith("第"):
            return gettext("《信访工作条例》{article}").format(article=article)
        return article


def _t(action, label, sources, target, sides, event, article, guard=None, actor_guard=None) -> Transition:  # noqa: ANN001
    sides = (sides,) if isinstance(sides, str) else tuple(sides)
    return Transition(action, label, frozenset(sources), target, sides, event, article, guard, actor_guard)


# --- guards (lazy imports: the engine and the models import this module) --------------------------


def _refuse(message: str, code: str) -> None:
    from .engine import TransitionRefused

    raise TransitionRefused(message, code=code)


def _extension_requestable(petition: Any) -> None:
    """One extension per petition: none while a request is pending, none after one was approved."""
    from django.utils.translation import gettext

    from .models import ExtensionDecision, ExtensionRequest

    decisions = set(ExtensionRequest.objects.filter(petition=petition).values_list("decision", flat=True))
    if ExtensionDecision.APPROVED in decisions:
        _refuse(gettext("该信访事项已延期一次，不能再次延期。"), "already_extended")
    if ExtensionDecision.PENDING in decisions:
        _refuse(gettext("已有待审批的延期申请。"), "extension_pending")
    # An extension lengthens a period that is still running (Art. 34); once it has passed the
    # matter is overdue, and asking for more time cannot undo that (issue #7 point 11).
    from django.utils import timezone

    if petition.due_on is not None and timezone.localdate() > petition.due_on:
        _refuse(
            gettext("办理期限已于{date}届满，不能再申请延期。").format(date=petition.due_on.isoformat()),
            "deadline_passed",
        )


def _extension_pending(petition: Any) -> None:
    from django.utils.translation import gettext

    from .models import ExtensionDecision, ExtensionRequest

    if not ExtensionRequest.objects.filter(petition=petition, decision=ExtensionDecision.PENDING).exists():
        _refuse(gettext("没有待审批的延期申请。"), "no_pending_extension")


def _not_own_extension(petition: Any, user: Any) -> None:
    """Art. 34 (经本机关、单位负责人批准): approval is a second person's check, so a leader who asked
    for the extension (a unit's own leader may) does not approve it; another leader of the line does
    (issue #7 point 11)."""
    from django.utils.translation import gettext

    from .models import ExtensionDecision, ExtensionRequest

    pending = ExtensionRequest.objects.filter(petition=petition, decision=ExtensionDecision.PENDING)
    if pending.filter(requested_by_id=getattr(user, "pk", None)).exists():
        _refuse(gettext("不能批准本人提出的延期申请，应由其他负责人审批。"), "own_extension")


def _objection_in_window(petition: Any) -> None:
    """Art. 23 ¶3: the unit objects within 5 working days of receiving the petition, not later."""
    from django.utils import timezone
    from django.utils.translation import gettext

    from .deadlines import due_date
    from .models import Assignment, Step

    assignment = Assignment.objects.filter(petition=petition, ended_at__isnull=True).first()
    if assignment is None:
        return
    window = due_date(Step.OBJECTION, timezone.localtime(assignment.assigned_at).date(), assignment.unit)
    if timezone.localdate() > window.due_on:
        _refuse(
            gettext("提出异议的期限已于{date}届满，不能退回。").format(date=window.due_on.isoformat()),
            "out_of_window",
        )


def _first_objection(petition: Any) -> None:
    """退回 is the unit's first objection.  Once the office has overruled it, a second one goes to
    the common superior (``dispute_jurisdiction``, Art. 24 ¶1); once the superior has decided, none."""
    from django.utils.translation import gettext

    from .disputes import jurisdiction_decided, objected_before
    from .models import Assignment

    _objection_in_window(petition)
    if jurisdiction_decided(petition):
        _refuse(gettext("共同上级机关已决定管辖，不能再提出异议。"), "jurisdiction_decided")
    assignment = Assignment.objects.filter(petition=petition, ended_at__isnull=True).select_related("unit")
    assignment = assignment.first()
    if assignment is not None and objected_before(petition, assignment.unit):
        _refuse(
            gettext("本单位的异议已被信访部门驳回；仍有异议的，请提请共同上级机关决定。"), "already_objected"
        )


def _second_objection(petition: Any) -> None:
    """再次异议: only a unit whose first objection the office overruled, within the window, and only
    while no common superior has decided yet."""
    from django.utils.translation import gettext

    from .disputes import jurisdiction_decided, objected_before
    from .models import Assignment

    _objection_in_window(petition)
    if jurisdiction_decided(petition):
        _refuse(gettext("共同上级机关已决定管辖，不能再提出异议。"), "jurisdiction_decided")
    assignment = Assignment.objects.filter(petition=petition, ended_at__isnull=True).select_related("unit")
    assignment = assignment.first()
    if assignment is None or not objected_before(petition, assignment.unit):
        _refuse(gettext("请先向信访部门提出异议（退回）。"), "no_prior_objection")


def _is_report(petition: Any) -> None:
    """Only a report (检举控告) has an accused to name (Art. 30 ¶3)."""
    from django.utils.translation import gettext

    from xinfang.petitions.choices import Purpose

    if petition.purpose != Purpose.REPORT:
        _refuse(gettext("只有检举控告类信访事项需要确认被检举控告对象。"), "not_a_report")


def _accused_confirmed(petition: Any) -> None:
    """Issue #7 point 1: a report is disposed of only once the clerk has named the accused
    organisation or stated that it names none, so the scope can keep it from the accused."""
    from django.utils.translation import gettext

    from xinfang.petitions.choices import Purpose

    if petition.purpose == Purpose.REPORT and not petition.subject_confirmed:
        _refuse(
            gettext("请先确认被检举控告的单位（或确认未指向具体单位），再处理该检举控告。"),
            "accused_unconfirmed",
        )


def _completion_report_due(petition: Any) -> None:
    """Only an assigned petition (交办) has a completion report for the office to check (Art. 22(3))."""
    from django.utils.translation import gettext

    from xinfang.core import page_memo

    from .models import Assignment

    # On the petition page the open assignment is prefetched; anywhere else, ask the database.
    rows = page_memo.prefetched(petition, "open_assignments") if page_memo.active(petition) else None
    if rows is not None:
        due = any(a.report_required for a in rows)
    else:
        due = Assignment.objects.filter(
            petition=petition, ended_at__isnull=True, report_required=True
        ).exists()
    if not due:
        _refuse(gettext("该信访事项没有待审核的办结报告。"), "no_completion_report")


def _evaluable(petition: Any) -> None:
    """One evaluation per reply, of the reply that stands, within the EVALUATION window counted from
    its service (issue #7 point 6: a reply sent back for re-handling is superseded by the new one;
    issue #10 point 8: a reply not served yet may be evaluated, its window has not started)."""
    from django.utils.translation import gettext

    from .appeals import evaluation_window, standing_evaluation, standing_letter

    if standing_evaluation(petition) is not None:
        _refuse(gettext("该信访事项已经评价过。"), "already_evaluated")
    if standing_letter(petition) is None:
        _refuse(gettext("该信访事项尚未答复，不能评价。"), "wrong_state")
    _check_window(evaluation_window(petition), gettext("满意度评价"))


def _check_window(window: Any, what: str) -> None:
    """Refuse once ``window`` has passed; a window not started (None: the document that opens it is
    not served yet) cannot have passed."""
    from django.utils import timezone
    from django.utils.translation import gettext

    if window is not None and timezone.localdate() > window.due_on:
        _refuse(
            gettext("{what}的期限已于{date}届满。").format(what=what, date=window.due_on.isoformat()),
            "out_of_window",
        )


def _review_requestable(petition: Any) -> None:
    from django.utils.translation import gettext

    from .appeals import review_request_window

    _check_window(review_request_window(petition), gettext("请求复查"))


def _recheck_requestable(petition: Any) -> None:
    from django.utils.translation import gettext

    from .appeals import recheck_request_window

    _check_window(recheck_request_window(petition), gettext("请求复核"))


def _hearing(*, open_: bool) -> Callable[[Any], None]:
    def guard(petition: Any) -> None:
        from django.utils.translation import gettext

        from .models import Hearing

        is_open = Hearing.objects.filter(appeal__petition=petition, ended_on__isnull=True).exists()
        if is_open and not open_:
            _refuse(gettext("听证尚未结束。"), "hearing_open")
        if open_ and not is_open:
            _refuse(gettext("没有正在进行的听证。"), "no_hearing")

    return guard


def _not_urgent(petition: Any) -> None:
    from django.utils.translation import gettext

    if petition.is_urgent:
        _refuse(gettext("该信访事项已作为重大紧急事项上报。"), "already_reported")


def _not_replied(petition: Any) -> None:
    """撤回 is for a petition not yet answered.  A petition back in ``accepted`` after a reply (the
    completion report sent back, a review ordering re-handling) has been answered: the petitioner
    keeps the appeals, not withdrawal (issue #7 point 7; docs/procedure.md §8)."""
    from django.utils.translation import gettext

    from xinfang.core import page_memo

    from .models import DecisionLetter

    if page_memo.active(petition):  # the petition page has loaded the letters already
        from .appeals import letters_newest_first

        replied = bool(letters_newest_first(petition))
    else:
        replied = DecisionLetter.objects.filter(petition=petition).exists()
    if replied:
        _refuse(gettext("该信访事项已作出书面答复，不能撤回。"), "already_replied")


def _repeats_settled_matter(petition: Any) -> None:
    """不再受理 needs the earlier petition this one repeats (linked at intake, Art. 19 ¶3, 36 ¶3)."""
    from django.utils.translation import gettext

    if petition.repeat_of_id is None:
        _refuse(gettext("请先在登记页关联该信访人此前的信访事项。"), "no_repeat_link")


_DISPOSABLE = {Status.REGISTERED, Status.RETURNED}
# Art. 30 ¶3 (issue #7 point 2): what staff inside the accused organisation may still do with a
# report they can see — only the registering office can, while it has to route the report: send it
# up (forward; ``services`` keeps the unit to the level above), report it as urgent, step aside.
# Everything else (accepting, declining, merging, correcting the accused, withdrawing on the
# petitioner's behalf …) would let the accused decide about the accusation.
WHILE_ACCUSED = frozenset({"forward", "report_urgent", "recuse"})
# Before the reply the petitioner may still withdraw; after it, only the appeals remain.
_BEFORE_REPLY = {
    Status.REGISTERED, Status.FORWARDED, Status.ASSIGNED, Status.RETURNED, Status.DISPUTED, Status.ACCEPTED
}  # fmt: skip
_OPEN = set(Status.values) - FINAL_STATUSES
# The states in which a named handler (承办人) works the petition inside the handling body.
HANDLER_STATES = frozenset({Status.REGISTERED, Status.FORWARDED, Status.ASSIGNED, Status.ACCEPTED})
# Art. 33: where an agreement may be recorded: from acceptance (受理) until the matter is concluded.
AGREEMENT_STATES = frozenset(
    {Status.ACCEPTED, Status.REPLIED, Status.UNDER_REVIEW, Status.REVIEWED, Status.UNDER_RECHECK}
)
_REPLIED_ONCE = {Status.REPLIED, Status.UNDER_REVIEW, Status.REVIEWED, Status.UNDER_RECHECK, Status.CONCLUDED}

TRANSITIONS: dict[str, Transition] = {
    t.action: t
    for t in [
        # Art. 22: within 15 days of receipt the petition office forwards, assigns, accepts its own
        # matter, declines, or tells the petitioner the lawful channel.  A returned petition is
        # disposed of again (re-routed) after the office agrees with the objection (Art. 23 ¶3).
        # Art. 30 ¶3 (issue #7 point 1): before a report is disposed of, the clerk names whom it
        # accuses, or states that it names no organisation; the scope then hides it from the accused.
        _t("name_subject", _("确认被检举控告对象"), _DISPOSABLE, None, OFFICE, EventKind.SUBJECT_NAMED,
           "第三十条第三款", _is_report),
        _t("forward", _("转送"), _DISPOSABLE, Status.FORWARDED, OFFICE, EventKind.FORWARDED, "第二十二条",
           _accused_confirmed),
        _t("assign", _("交办"), _DISPOSABLE, Status.ASSIGNED, OFFICE, EventKind.ASSIGNED, "第二十二条",
           _accused_confirmed),
        _t("accept", _("受理"), _DISPOSABLE, Status.ACCEPTED, OFFICE, EventKind.ACCEPTED, "第二十二条",
           _accused_confirmed),
        _t("decline", _("不予受理"), _DISPOSABLE, Status.DECLINED, OFFICE, EventKind.DECLINED, "第二十二条",
           _accused_confirmed),
        _t("redirect", _("告知其他途径"), _DISPOSABLE, Status.REDIRECTED, OFFICE, EventKind.REDIRECTED,
           "第二十二条", _accused_confirmed),
        # Art. 23 ¶3: the unit confirms and accepts within 15 days, or objects within 5 working days.
        _t("unit_accept", _("确认受理"), {Status.FORWARDED, Status.ASSIGNED}, Status.ACCEPTED, UNIT,
           EventKind.ACCEPTED, "第二十三条第三款"),
        _t("return", _("退回（提出异议）"), {Status.FORWARDED, Status.ASSIGNED}, Status.RETURNED, UNIT,
           EventKind.RETURNED, "第二十三条第三款", _first_objection),
        # The office overrules the objection: the matter goes back to the same unit.
        _t("overrule_return", _("不同意退回"), {Status.RETURNED}, Status.FORWARDED, OFFICE,
           EventKind.RETURN_OVERRULED, "第二十三条第三款"),
        # Art. 24 ¶1: a unit overruled once that still objects takes it to the common superior, which
        # decides who handles the matter (forwarded or assigned again, as before); no further objection.
        _t("dispute_jurisdiction", _("再次异议，提请共同上级机关决定"), {Status.FORWARDED, Status.ASSIGNED},
           Status.DISPUTED, UNIT, EventKind.JURISDICTION_DISPUTED, "第二十四条第一款", _second_objection),
        _t("decide_jurisdiction", _("决定管辖"), {Status.DISPUTED}, Status.FORWARDED, SUPERIOR,
           EventKind.JURISDICTION_DECIDED, "第二十四条第一款"),
        # Art. 34: handling within 60 days; one extension of at most 30 days, approved by the
        # leader of the handling body, the petitioner told the reason.  Status stays accepted.
        _t("request_extension", _("申请延期"), {Status.ACCEPTED}, Status.ACCEPTED, HANDLING,
           EventKind.EXTENSION_REQUESTED, "第三十四条", _extension_requestable),
        _t("approve_extension", _("批准延期"), {Status.ACCEPTED}, Status.ACCEPTED, APPROVER,
           EventKind.EXTENSION_APPROVED, "第三十四条", _extension_pending, _not_own_extension),
        _t("reject_extension", _("不批准延期"), {Status.ACCEPTED}, Status.ACCEPTED, APPROVER,
           EventKind.EXTENSION_REJECTED, "第三十四条", _extension_pending),
        # Art. 32: the written reply (处理意见书), with the right to request review (Art. 35).
        _t("reply", _("答复"), {Status.ACCEPTED}, Status.REPLIED, HANDLING, EventKind.REPLIED, "第三十二条"),
        # Art. 22(3): the office checks the completion report of an assigned petition.
        _t("approve_completion", _("办结报告审核通过"), {Status.REPLIED}, Status.REPLIED, OFFICE,
           EventKind.COMPLETION_APPROVED, "第二十二条", _completion_report_due),
        _t("reject_completion", _("退回重办"), {Status.REPLIED}, Status.ACCEPTED, OFFICE,
           EventKind.COMPLETION_REJECTED, "第二十二条", _completion_report_due),
        # 满意度评价 of the reply, on the portal or from the office's follow-up call (回访).
        _t("evaluate", _("满意度评价"), _REPLIED_ONCE, None, (PETITIONER, OFFICE), EventKind.EVALUATED,
           "第二十一条第二款；《信访事项办理群众满意度评价工作办法》（国信发〔2022〕11号）", _evaluable),
        # Art. 35: review by the organ above the replying one, asked within 30 days of the reply's service.
        _t("request_review", _("请求复查"), {Status.REPLIED}, Status.UNDER_REVIEW, (PETITIONER, OFFICE),
           EventKind.REVIEW_REQUESTED, "第三十五条", _review_requestable),
        _t("review", _("出具复查意见"), {Status.UNDER_REVIEW}, Status.REVIEWED, REVIEWER, EventKind.REVIEWED,
           "第三十五条"),
        # Art. 36: recheck by the organ above the reviewer (asked within 30 days of the review opinion's
        # service); hearing days are not counted.
        _t("request_recheck", _("请求复核"), {Status.REVIEWED}, Status.UNDER_RECHECK, (PETITIONER, OFFICE),
           EventKind.RECHECK_REQUESTED, "第三十六条", _recheck_requestable),
        _t("start_hearing", _("举行听证"), {Status.UNDER_RECHECK}, None, RECHECKER, EventKind.HEARING_STARTED,
           "第三十六条", _hearing(open_=False)),
        _t("end_hearing", _("听证结束"), {Status.UNDER_RECHECK}, None, RECHECKER, EventKind.HEARING_ENDED,
           "第三十六条", _hearing(open_=True)),
        _t("recheck", _("出具复核意见"), {Status.UNDER_RECHECK}, Status.CONCLUDED, RECHECKER,
           EventKind.RECHECKED, "第三十六条", _hearing(open_=False)),
        # Art. 33 (调解、和解): an agreement reached while the matter is handled, or after the reply
        # while the petitioner could still appeal, is recorded as its own step (the state does not
        # change); the office then concludes the matter for it (``conclude``, conclusion agreement).
        _t("record_agreement", _("记录调解和解协议"), AGREEMENT_STATES, None,
           (HANDLING, OFFICE, REVIEWER, RECHECKER), EventKind.AGREEMENT_RECORDED, "第三十三条"),
        # Art. 36 ¶3 and the provinces' 终结 rules: a window passed unused, or an agreement carried out.
        _t("conclude", _("终结"), {Status.REPLIED, Status.REVIEWED}, Status.CONCLUDED, (OFFICE, SYSTEM),
           EventKind.CONCLUDED, "第三十六条第三款"),
        # Art. 19 ¶3, 36 ¶3: a concluded matter, or one handled within its time limit, is not taken again.
        _t("refuse_repeat", _("不再受理"), {Status.REGISTERED}, Status.DECLINED, OFFICE,
           EventKind.NOT_ACCEPTED_AGAIN, "第十九条第三款、第三十六条第三款", _repeats_settled_matter),
        _t("withdraw", _("撤回"), _BEFORE_REPLY, Status.WITHDRAWN, (PETITIONER, OFFICE), EventKind.WITHDRAWN,
           "依信访人申请", _not_replied),
        _t("merge", _("合并重复件"), _DISPOSABLE, Status.MERGED, OFFICE, EventKind.MERGED, "第十九条第三款"),
        # Art. 25: a major or urgent matter is reported up the chain at once.
        _t("report_urgent", _("上报重大紧急事项"), _OPEN, None, OFFICE, EventKind.REPORTED_URGENT,
           "第二十五条", _not_urgent),
        # Art. 28 ¶3: staff with a conflict of interest step aside (and lose sight of the petition).
        # 首办责任制: the handling body names the person who works the petition, and may change
        # them with a reason (the handler, and their leaders and supervisors).
        _t("assign_handler", _("指定承办人"), HANDLER_STATES, None, HANDLING, EventKind.HANDLER_ASSIGNED,
           "《信访工作条例》第三十一条；首办负责制"),
        _t("recuse", _("回避"), _OPEN, None,
           (OFFICE, UNIT, HANDLING, APPROVER, REVIEWER, RECHECKER, SUPERIOR), EventKind.RECUSED,
           "第二十八条第三款"),
    ]
}  # fmt: skip


# The transitions of the statutory procedure itself, before apps above register theirs (supervision)
# and without the ones that only name a person (assign_handler): the procedure's property tests
# walk these.
STATUTORY = frozenset(TRANSITIONS) - {"assign_handler"}

# Statuses in which a petition is still open (something is pending); the complement of FINAL_STATUSES.
OPEN_STATUSES = frozenset(_OPEN)


def register(*transitions: Transition) -> None:
    """Add transitions defined by an app above ``workflow`` (supervision registers its actions in
    its ``ready()``), so the engine checks them like the statutory ones without ``workflow``
    importing that app.  A name may be registered once."""
    for transition in transitions:
        if transition.action in TRANSITIONS and TRANSITIONS[transition.action] != transition:
            raise ValueError(f"transition {transition.action!r} is already registered")
        TRANSITIONS[transition.action] = transition


def transition(  # noqa: ANN201
    action,
    label,
    sources,
    target,
    sides,
    event,
    article,
    guard=None,
    actor_guard=None,  # noqa: ANN001
):
    """Build a ``Transition`` (for ``register``): ``sides`` one side or several."""
    return _t(action, label, sources, target, sides, event, article, guard, actor_guard)
