"""``{% petition_actions petition %}``: the actions the signed-in user may take on a petition now,
each with its form.  Lives here so the petition page (petitions app) needs no import of workflow."""

from __future__ import annotations

from typing import Any

from django import template

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
