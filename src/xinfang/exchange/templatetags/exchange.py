"""``{% exchange_panel petition user %}``: on a petition's staff page, the referral from above (the
upper level's case number and deadline beside the statutory one, the report's status) and the
referrals to peers (their status and the report received), with the link to refer it to a peer
for the office's supervisors and intake clerks.  The page already authorised the petition."""

from __future__ import annotations

from typing import Any

from django import template
from django.utils import timezone

from xinfang.core import page_memo
from xinfang.petitions.choices import FINAL_STATUSES

from ..models import OutboundReferral, Peer, Referral
from ..services import REFERRING_ROLES

register = template.Library()


@register.inclusion_tag("exchange/_panel.html")
def exchange_panel(petition: Any, user: Any = None) -> dict[str, Any]:
    referral = page_memo.remember(
        petition, "referral", lambda: Referral.objects.filter(petition=petition).first()
    )
    outbound = page_memo.remember(
        petition,
        "outbound_referrals",
        lambda: list(
            OutboundReferral.objects.filter(petition=petition).select_related("peer").order_by("sent_at")
        ),
    )
    may_refer = (
        user is not None
        and user.has_role(*REFERRING_ROLES)
        and user.organisation_id == petition.office_id
        and petition.status not in FINAL_STATUSES
        and page_memo.remember(
            petition, "open_peers", lambda: Peer.objects.filter(is_enabled=True).exclude(base_url="").exists()
        )
    )
    return {
        "petition": petition,
        "referral": referral,
        "outbound": outbound,
        "may_refer": may_refer,
        "today": timezone.localdate(),
        "shown": referral is not None or outbound or may_refer,
    }
