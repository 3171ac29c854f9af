"""Template helpers: deadline lights and query-string editing."""

from __future__ import annotations

import datetime as dt

from django import template
from django.utils import timezone

register = template.Library()


@register.simple_tag(takes_context=True)
def query_with(context, **changes) -> str:
    """The current query string with some parameters replaced (for sort links and pagination)."""
    params = context["request"].GET.copy()
    for key, value in changes.items():
        if value in (None, ""):
            params.pop(key, None)
        else:
            params[key] = value
    return "?" + params.urlencode() if params else "?"


@register.filter
def days_left(due_on: dt.date | None) -> int | None:
    if due_on is None:
        return None
    return (due_on - timezone.localdate()).days


@register.filter
def deadline_light(due_on: dt.date | None) -> str:
    """green, yellow (3 days or fewer left) or red (overdue): the traffic light of issue #3."""
    left = days_left(due_on)
    if left is None:
        return "none"
    if left < 0:
        return "red"
    return "yellow" if left <= 3 else "green"
