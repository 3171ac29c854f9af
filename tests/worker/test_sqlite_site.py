"""A single-machine SQLite site: its one worker takes tasks from the ORM broker in the same SQLite
file the web process writes (docs/deployment.md: a SQLite site runs exactly one worker).

The suite's own SQLite test database is not shared with other processes, so this test makes a
site of its own: a fresh SQLite file, migrated by ``xinfang migrate`` as an operator would.
"""

from __future__ import annotations

import sqlite3
import subprocess
import sys

import pytest

from .conftest import ON_POSTGRES, ROOT, Workers, kill_group, process_env, wait_until

pytestmark = pytest.mark.skipif(
    ON_POSTGRES, reason="the SQLite shape; the PostgreSQL suite runs tests/worker on it"
)


def test_one_worker_runs_a_queued_job_on_sqlite(tmp_path):
    database = tmp_path / "site.sqlite3"
    url = f"sqlite:///{database}"

    def xinfang(*args: str) -> None:
        subprocess.run(  # noqa: S603 (our own interpreter and arguments)
            [sys.executable, "-m", "xinfang.cli", *args],
            env=process_env(DATABASE_URL=url),
            cwd=ROOT,
            check=True,
            capture_output=True,
            timeout=120,
        )

    xinfang("migrate", "--noinput")
    with sqlite3.connect(database) as db:  # migrate wrote the periodic jobs
        names = {name for (name,) in db.execute("SELECT name FROM django_q_schedule")}
    assert "xinfang:conclude_lapsed" in names

    pool = Workers(tmp_path)
    try:
        # one worker, with its default of one task process on SQLite (XINFANG_WORKERS unset)
        worker = pool.start(DATABASE_URL=url)
        xinfang(
            "shell",
            "-c",
            "from django_q.tasks import async_task; async_task('xinfang.workflow.tasks.conclude_lapsed')",
        )

        def done() -> bool:
            with sqlite3.connect(database) as db:
                rows = db.execute(
                    "SELECT success FROM django_q_task WHERE func = 'xinfang.workflow.tasks.conclude_lapsed'"
                )
                return [success for (success,) in rows] == [1]

        wait_until(done, 30, "the job run by the worker", worker)
    finally:
        for process in pool.started:
            kill_group(process)
