"""``{% supervision_panel petition %}``: the supervision notices of a petition on its staff page
(kind, issuer, requirements, date — red once overdue —, feedback history, status).  Internal: the
portal never renders it.  The page already authorised the petition."""

from __future__ import annotations

from typing import Any

from django import template
from django.utils import timezone

from ..selectors import notices_for_petition

register = template.Library()


@register.inclusion_tag("supervision/_panel.html")
def supervision_panel(petition: Any) -> dict[str, Any]:
    notices = list(notices_for_petition(petition))
    return {"notices": notices, "today": timezone.localdate()}
