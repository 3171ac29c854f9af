"""Real worker processes (``xinfang worker``) on the test database, for the worker tests.

The workers are separate processes with the suite's keys (inherited from this process's
environment), the test database's name and ``XINFANG_TASK_SYNC=0``, so tasks really go through the
broker (django_q's queue table).  Each worker is the leader of its own process group; whatever a
test leaves running is SIGKILLed, group and all, before the test database is flushed.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import os
import re
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from django.conf import settings
from django.db import connection
from freezegun import freeze_time

from xinfang.petitions.models import Petition
from xinfang.workflow import services

from ..procedure import new_registration, to_replied

# django-q2 logs "Q Cluster <name> [<queue>] running." once its processes are up (in the site's
# language: zh-hans by default).
RUNNING = re.compile(
    r"\[[^\]]*xinfang[^\]]*\] (running\.|正在运行)"
)  # [xinfang], Redis: [django_q:xinfang:q]
ROOT = Path(__file__).resolve().parents[2]
ON_POSTGRES = settings.DATABASES["default"]["ENGINE"].endswith("postgresql")
needs_postgres = [
    pytest.mark.postgres,
    pytest.mark.skipif(not ON_POSTGRES, reason="needs PostgreSQL: worker processes share the test database"),
]


def database_url() -> str:
    base = settings.DATABASES["default"]
    auth = base["USER"] + (f":{base['PASSWORD']}" if base.get("PASSWORD") else "")
    return f"postgres://{auth}@{base['HOST'] or '127.0.0.1'}:{base['PORT'] or 5432}/{base['NAME']}"


def process_env(**extra: str) -> dict[str, str]:
    """This process's environment (the suite's keys included) pointed at the test database."""
    env = {
        k: v for k, v in os.environ.items() if not k.startswith(("DATABASE_", "XINFANG_TASK", "XINFANG_WORK"))
    }
    env.update(
        DJANGO_SETTINGS_MODULE="xinfang.test_settings",
        DATABASE_URL=database_url(),
        XINFANG_TASK_SYNC="0",
        XINFANG_WORKER_SCHEDULER="0",  # tests queue their tasks themselves
        XINFANG_TASK_POLL_SECONDS="0.2",
        PYTHONPATH=os.pathsep.join([str(ROOT), *filter(None, [os.environ.get("PYTHONPATH")])]),
        PYTHONUNBUFFERED="1",
    )
    env.update(extra)
    return env


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def kill_group(process: subprocess.Popen) -> None:
    with contextlib.suppress(ProcessLookupError):
        os.killpg(process.pid, signal.SIGKILL)
    process.wait(10)


@dataclass
class Workers:
    """Starts ``xinfang worker`` processes; all are killed when the test ends."""

    logs: Path
    started: list[subprocess.Popen] = field(default_factory=list)

    def start(self, **extra_env: str) -> subprocess.Popen:
        log = self.logs / f"worker-{len(self.started)}.log"
        process = subprocess.Popen(  # noqa: S603 (our own interpreter and arguments)
            [sys.executable, "-m", "xinfang.cli", "worker"],
            env=process_env(**extra_env),
            cwd=ROOT,
            stdin=subprocess.DEVNULL,
            stdout=log.open("wb"),
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        process.log = log  # type: ignore[attr-defined]
        self.started.append(process)
        wait_until(
            lambda: RUNNING.search(log.read_text(errors="replace")), 40, f"worker start ({log})", process
        )
        return process

    def output(self) -> str:
        return "\n".join(f"--- {p.log}\n{p.log.read_text(errors='replace')[-4000:]}" for p in self.started)  # type: ignore[attr-defined]


def wait_until(
    condition: Callable[[], object], timeout: float, what: str, process: subprocess.Popen | None = None
) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return
        if process is not None and process.poll() is not None:
            raise AssertionError(f"{what}: the process exited with {process.returncode}")
        time.sleep(0.1)
    raise AssertionError(f"timed out waiting for {what}")


@pytest.fixture
def workers(transactional_db, tmp_path) -> Iterator[Workers]:
    # transactional_db first: this teardown (killing the workers) runs before the database flush.
    pool = Workers(tmp_path)
    try:
        yield pool
    finally:
        for process in pool.started:
            kill_group(process)


@pytest.fixture
def lapsed(world) -> Callable[[int], list[str]]:
    """``lapsed(n)``: n petitions replied in September 2026, their completion reports approved, so
    that their review windows have passed unused by today (the workers run on the real clock)."""

    def make(n: int) -> list[str]:
        numbers = []
        with freeze_time(dt.datetime(2026, 9, 1, 2, 0, tzinfo=dt.UTC)):
            for _ in range(n):
                number = new_registration(world).petition.number
                to_replied(world, number)
                services.approve_completion(user=world.intake_a, number=number)
                numbers.append(number)
        assert Petition.objects.filter(number__in=numbers, status="replied").count() == n
        assert connection.in_atomic_block is False  # committed: the workers see them
        return numbers

    return make
