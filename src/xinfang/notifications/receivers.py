"""Receivers of ``workflow.signals.transition_performed``: the petitioner's SMS at the milestones
and the staff bell for the work that arrives.  They run inside the action's transaction, so what
they write commits or rolls back with it; sending waits for the commit (services.queue_messages).
"""

from __future__ import annotations

import logging
from typing import Any

from django.db.models import QuerySet
from django.urls import reverse
from django.utils.translation import gettext as _

from xinfang.petitions.models import Petition
from xinfang.workflow import engine

from . import recipients
from .services import notify, notify_petitioner

log = logging.getLogger(__name__)

# Transition → the petitioner's SMS template.
PETITIONER_SMS = {
    "register": "registered",
    "accept": "accepted",
    "unit_accept": "accepted",
    "decline": "declined",
    "refuse_repeat": "declined",
    "redirect": "redirected",
    "forward": "forwarded",
    "decide_jurisdiction": "forwarded",
    "assign": "assigned",
    "approve_extension": "extended",
    "reply": "replied",
    "review": "reviewed",
    "recheck": "concluded",
    "conclude": "concluded",
}

# ``escalate_supervision`` is not here: the supervision app tells whom each escalation level
# reaches itself (the unit's leaders, then the office above), by bell and e-mail.
SUPERVISION_ACTIONS = frozenset(
    {
        "supervise",
        "answer_supervision",
        "accept_supervision_answer",
        "return_supervision_answer",
        "lift_supervision",
    }
)


def on_transition(
    sender: Any, *, petition: Petition, action: str, user: Any, event: Any, **kwargs: Any
) -> None:
    text_petitioner(petition, action, event)
    tell_staff(petition, action, user, event)


def _date(value: Any) -> str:
    return f"{value.year}年{value.month}月{value.day}日" if value else ""


def text_petitioner(petition: Petition, action: str, event: Any) -> int:
    code = PETITIONER_SMS.get(action)
    if code is None:
        return 0
    # Just registered: no unit yet, the registering office handles it (no assignment to read).
    organisation = petition.office if action == "register" else engine.handling_organisation(petition)
    if action == "review":
        appeal = petition.appeals.order_by("-pk").select_related("body").first()
        organisation = appeal.body if appeal is not None else organisation
    context: dict[str, Any] = {
        "organisation": organisation.name,
        "due_on": _date(petition.due_on),
        # In REPLIED / REVIEWED ``due_on`` is the petitioner's window (review / recheck, Art. 35-36),
        # which runs from the service of the letter (opinion): not known yet when it is issued.
        "review_by": _date(petition.due_on) or _("收到处理意见书之日起30日届满"),
        "recheck_by": _date(petition.due_on) or _("收到复查意见书之日起30日届满"),
        "reason": "",
    }
    if action == "approve_extension":
        request = petition.extension_requests.order_by("-pk").first()
        reason = (request.reason if request is not None else "").strip().replace("\n", " ")
        context["reason"] = reason if len(reason) <= 60 else reason[:59] + "…"
    # A registration's event was created in this transaction: nothing can be queued for it yet.
    new_event = action == "register"
    return notify_petitioner(
        petition, code, event_id=getattr(event, "pk", None), new_event=new_event, **context
    )


def _detail(petition: Petition) -> str:
    return reverse("petitions:detail", args=[petition.number])


def _without(ids: QuerySet, user: Any) -> QuerySet:
    pk = getattr(user, "pk", None)
    return ids.exclude(pk=pk) if pk is not None and getattr(user, "is_authenticated", False) else ids


def tell_staff(petition: Petition, action: str, user: Any, event: Any) -> int:
    """The bell (and e-mail for urgent items) for whoever must act next."""
    rule = _staff_rule(petition, action, event)
    if rule is None:
        return 0
    ids, kind, title, urgent = rule
    event_id = getattr(event, "pk", None)
    return notify(
        _without(ids, user),
        kind=kind,
        title=title,
        body=(getattr(event, "comment", "") or "")[:500],
        url=_detail(petition),
        petition=petition,
        dedupe_key=f"{action}:{event_id}" if event_id else "",
        email=urgent,
        sms=urgent,
    )


def _staff_rule(petition: Petition, action: str, event: Any) -> tuple[QuerySet, str, str, bool] | None:
    number = petition.number
    if action in {"forward", "assign", "overrule_return", "decide_jurisdiction"}:
        assignment = engine.open_assignment(petition)
        if assignment is None:
            return None
        template = (
            _("新交办件{number}：请在期限内决定受理或提出异议")
            if action == "assign"
            else _("新转送件{number}：请在期限内决定受理或提出异议")
        )
        return (
            recipients.unit_staff(assignment.unit),
            action,
            template.format(number=number),
            False,
        )
    if action == "return":
        return (
            recipients.office_intake(petition),
            "returned",
            _("{number}被承办单位退回：请审核异议并重新处理").format(number=number),
            False,
        )
    if action == "request_extension":
        return (
            recipients.approving_leaders(petition),
            "extension_requested",
            _("{number}申请延长办理期限：请审批").format(number=number),
            False,
        )
    if action in {"approve_extension", "reject_extension"}:
        outcome = _("已批准") if action == "approve_extension" else _("未批准")
        return (
            recipients.handling_staff(petition),
            action,
            _("{number}延期申请{outcome}").format(number=number, outcome=outcome),
            False,
        )
    if action == "reply":
        assignment = engine.open_assignment(petition)
        if assignment is None or assignment.kind != "assign":
            return None
        return (
            recipients.office_supervisors(petition.office),
            "completion_report",
            _("交办件{number}已报送办结情况：请审核").format(number=number),
            False,
        )
    if action == "reject_completion":
        return (
            recipients.handling_staff(petition),
            action,
            _("{number}办结情况未通过审核：请重新办理").format(number=number),
            False,
        )
    if action == "assign_handler":
        if not petition.handler_id:
            return None
        return (
            recipients.members_by_ids([petition.handler_id]),
            "handler_assigned",
            _("您被指定为{number}的承办人").format(number=number),
            False,
        )
    if action in {"request_review", "request_recheck"}:
        what = _("复查") if action == "request_review" else _("复核")
        return (
            recipients.reviewing_staff(petition),
            action,
            _("{number}申请{what}：请在期限内出具意见").format(number=number, what=what),
            False,
        )
    if action in SUPERVISION_ACTIONS:
        data = getattr(event, "data", None) or {}
        return _supervision_rule(petition, action, data.get("notice"))
    return None


def _supervision_rule(
    petition: Petition, action: str, notice_id: Any
) -> tuple[QuerySet, str, str, bool] | None:
    notice = recipients.supervision_notice(petition, notice_id)
    number = petition.number
    listed = getattr(notice, "kind", "") == "listed"
    if action == "answer_supervision":
        office = getattr(notice, "office", None) or petition.office
        return (
            recipients.office_supervisors(office),
            action,
            _("{number}督办事项已反馈：请审核").format(number=number),
            False,
        )
    unit = getattr(notice, "unit", None) or engine.handling_organisation(petition)
    titles = {
        "supervise": _("{number}被督办：请按要求办理并按期反馈"),
        "return_supervision_answer": _("{number}督办反馈被退回：请补充后重新反馈"),
        "accept_supervision_answer": _("{number}督办反馈已通过"),
        "lift_supervision": _("{number}督办已解除"),
    }
    # A listed supervision (挂牌督办) is urgent: e-mail too, and its named leader hears of it.
    urgent = action == "supervise" and listed
    ids = recipients.unit_staff(unit)
    leader_id = getattr(notice, "leader_id", None)
    if action == "supervise" and leader_id:
        ids = recipients.unit_staff_and(unit, [leader_id])
    return (ids, action, titles[action].format(number=number), urgent)
