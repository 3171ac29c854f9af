"""Periodic jobs of supervision (scheduled in ``xinfang.core.schedule.PERIODIC_JOBS``).

Each job calls a service and is safe to run twice at once and to be killed halfway: the work is
done in one transaction whose writes are guarded by unique constraints.
"""

from __future__ import annotations

import datetime as dt
import logging

log = logging.getLogger(__name__)


def urge_pass(today: dt.date | str | None = None) -> dict[str, int]:
    """The daily urging pass (催办): reminders before, on and after every staff deadline.

    ``today`` (a date or an ISO string, for the benchmark and tests) defaults to the local date.
    Returns the counts of rows written (see ``urging.run_urge_pass``).
    """
    from .urging import run_urge_pass

    if isinstance(today, str):
        today = dt.date.fromisoformat(today)
    return run_urge_pass(today=today)


def escalate_unanswered(today: dt.date | str | None = None) -> dict[str, int]:
    """The daily escalation of supervision notices left unanswered past their date (督办逾期升级).

    Level 0→1: the unit's leaders are told; level 1→2, ``escalation_days()`` working days later:
    the petition office one level above is told and gains sight of the petition.  Each notice is
    escalated in its own transaction through the engine (row lock, re-check of the level inside
    it), so a second run the same day, or a second worker at the same time, escalates nothing
    twice, and a run killed halfway leaves the rest for the next one.  Returns counts per level.
    """
    from django.utils import timezone

    from xinfang.petitions.choices import FINAL_STATUSES

    from .models import NoticeStatus, SupervisionNotice
    from .services import escalate_supervision

    if isinstance(today, str):
        today = dt.date.fromisoformat(today)
    today = today or timezone.localdate()
    counts = {"level_1": 0, "level_2": 0, "skipped": 0}
    # Candidates only; escalate_supervision decides again under the lock.  The (status,
    # respond_by) index serves this scan.
    candidates = (
        SupervisionNotice.objects.filter(
            status=NoticeStatus.OPEN, respond_by__lt=today, escalation_level__lt=2
        )
        # a closed petition's notices are no longer chased (the transition would refuse anyway)
        .exclude(petition__status__in=FINAL_STATUSES)
        .order_by("respond_by", "pk")
        .values_list("pk", "petition__number")
    )
    for pk, number in candidates.iterator():
        level = escalate_supervision(number=number, notice=pk, today=today)
        if level is None:
            counts["skipped"] += 1
        else:
            counts[f"level_{level}"] += 1
    log.info("supervision escalation %s: %s", today.isoformat(), counts)
    return counts
