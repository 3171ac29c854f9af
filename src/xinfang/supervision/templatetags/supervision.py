"""``{% supervision_panel petition %}``: the supervision notices of a petition on its staff page
(kind, issuer, requirements, date — red once overdue —, feedback history, status).  Internal: the
portal never renders it.  The page already authorised the petition."""

from __future__ import annotations

from typing import Any

from django import template
from django.utils import timezone

from ..models import NoticeStatus
from ..selectors import page_notices

register = template.Library()


@register.inclusion_tag("supervision/_panel.html")
def supervision_panel(petition: Any) -> dict[str, Any]:
    from xinfang.workflow.engine import handling_organisation

    notices = page_notices(petition)
    if any(n.status == NoticeStatus.OPEN for n in notices):
        # An open notice whose unit no longer handles the petition cannot be answered any more.
        handler = handling_organisation(petition)
        for n in notices:
            n.unit_moved = n.status == NoticeStatus.OPEN and not handler.is_within(n.unit)
    return {"notices": notices, "today": timezone.localdate()}
