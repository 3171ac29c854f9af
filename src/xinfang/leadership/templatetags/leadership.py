"""``{% leadership_panel petition %}``: the petition page's 包案 and 阅批 panel — the petition's
contracts (leader, team, deadline, lateness) and instructions with their history, and the links
to contract or instruct for those who may.  The page already authorised the petition."""

from __future__ import annotations

from typing import Any

from django import template
from django.utils import timezone

from xinfang.core import page_memo

from .. import access
from ..models import ContractStatus
from ..selectors import contracts_of_petition, instructions_of_petition

register = template.Library()


@register.inclusion_tag("leadership/_panel.html", takes_context=True)
def leadership_panel(context: dict[str, Any], petition: Any) -> dict[str, Any]:
    user = context["request"].user
    contracts = page_memo.remember(petition, "leader_contracts", lambda: contracts_of_petition(petition))
    today = timezone.localdate()
    return {
        "petition": petition,
        "contracts": contracts,
        "instructions": page_memo.remember(
            petition, "instructions", lambda: instructions_of_petition(petition)
        ),
        "today": today,
        "late": {c.pk for c in contracts if c.is_late(today)},
        # the cheap test first: no query for the leaders while a contract is open
        "may_contract": not any(c.status == ContractStatus.OPEN for c in contracts)
        and page_memo.remember(petition, "leaders_for_user", lambda: access.leaders_for(user).exists()),
        "may_instruct": access.is_casework(user) and user.has_role("leader"),
    }
