"""``{% petition_actions petition %}``: the actions the signed-in user may take on a petition now,
each with its form (forward and assign with the proposed unit pre-selected);
``{% petition_after_reply petition %}``: the evaluation, appeals, hearings, conclusion and recusals.
Lives here so the petition page (petitions app) needs no import of workflow."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django import template

from .. import deadlines, routing
from ..actions import ACTION_FIELDS, ActionForm
from ..engine import allowed_actions, open_assignment

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
    form = ActionForm(petition=petition, initial=initial)
    actions = [
        {"transition": t, "fields": [form[name] for name in ACTION_FIELDS[t.action]],
         "routing": t.action in ROUTING_ACTIONS}
        for t in transitions
    ]  # fmt: skip
    return {"petition": petition, "actions": actions, "version": form["version"],
            "proposal": proposal, "channel": channel,
            "assignment": open_assignment(petition), "csrf_token": context.get("csrf_token")}  # fmt: skip


@register.inclusion_tag("workflow/_decisions.html")
def petition_decisions(petition: Any) -> dict[str, Any]:
    """The decision letters (处理意见书) issued on a petition, newest first."""
    letters = petition.decision_letters.select_related("organisation", "issued_by").order_by("-issued_at")
    return {"letters": list(letters)}


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
