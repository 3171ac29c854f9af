"""Template helpers: query-string editing.  (The deadline filters ``days_left`` and ``deadline_light``
live in the ``workflow`` library, next to the deadline engine they call.)"""

from __future__ import annotations

from django import template

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
