"""Periodic jobs of supervision (scheduled in ``xinfang.core.schedule.PERIODIC_JOBS``).

Each job calls a service and is safe to run twice at once and to be killed halfway: the work is
done in one transaction whose writes are guarded by unique constraints.
"""

from __future__ import annotations

import datetime as dt


def urge_pass(today: dt.date | str | None = None) -> dict[str, int]:
    """The daily urging pass (催办): reminders before, on and after every staff deadline.

    ``today`` (a date or an ISO string, for the benchmark and tests) defaults to the local date.
    Returns the counts of rows written (see ``urging.run_urge_pass``).
    """
    from .urging import run_urge_pass

    if isinstance(today, str):
        today = dt.date.fromisoformat(today)
    return run_urge_pass(today=today)
