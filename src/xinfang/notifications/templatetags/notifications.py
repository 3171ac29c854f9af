"""``{% notification_bell %}``: the bell with the unread count in the staff header (one indexed
count per page; nothing for anonymous visitors)."""

from __future__ import annotations

from typing import Any

from django import template

from ..services import unread_count

register = template.Library()


@register.inclusion_tag("notifications/_bell.html", takes_context=True)
def notification_bell(context: dict[str, Any]) -> dict[str, Any]:
    request = context.get("request")
    user = getattr(request, "user", None)
    authenticated = bool(user is not None and user.is_authenticated)
    return {"show": authenticated, "unread": unread_count(user) if authenticated else 0}
