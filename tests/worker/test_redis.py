"""The Redis broker (``XINFANG_TASK_REDIS_URL``, large sites): two workers on one Redis queue run
the real job, and each lapsed petition is concluded once.  django-q2's Redis broker hands a task
out with BLPOP and has no acknowledgement, so a task whose worker dies is not handed out again;
Xinfang does not rely on that (docs/architecture.md, "Background work"): every job works from the
database's current state, and the next scheduled run does what a dead one left.
"""

from __future__ import annotations

import shutil
import socket
import subprocess

import pytest
from django_q.brokers.redis_broker import Redis
from django_q.conf import Conf
from django_q.models import Task
from django_q.tasks import async_task

from .conftest import free_port, needs_postgres, wait_until
from .test_workers import conclusions

pytestmark = [
    *needs_postgres,
    pytest.mark.skipif(
        not shutil.which("redis-server"), reason="needs redis-server (Debian package redis-server)"
    ),
]


def reachable(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=0.5):
            return True
    except OSError:
        return False


@pytest.fixture
def redis_url(tmp_path, monkeypatch):
    """A throw-away Redis on a free loopback port, nothing saved to disk; this test process queues
    through it too."""
    port = free_port()
    args = [
        "--bind",
        "127.0.0.1",
        "--port",
        str(port),
        "--save",
        "",
        "--appendonly",
        "no",
        "--dir",
        str(tmp_path),
    ]
    server = subprocess.Popen(  # noqa: S603 (a fixed program and arguments)
        [shutil.which("redis-server"), *args],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    try:
        wait_until(lambda: reachable(port), 10, "redis-server", server)
        url = f"redis://127.0.0.1:{port}/0"
        monkeypatch.setattr(Conf, "REDIS", url)
        yield url
    finally:
        server.kill()
        server.wait(10)


@pytest.mark.django_db(transaction=True)
def test_two_workers_on_redis_conclude_each_lapsed_petition_once(workers, lapsed, redis_url):
    numbers = lapsed(6)
    workers.start(XINFANG_WORKERS="1", XINFANG_TASK_REDIS_URL=redis_url)
    workers.start(XINFANG_WORKERS="1", XINFANG_TASK_REDIS_URL=redis_url)
    broker = Redis()
    ids = [
        async_task("tests.worker.jobs.conclude_lapsed_slowly", broker=broker, sync=False) for _ in range(4)
    ]
    wait_until(lambda: Task.objects.filter(id__in=ids).count() == 4, 60, "four finished tasks")
    tasks = list(Task.objects.filter(id__in=ids))
    assert all(t.success for t in tasks), [t.result for t in tasks] + [workers.output()]
    assert sum(t.result["concluded"] for t in tasks) == 6
    assert conclusions(numbers) == dict.fromkeys(numbers, 1)
    assert broker.queue_size() == 0
