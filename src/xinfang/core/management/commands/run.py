"""``xinfang run [addr:port]``: the web server and the background worker together, as one command.

For ``make demo`` and a developer's machine: ``runserver`` and ``xinfang worker`` as two child
processes, each in its own process group.  Ctrl-C or SIGTERM stops both (the worker first gets
SIGTERM and a grace period to finish the task in hand, then anything left is killed, which every
job tolerates); if either child dies by itself the other is stopped and the exit code is 1, so a
demo never goes on half-working unnoticed.  Production runs the two under systemd instead
(docs/deployment.md).
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import time
from typing import Any

from django.core.management.base import BaseCommand, CommandError

POLL_SECONDS = 0.2


class Child:
    """One child process, leader of its own process group (so the terminal's Ctrl-C reaches only
    this supervisor, which then stops both)."""

    def __init__(self, name: str, argv: list[str]) -> None:
        self.name = name
        self.process = subprocess.Popen(argv, stdin=subprocess.DEVNULL, start_new_session=True)  # noqa: S603

    @property
    def pid(self) -> int:
        return self.process.pid

    def exited(self) -> int | None:
        return self.process.poll()

    def signal(self, signum: int, *, group: bool) -> None:
        try:
            if group:
                os.killpg(self.pid, signum)
            elif self.process.poll() is None:
                self.process.send_signal(signum)
        except ProcessLookupError:
            pass  # gone already

    def terminate(self, *, leader_only: bool) -> None:
        """SIGTERM to the leader only if it stops its own children, else to the whole group."""
        self.signal(signal.SIGTERM, group=not leader_only)

    def finish(self, deadline: float) -> None:
        """Wait for the leader until ``deadline`` (monotonic), then SIGKILL what is left."""
        with contextlib.suppress(subprocess.TimeoutExpired):
            self.process.wait(max(0.0, deadline - time.monotonic()))
        # The group outlives its leader while a grandchild (runserver's reloaded server, a worker
        # process of the cluster) is still alive; nothing of it may stay behind.
        self.signal(signal.SIGKILL, group=True)
        self.process.wait()


class Command(BaseCommand):
    help = "同时启动网页服务和后台任务进程；Ctrl-C 或 SIGTERM 同时停止两者，任一进程退出则另一个也停止。"

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument(
            "addrport", nargs="?", default="127.0.0.1:8000", help="网页服务地址（默认 127.0.0.1:8000）"
        )
        parser.add_argument("--noreload", action="store_true", help="网页服务不随代码改动自动重启")
        parser.add_argument(
            "--grace", type=float, default=20.0, help="停止时等待后台任务结束的秒数（默认 20）"
        )

    def handle(self, *args: Any, addrport: str, noreload: bool, grace: float, **options: Any) -> None:
        stop_signal: list[int] = []

        def on_signal(signum: int, frame: Any) -> None:
            stop_signal.append(signum)

        previous = {s: signal.signal(s, on_signal) for s in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP)}
        base = [sys.executable, "-m", "xinfang.cli"]
        web = worker = None
        try:
            web = Child("web", [*base, "runserver", addrport, *(["--noreload"] if noreload else [])])
            worker = Child("worker", [*base, "worker"])
            self.stdout.write(
                f"web server on http://{addrport}/ (pid {web.pid}) and worker (pid {worker.pid}) started"
            )
            died = None
            while not stop_signal and died is None:
                time.sleep(POLL_SECONDS)
                died = next((c for c in (web, worker) if c.exited() is not None), None)
        finally:
            # Both at once: the worker stops its own processes on SIGTERM (finishing the task in
            # hand); the web server's autoreloader does not, so its whole group gets the signal.
            children = [(c, c is worker) for c in (web, worker) if c is not None]
            for child, leader_only in children:
                child.terminate(leader_only=leader_only)
            deadline = time.monotonic() + grace
            for child, _leader_only in children:
                child.finish(deadline)
            for signum, handler in previous.items():
                signal.signal(signum, handler)
        if died is not None:
            raise CommandError(
                f"the {died.name} process exited (code {died.exited()}); the other one was stopped"
            )
        self.stdout.write("web server and worker stopped")
