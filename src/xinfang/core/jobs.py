"""Handing work to the background worker (django-q2), and the periodic jobs' schedule rows.

``enqueue`` queues a task only once the current transaction commits: a job never sees data that may
still roll back, and nothing is queued for a rolled-back transaction.  Whatever must survive a
crash between the commit and the worker is a row of its own (the notifications outbox), which a
periodic job picks up again.

``sync_schedules`` writes ``core.schedule.PERIODIC_JOBS`` into django-q2's schedule table; it runs
after every ``migrate`` (``post_migrate``), so a site never installs cron lines.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from typing import Any

from django.db import DEFAULT_DB_ALIAS, transaction
from django.utils import timezone

from .schedule import PERIODIC_JOBS, PeriodicJob

logger = logging.getLogger(__name__)

# The rows Xinfang owns in django_q_schedule are named "xinfang:<job name>"; rows an operator adds
# by hand under other names are never touched.
SCHEDULE_PREFIX = "xinfang:"


def enqueue(func: str, *args: Any, **kwargs: Any) -> None:
    """Run ``func`` (a dotted path) on the worker after the current transaction commits."""

    def _queue() -> None:
        from django_q.tasks import async_task

        async_task(func, *args, **kwargs)

    transaction.on_commit(_queue)


def schedule_name(job: PeriodicJob) -> str:
    return f"{SCHEDULE_PREFIX}{job.name}"


def sync_schedules(
    jobs: Iterable[PeriodicJob] = PERIODIC_JOBS, *, using: str = DEFAULT_DB_ALIAS
) -> list[str]:
    """Make django_q's schedule table hold exactly ``jobs`` among Xinfang's rows; returns what changed.

    Idempotent: a row whose function and cron are already right is left alone (its ``next_run``
    too, so a second ``migrate`` moves no run).  The code is the source of truth for *what* runs and
    *when*: a time changed by hand in the table is set back by the next ``migrate``.  An operator
    may pause a job (``repeats`` = 0 in the row, docs/deployment.md); that is kept.  Rows of jobs no
    longer listed are deleted.  Every row is of type CRON, in ``TIME_ZONE``, for the default cluster.
    """
    from django_q.models import Schedule

    jobs = list(jobs)
    changes: list[str] = []
    with transaction.atomic(using=using):
        existing: dict[str, Any] = {}
        rows = Schedule.objects.using(using).select_for_update().filter(name__startswith=SCHEDULE_PREFIX)
        for row in rows.order_by("pk"):
            if row.name in existing:
                # Two migrates at the same moment (two hosts deploying) may each have created the
                # row (the name is not unique in django_q's table); one copy is enough.
                row.delete()
                changes.append(f"deleted a second {row.name}")
            else:
                existing[row.name] = row
        for job in jobs:
            name = schedule_name(job)
            row = existing.pop(name, None)
            if row is None:
                # Due at once: a job new to the site (a fresh install, `make demo`, an upgrade that
                # adds one) runs at the scheduler's first pass, then at its cron times.  Its first
                # slot may be a day away, and every job works from the current state, so the extra
                # run is harmless; after `make demo` the reminders are there within a minute.
                row = Schedule(
                    name=name, func=job.func, schedule_type=Schedule.CRON, cron=job.cron, repeats=-1
                )
                row.save(using=using)
                # (Schedule.save() of a new CRON row sets next_run to the next slot, hence update.)
                Schedule.objects.using(using).filter(pk=row.pk).update(next_run=timezone.now())
                changes.append(f"created {name}")
            elif (row.func, row.schedule_type, row.cron) != (job.func, Schedule.CRON, job.cron):
                row.func, row.schedule_type, row.cron = job.func, Schedule.CRON, job.cron
                row.next_run = row.calculate_next_run()
                row.save(using=using)
                changes.append(f"updated {name}")
        for name, row in existing.items():
            row.delete()
            changes.append(f"deleted {name}")
    for change in changes:
        logger.info("schedule: %s", change)
    return changes


def sync_schedules_after_migrate(sender: Any, using: str = DEFAULT_DB_ALIAS, **kwargs: Any) -> None:
    """``post_migrate`` receiver (connected once, for the core app): the schedule table is there by
    then, since post_migrate is sent after the whole plan ran."""
    from django.db import connections

    if "django_q_schedule" not in connections[using].introspection.table_names():
        return  # a partial migrate (``migrate core 0001``) before django_q's tables exist
    sync_schedules(using=using)
