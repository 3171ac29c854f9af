"""``{% petition_actions petition %}``: the actions the signed-in user may take on a petition now,
each with its form (forward and assign with the proposed unit pre-selected);
``{% petition_after_reply petition %}``: the evaluation, appeals, hearings, conclusion and recusals.
Lives here so the petition page (petitions app) needs no import of workflow."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from django import template
from django.conf import settings
from django.core.exceptions import ValidationError
from django.utils import translation
from django.utils.translation import gettext

from xinfang.core import page_memo
from xinfang.organisations.choices import RoleCode
from xinfang.petitions.models import Recusal

from .. import appeals, deadlines, routing
from ..actions import ACTION_FIELDS, ActionForm, redirect_target
from ..engine import allowed_actions, open_assignment
from ..models import EvaluationStatus

# The actions whose form names a unit: the routing proposal is pre-selected in them.
ROUTING_ACTIONS = frozenset({"forward", "assign"})

register = template.Library()


@register.inclusion_tag("workflow/_actions.html", takes_context=True)
def petition_actions(context: dict[str, Any], petition: Any) -> dict[str, Any]:
    user = context["request"].user
    transitions = allowed_actions(petition, user)
    initial: dict[str, Any] = {"version": petition.version}
    proposal = channel = None
    if any(t.action in ROUTING_ACTIONS for t in transitions):
        proposal = routing.propose_unit(petition)
        if proposal is not None:
            initial["unit"] = proposal.unit.pk
        if petition.category.route_to:
            channel = routing.special_channel_warning(petition.category.route_to)
    form = ActionForm(petition=petition, user=user, initial=initial)
    # A refused submission comes back in its own form, open and filled in as it was sent (issue #7
    # point 31); the other actions keep the empty form (their fields must not show its text).
    retry = getattr(context["request"], "action_retry", None)
    extension = None
    if any(t.action in EXTENSION_DECISIONS for t in transitions):
        extension = pending_extension(petition)
    actions = []
    for t in transitions:
        again = retry is not None and retry.action == t.action
        shown = retry.form if again else form
        actions.append({"transition": t, "fields": [shown[name] for name in ACTION_FIELDS[t.action]],
                        "routing": t.action in ROUTING_ACTIONS, "open": again,
                        "button": button_text(t.label), "citation": t.citation,
                        "extension": extension if t.action in EXTENSION_DECISIONS else None,
                        "link": redirect_target(t.action, petition, user)})  # fmt: skip
    # The petition moved on meanwhile and the action is gone: show what was typed, to copy.
    lost = retry if retry is not None and retry.action not in {t.action for t in transitions} else None
    return {"petition": petition, "actions": actions, "version": form["version"],
            "proposal": proposal, "channel": channel, "lost": lost, "extension": extension,
            "assignment": open_assignment(petition), "csrf_token": context.get("csrf_token")}  # fmt: skip


# The leader's decisions on an extension request: their forms show the request (issue #8 §7).
EXTENSION_DECISIONS = frozenset({"approve_extension", "reject_extension"})


@dataclass(frozen=True)
class PendingExtension:
    """What the leader decides on: who asked, when, for how many days and why, and the due date
    now and after approval (counted as ``services.approve_extension`` will count it)."""

    request: Any
    current_due_on: dt.date | None
    new_due_on: dt.date | None


def pending_extension(petition: Any) -> PendingExtension | None:
    """The petition's pending extension request with its dates, or None."""
    from ..models import ExtensionDecision
    from ..services import handling_period

    request = (
        petition.extension_requests.filter(decision=ExtensionDecision.PENDING)
        .select_related("requested_by", "organisation")
        .first()
    )
    if request is None:
        return None
    try:
        period = handling_period(petition, request.organisation)
        new_due_on = deadlines.extend(period, organisation=request.organisation, days=request.days).due_on
    except ValidationError:  # the rule was shortened since: approving is refused, the form says why
        new_due_on = None
    return PendingExtension(request=request, current_due_on=petition.due_on, new_due_on=new_due_on)


def button_text(label: Any) -> str:
    """The submit button: 确认 + the action, unless the action's name already begins with 确认
    (确认受理 read 确认确认受理, issue #7 point 33).  Decided on the Chinese source text, whatever the
    language shown."""
    with translation.override(settings.LANGUAGE_CODE):
        source = str(label)
    if source.startswith("确认"):
        return str(label)
    return gettext("确认{label}").format(label=label)


@register.inclusion_tag("workflow/_decisions.html")
def petition_decisions(petition: Any) -> dict[str, Any]:
    """The decision letters (处理意见书) issued on a petition, newest first."""
    return {"letters": appeals.letters_newest_first(petition)}


# --- deadline filters (moved here from core's ``xinfang`` library: one definition, in deadlines) ---


@register.filter
def days_left(due_on: dt.date | None) -> int | None:
    """Calendar days to ``due_on`` (negative once overdue); None when there is no deadline."""
    return None if due_on is None else deadlines.days_left(due_on)


@register.filter
def deadline_light(due_on: dt.date | None) -> str:
    """green, yellow (3 days or fewer left) or red (overdue): the traffic light of issue #3;
    ``none`` without a deadline."""
    return deadlines.deadline_light(due_on)


@register.filter
def light_label(light: str) -> str:
    """The Chinese meaning of a light, for its tooltip (时限充足 / 即将到期 / 已超期)."""
    return str(deadlines.LIGHT_LABELS.get(light, ""))


@register.inclusion_tag("workflow/_deadline.html")
def petition_deadline(petition: Any) -> dict[str, Any]:
    """A petition's due date as lists and the petition page show it: with the traffic light and the
    days left (超期 in red) when staff must meet it; as a plain date labelled as the petitioner's
    window (评价/复查期限, 复核申请期限) in REPLIED/REVIEWED — no light, never overdue (issue #8 §2)."""
    due_on = petition.due_on
    staff = deadlines.is_staff_deadline(petition)
    light = deadlines.petition_light(petition)
    left = deadlines.days_left(due_on) if due_on is not None else None
    return {
        "due_on": due_on,
        "staff": staff,
        "light": light,
        "light_label": deadlines.LIGHT_LABELS[light],
        "left": left,
        "overdue_days": -left if left is not None and left < 0 else 0,
        "window_label": deadlines.PETITIONER_WINDOW_LABELS.get(petition.status, gettext("期限")),
        "not_started": deadlines.window_not_started(petition),  # not served yet: no window runs
    }


@register.simple_tag(takes_context=True)
def may_take(context: dict[str, Any], petition: Any, action: str) -> bool:
    """Whether the signed-in user may take ``action`` on ``petition`` now, e.g. to offer "更换" beside
    the handler only to those whose action panel holds 指定承办人 (``perform`` checks again)."""
    from ..engine import TransitionRefused, check_allowed, may_change
    from ..transitions import TRANSITIONS

    user = context["request"].user
    transition = TRANSITIONS.get(action)
    if transition is None or not may_change(petition, user):
        return False
    try:
        check_allowed(petition, user, transition)
    except TransitionRefused:
        return False
    return True


# --- after the reply ----------------------------------------------------------------------------


def sees_recusals(user: Any, petition: Any) -> bool:
    """Who stepped aside, and why, is shown to the petition's office and to leaders only (回避,
    Art. 28 ¶3): a unit's clerk need not know a colleague's conflict of interest."""
    if getattr(user, "organisation_id", None) == petition.office_id:
        return True
    return bool(getattr(user, "has_role", None) and user.has_role(RoleCode.LEADER))


@register.inclusion_tag("workflow/_after_reply.html", takes_context=True)
def petition_after_reply(context: dict[str, Any], petition: Any) -> dict[str, Any]:
    """The records after the reply: the evaluation and its status, the appeals (复查、复核) with
    their hearings and the running one's due date, the conclusion, and the recusals.

    A fixed number of queries whatever the number of appeals, hearings or recusals (prefetched);
    only the open appeal (at most one, a database constraint) has its due date computed — a decided
    one shows the date of its opinion instead."""
    user = context["request"].user
    evaluation, status = appeals.evaluation_state(petition)  # of the reply that stands (issue #7 point 6)
    appeal_rows = []
    for appeal in appeals.appeals_with_hearings(petition):
        hearings = list(appeal.hearings.all())
        # no due date while a hearing is open: the clock stands still (issue #7 point 8)
        paused = any(h.ended_on is None for h in hearings)
        due = appeals.appeal_deadline(appeal) if appeal.decided_on is None and not paused else None
        appeal_rows.append({"appeal": appeal, "due": due, "hearings": hearings})
    recusals = (
        page_memo.remember(
            petition,
            "recusals",
            lambda: list(
                Recusal.objects.filter(petition=petition)
                .select_related("user", "decided_by")
                .order_by("decided_at")
            ),
        )
        if sees_recusals(user, petition)
        else []
    )
    return {
        "petition": petition,
        "evaluation": evaluation,
        "evaluation_status": EvaluationStatus(status) if status else None,
        "appeals": appeal_rows,
        "recusals": recusals,
        "shown": bool(evaluation or status or appeal_rows or recusals or petition.conclusion),
    }
