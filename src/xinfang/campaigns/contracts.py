"""The link to case contracting (包案, the leadership app): whether a campaign case has a leader.

A case counts as contracted when the campaign recorded a leader for it (``contract_case``) or when
its petition has an open ``LeaderContract`` made in the leadership pages: one condition, used by
the progress figures, the case filters and the "积案未包案" panel, so they agree.
"""

from __future__ import annotations

from typing import Any

from django.db.models import Exists, OuterRef, Q


def open_contract_of(petition_ref: str = "petition_id") -> Exists:
    """EXISTS an open contract of the petition at ``petition_ref`` (an outer column)."""
    from xinfang.leadership.models import ContractStatus, LeaderContract

    return Exists(
        LeaderContract.objects.filter(status=ContractStatus.OPEN, petition_id=OuterRef(petition_ref))
    )


def contracted_q() -> Q:
    """The condition on ``CampaignCase`` rows."""
    return Q(leader__isnull=False) | Q(open_contract_of())


def backlog_required(org: Any) -> bool:
    """True when the area's contracting policy (the nearest up the tree) requires backlog cases
    to be contracted to a leader."""
    from xinfang.leadership.models import ContractingPolicy

    if org is None:
        return False
    line = [int(p) for p in org.path.strip("/").split("/") if p]
    policy = (
        ContractingPolicy.objects.filter(organisation_id__in=line).order_by("-organisation__depth").first()
    )
    return bool(policy and policy.require_for_backlog)


def open_contracts(petition_ids: list[int]) -> dict[int, Any]:
    """The open contract of each petition (leadership's selector, one query)."""
    from xinfang.leadership.selectors import open_contracts_by_petition

    return open_contracts_by_petition(petition_ids)
