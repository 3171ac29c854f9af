"""Every periodic job of Xinfang, as data: what runs, and when.

``migrate`` writes this list into django-q2's schedule table (``xinfang.core.jobs.sync_schedules``),
as rows named ``xinfang:<name>``, so a site never installs cron lines.  This list is the source of
truth for what runs and when: a time changed by hand in the table is set back by the next
``migrate``; pausing a job there (repeats = 0) is kept; a job removed from this list loses its row.

Each job lives next to the service it calls (``<app>/tasks.py``) and must be safe to run twice at
once and to be killed halfway (docs/architecture.md, "Background work").
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class PeriodicJob:
    name: str  # stable key of the schedule row
    func: str  # dotted path of the task function
    cron: str  # when, as a cron expression in TIME_ZONE (minute hour day month weekday)
    description: str


PERIODIC_JOBS: tuple[PeriodicJob, ...] = (
    PeriodicJob(
        "maintain_partitions",
        "xinfang.core.partitions.maintain_partitions",
        "40 0 * * *",
        "Create next months' partitions of the large tables (PostgreSQL) and drop those past retention.",
    ),
    PeriodicJob(
        "deliver_outbox",
        "xinfang.notifications.tasks.deliver_pending",
        "* * * * *",
        "Send e-mail and SMS still waiting in the outbox (retries, and anything a crash left behind).",
    ),
    PeriodicJob(
        "daily_urging",
        "xinfang.supervision.tasks.urge_pass",
        "30 7 * * *",
        "Reminders before, on and after every staff deadline (催办), and the overdue scan.",
    ),
    PeriodicJob(
        "escalate_supervision",
        "xinfang.supervision.tasks.escalate_unanswered",
        "45 7 * * *",
        "Supervision notices not answered in time go to the unit's leader, then to the level above.",
    ),
    PeriodicJob(
        "conclude_lapsed",
        "xinfang.workflow.tasks.conclude_lapsed",
        "15 1 * * *",
        "Conclude petitions whose review or recheck window passed unused (Art. 36 ¶3).",
    ),
    PeriodicJob(
        "refresh_statistics",
        "xinfang.stats.tasks.refresh_counts",
        "* * * * *",
        "Recompute the statistics counts of the days that actions marked (stats.rollup).",
    ),
    PeriodicJob(
        "purge_idempotency_keys",
        "xinfang.api.idempotency.purge_idempotency_keys",
        "30 1 * * *",
        "Delete the API's stored Idempotency-Key responses past their retention (one DELETE).",
    ),
    PeriodicJob(
        "reception_sessions",
        "xinfang.reception.tasks.materialise_sessions",
        "20 0 * * *",
        "Extend every reception schedule's sessions (领导接待日) to three months ahead.",
    ),
    PeriodicJob(
        "reception_reminders",
        "xinfang.reception.tasks.send_reminders",
        "0 16 * * *",
        "SMS the day before to citizens who booked tomorrow's reception days.",
    ),
    PeriodicJob(
        "exchange_deliver",
        "xinfang.exchange.tasks.deliver_pending",
        "* * * * *",
        "Send referrals, reports and decisions still waiting for a peer installation (retries with backoff).",
    ),
    PeriodicJob(
        "leadership_overdue",
        "xinfang.leadership.tasks.remind_overdue",
        "50 7 * * *",
        "Ring the unit and leader of overdue instructions (阅批) and the team of late contracts (包案).",
    ),
)
