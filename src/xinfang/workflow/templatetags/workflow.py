"""``{% petition_actions petition %}``: the actions the signed-in user may take on a petition now,
each with its form.  Lives here so the petition page (petitions app) needs no import of workflow."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django import template

from .. import deadlines
from ..actions import ACTION_FIELDS, ActionForm
from ..engine import allowed_actions, open_assignment

register = template.Library()


@register.inclusion_tag("workflow/_actions.html", takes_context=True)
def petition_actions(context: dict[str, Any], petition: Any) -> dict[str, Any]:
    user = context["request"].user
    form = ActionForm(petition=petition, initial={"version": petition.version})
    actions = [
        {"transition": t, "fields": [form[name] for name in ACTION_FIELDS[t.action]]}
        for t in allowed_actions(petition, user)
    ]
    return {"petition": petition, "actions": actions, "version": form["version"],
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
