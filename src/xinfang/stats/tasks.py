"""The worker's job: keep the counts current (core/schedule.py runs it every minute)."""

from __future__ import annotations

from .hotspots import recompute
from .rollup import refresh


def refresh_counts() -> int:
    """Recompute the days marked since the last run; safe to run twice at once (rollup.refresh)."""
    return refresh()


def recompute_hotspots(start: str, end: str, scope_pk: int, category_keys: list[str]) -> int:
    """A dashboard's hotspot table after the counts were refreshed (hotspots.cached_hotspots)."""
    return recompute(start, end, scope_pk, category_keys)
