"""Demo leaders' work, ledgers and campaigns (issue #11): each area seeds its own records, in an
order where later areas may use earlier ones (a campaign's cases are contracted to leaders)."""

from __future__ import annotations

from . import (
    campaigns_data,
    exchange_data,
    information_data,
    leadership_data,
    reception_data,
    screening_data,
)
from .tree import DemoTree

AREAS = (
    ("disputes", screening_data.seed),
    ("leaders", leadership_data.seed),
    ("reception", reception_data.seed),
    ("campaigns", campaigns_data.seed),
    ("referrals", exchange_data.seed),
    ("information reports", information_data.seed),
)


def seed_ledgers(tree: DemoTree) -> dict[str, int]:
    """Seed every area; how many records each made."""
    return {name: seed(tree) for name, seed in AREAS}
