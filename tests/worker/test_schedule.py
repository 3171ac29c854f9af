"""The periodic jobs (core/schedule.py) in django_q's schedule table: written by migrate, CRON in
the site's time zone, idempotent, and rows of jobs no longer listed removed (only Xinfang's)."""

from __future__ import annotations

import dataclasses

import pytest
from django.core.management import call_command
from django.utils import timezone
from django_q.models import Schedule

from xinfang.core.jobs import sync_schedules
from xinfang.core.schedule import PERIODIC_JOBS

pytestmark = pytest.mark.django_db

EXPECTED = {
    "xinfang:maintain_partitions": ("xinfang.core.partitions.maintain_partitions", "40 0 * * *"),
    "xinfang:deliver_outbox": ("xinfang.notifications.tasks.deliver_pending", "* * * * *"),
    "xinfang:daily_urging": ("xinfang.supervision.tasks.urge_pass", "30 7 * * *"),
    "xinfang:escalate_supervision": ("xinfang.supervision.tasks.escalate_unanswered", "45 7 * * *"),
    "xinfang:conclude_lapsed": ("xinfang.workflow.tasks.conclude_lapsed", "15 1 * * *"),
    "xinfang:refresh_statistics": ("xinfang.stats.tasks.refresh_counts", "* * * * *"),
    "xinfang:purge_idempotency_keys": ("xinfang.api.idempotency.purge_idempotency_keys", "30 1 * * *"),
    "xinfang:reception_sessions": ("xinfang.reception.tasks.materialise_sessions", "20 0 * * *"),
    "xinfang:reception_reminders": ("xinfang.reception.tasks.send_reminders", "0 16 * * *"),
    "xinfang:exchange_deliver": ("xinfang.exchange.tasks.deliver_pending", "* * * * *"),
    "xinfang:leadership_overdue": ("xinfang.leadership.tasks.remind_overdue", "50 7 * * *"),
}


def rows() -> dict[str, tuple]:
    return {
        s.name: (s.func, s.cron, s.schedule_type, s.repeats, s.next_run, s.cluster)
        for s in Schedule.objects.filter(name__startswith="xinfang:")
    }


def test_migrate_writes_every_periodic_job_as_a_cron_schedule():
    Schedule.objects.all().delete()
    call_command("migrate", verbosity=0)
    found = rows()
    assert {name: row[:2] for name, row in found.items()} == EXPECTED
    for _func, _cron, kind, repeats, next_run, cluster in found.values():
        assert (kind, repeats, cluster) == (Schedule.CRON, -1, None)
        assert next_run <= timezone.now()  # a new job runs at the scheduler's first pass


def test_after_its_first_run_a_job_runs_at_its_cron_time_in_the_site_zone():
    sync_schedules()
    urging = Schedule.objects.get(name="xinfang:daily_urging")
    # what django-q2's scheduler does after queueing it
    local = timezone.localtime(urging.calculate_next_run())
    assert (local.hour, local.minute) == (7, 30)  # Asia/Shanghai, not UTC
    assert local > timezone.localtime()


def test_a_second_sync_changes_nothing():
    sync_schedules()
    before = rows()
    assert sync_schedules() == []
    call_command("migrate", verbosity=0)
    assert rows() == before  # not even the next run moved


def test_a_job_no_longer_listed_is_removed_and_others_rows_are_kept():
    Schedule.objects.create(
        name="operator's report", func="math.floor", args="1.5", schedule_type=Schedule.DAILY
    )
    sync_schedules()
    changes = sync_schedules([job for job in PERIODIC_JOBS if job.name != "conclude_lapsed"])
    assert changes == ["deleted xinfang:conclude_lapsed"]
    assert set(rows()) == set(EXPECTED) - {"xinfang:conclude_lapsed"}
    assert Schedule.objects.filter(name="operator's report").exists()


def test_a_changed_time_is_written_and_a_paused_job_stays_paused():
    sync_schedules()
    Schedule.objects.filter(name="xinfang:daily_urging").update(repeats=0)  # paused by the operator
    moved = [
        dataclasses.replace(j, cron="0 8 * * 1-5") if j.name == "daily_urging" else j for j in PERIODIC_JOBS
    ]
    assert sync_schedules(moved) == ["updated xinfang:daily_urging"]
    urging = Schedule.objects.get(name="xinfang:daily_urging")
    assert (urging.cron, urging.repeats) == ("0 8 * * 1-5", 0)
    local = timezone.localtime(urging.next_run)
    assert (local.hour, local.minute, local.isoweekday() <= 5) == (8, 0, True)


def test_a_row_created_twice_by_two_migrates_at_once_is_kept_once():
    sync_schedules()
    twin = Schedule.objects.get(name="xinfang:conclude_lapsed")
    twin.pk = None
    twin.save()
    assert sync_schedules() == ["deleted a second xinfang:conclude_lapsed"]
    assert Schedule.objects.filter(name="xinfang:conclude_lapsed").count() == 1
