"""Receivers of ``workflow.signals.transition_performed`` (inside the action's transaction)."""

from __future__ import annotations

from typing import Any

from xinfang.petitions.choices import FINAL_STATUSES
from xinfang.petitions.models import Petition


def end_deadlines_of_ended_petition(
    sender: Any, *, petition: Petition, action: str, user: Any, source: str = "", **kwargs: Any
) -> None:
    """A petition that reached a final state (withdrawn, merged, declined, concluded …) can no longer
    have its notices answered or lifted (the supervision actions need an open petition), so the
    units' open response deadlines end here, as they would if the notices were lifted."""
    if petition.status not in FINAL_STATUSES or source in FINAL_STATUSES:
        return
    from .services import end_response_deadlines

    end_response_deadlines(petition, user=user, action=action)
