"""``{% information_panel petition %}``: on a petition's staff page, the information reports that
draw on it (those the user may read) and, for a clerk of a petition office, a link to draft one
"based on this petition" (紧急信息 when the petition was reported urgent, Art. 25).  Lives here so
the petition page imports nothing of this app; the page already authorised the petition."""

from __future__ import annotations

from typing import Any

from django import template

from xinfang.core import page_memo

from .. import services

register = template.Library()


@register.inclusion_tag("information/_panel.html", takes_context=True)
def information_panel(context: dict[str, Any], petition: Any) -> dict[str, Any]:
    user = context["request"].user
    reports = page_memo.remember(
        petition,
        "information_reports",
        lambda: list(
            services.visible_to(user)
            .filter(petitions=petition)
            .select_related("office", "receiver")
            .order_by("-pk")[:10]
        ),
    )
    return {"petition": petition, "reports": reports, "can_draft": services.can_draft(user)}
