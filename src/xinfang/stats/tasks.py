"""The worker's job: keep the counts current (core/schedule.py runs it every minute)."""

from __future__ import annotations

from .rollup import refresh


def refresh_counts() -> int:
    """Recompute the days marked since the last run; safe to run twice at once (rollup.refresh)."""
    return refresh()
