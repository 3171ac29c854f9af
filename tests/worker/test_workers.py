"""Real worker processes on PostgreSQL (issue #8 §1): two workers, one job, done once; a worker
killed in the middle of a job leaves nothing half-done, and the job is finished by the next worker
through the broker's redelivery.
"""

from __future__ import annotations

import os
import signal
from collections import Counter

import pytest
from django.db.models import Q
from django_q.models import OrmQ, Task
from django_q.tasks import async_task

from xinfang.audit.models import AuditEvent
from xinfang.notifications.models import Notification, OutboxMessage
from xinfang.petitions.models import Petition, PetitionEvent

from .conftest import needs_postgres, wait_until

pytestmark = needs_postgres


def queue(func: str) -> str:
    """Queue a task for the worker processes (this test process itself runs tasks in-process)."""
    return async_task(func, sync=False)


def queued(task_id: str) -> bool:
    """Whether the task is still in the broker's queue (handed out or not, but not acknowledged).
    The queue may hold other tasks too: the notifications of the concluded petitions."""
    return any(row.task_id() == task_id for row in OrmQ.objects.all())


def concluded_messages(numbers: list[str]) -> Counter:
    """How many 'concluded' messages to the petitioner (outbox) each petition has."""
    rows = OutboxMessage.objects.filter(petition__number__in=numbers, template_code="concluded")
    return Counter(rows.values_list("petition__number", flat=True))


def side_effects(numbers: list[str]) -> dict[str, tuple[int, int]]:
    """Per petition: (notifications, outbox messages) about it."""
    return {
        number: (
            Notification.objects.filter(petition__number=number).count(),
            OutboxMessage.objects.filter(petition__number=number).count(),
        )
        for number in numbers
    }


def conclusions(numbers: list[str]) -> Counter:
    """How many 'concluded' timeline events each petition has."""
    events = PetitionEvent.objects.filter(petition__number__in=numbers, kind="concluded")
    return Counter(events.values_list("petition__number", flat=True))


@pytest.mark.django_db(transaction=True)
def test_two_workers_conclude_each_lapsed_petition_once(workers, lapsed):
    # given 12 petitions whose review window lapsed, and two workers (two clusters) on the same
    # queue, one task process each: a cluster then holds at most three tasks (one running, one in
    # its local queue, one in its pusher's hand), so both must take some of the six
    numbers = lapsed(12)
    first = workers.start(XINFANG_WORKERS="1")
    second = workers.start(XINFANG_WORKERS="1")
    # when the daily job is queued six times at once (a double schedule, a manual run...)
    ids = [queue("tests.worker.jobs.conclude_lapsed_slowly") for _ in range(6)]
    wait_until(lambda: Task.objects.filter(id__in=ids).count() == 6, 60, "six finished tasks")
    tasks = list(Task.objects.filter(id__in=ids).order_by("started"))
    assert all(t.success for t in tasks), [t.result for t in tasks] + [workers.output()]
    # then both workers ran the job, some runs at the same time (a run that concludes holds each
    # petition's transaction 0.05 s longer), and together they concluded every petition exactly
    # once: one timeline event, one audit row, counted by exactly one run
    for worker in (first, second):
        assert "conclude_lapsed_slowly" in worker.log.read_text(errors="replace"), workers.output()
    assert any(b.started < a.stopped for a, b in zip(tasks, tasks[1:], strict=False)), (
        "no two runs overlapped"
    )
    assert sum(t.result["concluded"] for t in tasks) == 12
    assert conclusions(numbers) == dict.fromkeys(numbers, 1)
    assert AuditEvent.objects.filter(action="petition.conclude", object_repr__in=numbers).count() == 12
    assert concluded_messages(numbers) == dict.fromkeys(numbers, 1)  # the petitioner is told once
    assert set(Petition.objects.filter(number__in=numbers).values_list("status", flat=True)) == {"concluded"}
    wait_until(lambda: not any(queued(i) for i in ids), 10, "every task acknowledged")


@pytest.mark.django_db(transaction=True)
def test_a_worker_killed_mid_job_leaves_nothing_half_done_and_the_job_is_finished(workers, lapsed, tmp_path):
    numbers = lapsed(5)
    marker = tmp_path / "paused"
    # given a worker whose run pauses inside the third petition's transaction (state, timeline
    # event and audit row written, not committed), and which hands a dead task out again 9 s later
    first = workers.start(
        XINFANG_WORKERS="1",
        XINFANG_TASK_TIMEOUT="8",
        XINFANG_TASK_RETRY="9",
        XINFANG_TEST_PAUSE_AT="3",
        XINFANG_TEST_PAUSE_FILE=str(marker),
    )
    side_effects_before = side_effects(numbers)
    task_id = queue("tests.worker.jobs.conclude_lapsed_pausing")
    wait_until(marker.exists, 30, "the job to reach the third petition", first)
    paused = marker.read_text()
    # when the worker is killed there, with all its processes (as by the OOM killer or a power cut)
    os.killpg(first.pid, signal.SIGKILL)
    first.wait(10)
    # then the two petitions done before are concluded, and nothing of the third is visible
    assert sum(conclusions(numbers).values()) == 2
    assert paused not in conclusions(numbers)
    assert Petition.objects.get(number=paused).status == "replied"
    assert not AuditEvent.objects.filter(action="petition.conclude", object_repr=paused).exists()
    # nor its notifications and messages (written by receivers inside the same transaction)
    assert side_effects(numbers)[paused] == side_effects_before[paused]
    assert queued(task_id)  # the task was never acknowledged
    assert not Task.objects.filter(id=task_id).exists()
    # when a new worker starts, it gets the unacknowledged task once its lease has run out
    workers.start(XINFANG_WORKERS="1")
    wait_until(lambda: Task.objects.filter(id=task_id, success=True).exists(), 40, "the redelivered task")
    # then every petition is concluded exactly once: the rest by the second run, none twice
    assert conclusions(numbers) == dict.fromkeys(numbers, 1), workers.output()
    assert concluded_messages(numbers) == dict.fromkeys(numbers, 1)
    assert Task.objects.get(id=task_id).result == {"concluded": 3, "skipped": 0}
    assert AuditEvent.objects.filter(action="petition.conclude", object_repr__in=numbers).count() == 5
    assert not Petition.objects.filter(Q(number__in=numbers) & ~Q(status="concluded")).exists()
    wait_until(lambda: not queued(task_id), 10, "the acknowledgement")
