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
from xinfang.petitions.choices import EventKind, Status

# Who acts: the petition office that registered the petition, or the unit now responsible for it.
OFFICE = "office"
UNIT = "unit"
# The side handling an accepted petition: the open unit when it was forwarded or assigned, the
# registering office when it accepted its own matter.
HANDLING = "handling"
# The leader line of the handling side: the handling organisation or a body above it up to and
# including the nearest level of government (Art. 34: 经本机关、单位负责人批准).
APPROVER = "approver"

OFFICE_ROLES = frozenset({RoleCode.INTAKE, RoleCode.SUPERVISOR, RoleCode.LEADER})
UNIT_ROLES = frozenset({RoleCode.HANDLER, RoleCode.LEADER})
HANDLING_ROLES = frozenset({RoleCode.HANDLER, RoleCode.SUPERVISOR, RoleCode.LEADER})
APPROVER_ROLES = frozenset({RoleCode.LEADER})
_SIDE_ROLES = {OFFICE: OFFICE_ROLES, UNIT: UNIT_ROLES, HANDLING: HANDLING_ROLES, APPROVER: APPROVER_ROLES}


@dataclass(frozen=True)
class Transition:
    action: str
    label: str
    sources: frozenset[str]
    target: str
    side: str
    roles: frozenset[str]
    event: str
    article: str
    guard: Callable[[Any], None] | None = None


def _t(action, label, sources, target, side, event, article, guard=None) -> Transition:  # noqa: ANN001
    return Transition(
        action, label, frozenset(sources), target, side, _SIDE_ROLES[side], event, article, guard
    )


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


def _extension_pending(petition: Any) -> None:
    from django.utils.translation import gettext

    from .models import ExtensionDecision, ExtensionRequest

    if not ExtensionRequest.objects.filter(petition=petition, decision=ExtensionDecision.PENDING).exists():
        _refuse(gettext("没有待审批的延期申请。"), "no_pending_extension")


def _completion_report_due(petition: Any) -> None:
    """Only an assigned petition (交办) has a completion report for the office to check (Art. 22(3))."""
    from django.utils.translation import gettext

    from .models import Assignment

    if not Assignment.objects.filter(petition=petition, ended_at__isnull=True, report_required=True).exists():
        _refuse(gettext("该信访事项没有待审核的办结报告。"), "no_completion_report")


_DISPOSABLE = {Status.REGISTERED, Status.RETURNED}

TRANSITIONS: dict[str, Transition] = {
    t.action: t
    for t in [
        # Art. 22: within 15 days of receipt the petition office forwards, assigns, accepts its own
        # matter, declines, or tells the petitioner the lawful channel.  A returned petition is
        # disposed of again (re-routed) after the office agrees with the objection (Art. 23 ¶3).
        _t("forward", _("转送"), _DISPOSABLE, Status.FORWARDED, OFFICE, EventKind.FORWARDED, "第二十二条"),
        _t("assign", _("交办"), _DISPOSABLE, Status.ASSIGNED, OFFICE, EventKind.ASSIGNED, "第二十二条"),
        _t("accept", _("受理"), _DISPOSABLE, Status.ACCEPTED, OFFICE, EventKind.ACCEPTED, "第二十二条"),
        _t("decline", _("不予受理"), _DISPOSABLE, Status.DECLINED, OFFICE, EventKind.DECLINED, "第二十二条"),
        _t("redirect", _("告知其他途径"), _DISPOSABLE, Status.REDIRECTED, OFFICE, EventKind.REDIRECTED,
           "第二十二条"),
        # Art. 23 ¶3: the unit confirms and accepts within 15 days, or objects within 5 working days.
        _t("unit_accept", _("确认受理"), {Status.FORWARDED, Status.ASSIGNED}, Status.ACCEPTED, UNIT,
           EventKind.ACCEPTED, "第二十三条第三款"),
        _t("return", _("退回（提出异议）"), {Status.FORWARDED, Status.ASSIGNED}, Status.RETURNED, UNIT,
           EventKind.RETURNED, "第二十三条第三款"),
        # The office overrules the objection: the matter goes back to the same unit.
        _t("overrule_return", _("不同意退回"), {Status.RETURNED}, Status.FORWARDED, OFFICE,
           EventKind.RETURN_OVERRULED, "第二十三条第三款"),
        # Art. 34: handling within 60 days; one extension of at most 30 days, approved by the
        # leader of the handling body, the petitioner told the reason.  Status stays accepted.
        _t("request_extension", _("申请延期"), {Status.ACCEPTED}, Status.ACCEPTED, HANDLING,
           EventKind.EXTENSION_REQUESTED, "第三十四条", _extension_requestable),
        _t("approve_extension", _("批准延期"), {Status.ACCEPTED}, Status.ACCEPTED, APPROVER,
           EventKind.EXTENSION_APPROVED, "第三十四条", _extension_pending),
        _t("reject_extension", _("不批准延期"), {Status.ACCEPTED}, Status.ACCEPTED, APPROVER,
           EventKind.EXTENSION_REJECTED, "第三十四条", _extension_pending),
        # Art. 32: the written reply (处理意见书), with the right to request review (Art. 35).
        _t("reply", _("答复"), {Status.ACCEPTED}, Status.REPLIED, HANDLING, EventKind.REPLIED, "第三十二条"),
        # Art. 22(3): the office checks the completion report of an assigned petition.
        _t("approve_completion", _("办结报告审核通过"), {Status.REPLIED}, Status.REPLIED, OFFICE,
           EventKind.COMPLETION_APPROVED, "第二十二条", _completion_report_due),
        _t("reject_completion", _("退回重办"), {Status.REPLIED}, Status.ACCEPTED, OFFICE,
           EventKind.COMPLETION_REJECTED, "第二十二条", _completion_report_due),
    ]
}  # fmt: skip
