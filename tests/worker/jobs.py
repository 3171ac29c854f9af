"""Test-only task functions for the worker tests; the worker processes import them by dotted path
(``tests.worker.jobs...``).  Nothing here is reachable from production code: the pause is a
receiver connected only while this test job runs, and only where the test's environment asks.
"""

from __future__ import annotations

import os
import time
from pathlib import Path
from typing import Any

from xinfang.workflow import tasks
from xinfang.workflow.signals import transition_performed


def conclude_lapsed_slowly() -> dict[str, int]:
    """The real job, each petition's transaction held open a little longer (0.05 s) so that runs on
    several workers really overlap."""

    def linger(**kwargs: Any) -> None:
        time.sleep(0.05)

    transition_performed.connect(linger, dispatch_uid="tests.worker.linger")
    try:
        return tasks.conclude_lapsed()
    finally:
        transition_performed.disconnect(dispatch_uid="tests.worker.linger")


def conclude_lapsed_pausing() -> dict[str, int]:
    """The real job; in a worker started with XINFANG_TEST_PAUSE_AT=n and XINFANG_TEST_PAUSE_FILE,
    the n-th petition's transaction (its state, timeline event and audit row written, not yet
    committed) writes the petition's number to that file and then waits to be killed."""
    pause_at = int(os.environ.get("XINFANG_TEST_PAUSE_AT", "0"))
    marker = os.environ.get("XINFANG_TEST_PAUSE_FILE", "")
    seen = 0

    def pause(petition: Any, **kwargs: Any) -> None:
        nonlocal seen
        seen += 1
        if pause_at and seen == pause_at:
            Path(marker).write_text(petition.number)
            time.sleep(120)

    transition_performed.connect(pause, dispatch_uid="tests.worker.pause")
    try:
        return tasks.conclude_lapsed()
    finally:
        transition_performed.disconnect(dispatch_uid="tests.worker.pause")
