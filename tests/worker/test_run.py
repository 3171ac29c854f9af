"""``xinfang run``: the web server and the worker as one command, stopped together (issue #8 §1:
``make demo`` starts the worker beside the web server; both stop together on Ctrl-C)."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request

import pytest
from django_q.models import Task
from django_q.tasks import async_task

from .conftest import ROOT, free_port, needs_postgres, process_env, wait_until

pytestmark = [*needs_postgres, pytest.mark.django_db(transaction=True)]


def answers(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=2) as response:  # noqa: S310 (loopback)
            return response.status in {200, 302}
    except urllib.error.HTTPError as error:
        return error.code == 302
    except OSError:
        return False


def group_alive(pgid: int) -> bool:
    try:
        os.killpg(pgid, 0)
    except ProcessLookupError:
        return False
    return True


@pytest.fixture
def run(tmp_path):
    """Start ``xinfang run`` on a free loopback port (with the autoreloader, as ``make demo``)."""
    started: list[subprocess.Popen] = []
    groups: list[int] = []  # the run command's and its children's process groups

    def start() -> tuple[subprocess.Popen, str, dict[str, int]]:
        port = free_port()
        log = tmp_path / f"run-{len(started)}.log"
        process = subprocess.Popen(  # noqa: S603 (our own interpreter and arguments)
            [sys.executable, "-m", "xinfang.cli", "run", f"127.0.0.1:{port}", "--grace", "10"],
            env=process_env(XINFANG_WORKERS="1"),
            cwd=ROOT,
            stdin=subprocess.DEVNULL,
            stdout=log.open("wb"),
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        started.append(process)
        groups.append(process.pid)
        pattern = re.compile(r"\(pid (\d+)\) and worker \(pid (\d+)\) started")
        wait_until(lambda: pattern.search(log.read_text()), 30, "both children started", process)
        web, worker = map(int, pattern.search(log.read_text()).groups())
        groups.extend([web, worker])
        url = f"http://127.0.0.1:{port}/portal/"
        wait_until(lambda: answers(url), 40, f"the portal at {url}:\n{log.read_text()}", process)
        return process, url, {"web": web, "worker": worker}

    yield start
    for pgid in groups:  # whatever a failed test left running
        if group_alive(pgid):
            os.killpg(pgid, signal.SIGKILL)
    for process in started:
        process.wait(10)


def test_run_serves_and_works_and_sigterm_stops_both(run, tmp_path):
    process, url, children = run()
    # the worker is up: a task queued now is done by it
    task_id = async_task("math.floor", 2.5, sync=False)
    wait_until(lambda: Task.objects.filter(id=task_id, success=True).exists(), 30, "the worker to run a task")
    # SIGTERM (systemd, docker stop, kill) stops the web server and the worker, all their processes
    asked = time.monotonic()
    process.send_signal(signal.SIGTERM)
    assert process.wait(20) == 0
    assert time.monotonic() - asked < 10, "an idle worker and the web server stop within seconds"
    wait_until(lambda: not any(group_alive(pgid) for pgid in children.values()), 5, "every child gone")
    assert not answers(url)


def test_when_the_worker_dies_the_web_server_is_stopped_too(run):
    process, url, children = run()
    os.killpg(children["worker"], signal.SIGKILL)
    assert process.wait(20) == 1  # a half-working demo does not go on unnoticed
    wait_until(lambda: not group_alive(children["web"]), 5, "the web server gone")
    assert not answers(url)
