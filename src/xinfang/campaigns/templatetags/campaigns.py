"""``{% campaigns_panel petition %}``: the petition page's panel of the campaigns that took the
petition on (专项行动, with the case's category and status) and its relief applications (信访救助),
with the link to record one.  The page already authorised the petition; two queries, none when
the page's probes found neither (core.page_memo)."""

from __future__ import annotations

from typing import Any

from django import template

from xinfang.core import page_memo

from .. import access
from ..models import CampaignCase, ReliefApplication

register = template.Library()


@register.inclusion_tag("campaigns/_panel.html", takes_context=True)
def campaigns_panel(context: dict[str, Any], petition: Any) -> dict[str, Any]:
    user = context["request"].user
    cases = page_memo.remember(
        petition,
        "campaign_cases",
        lambda: list(
            CampaignCase.objects.filter(petition=petition, campaign__in=access.visible_campaigns(user))
            .select_related("campaign", "category")
            .order_by("-campaign__starts_on", "-id")
        ),
    )
    relief = page_memo.remember(
        petition,
        "relief_applications",
        lambda: list(
            ReliefApplication.objects.filter(petition=petition).select_related("applicant").order_by("-id")
        ),
    )
    return {
        "petition": petition,
        "cases": cases,
        "relief": relief,
        "may_apply": access.may_record_relief(user),
    }
