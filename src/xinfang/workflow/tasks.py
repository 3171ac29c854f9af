"""The workflow's jobs on the background worker (the periodic list: core/schedule.py).

Each job here is safe to run on several workers at once and to be killed halfway: the service it
calls works one petition per transaction under the petition's row lock and checks the state again
under that lock (docs/architecture.md, "Background work").
"""

from __future__ import annotations

import logging

from . import appeals

logger = logging.getLogger(__name__)


def conclude_lapsed() -> dict[str, int]:
    """Daily: conclude the matters whose review or recheck window passed unused (Art. 36 ¶3).

    A run killed halfway has committed the petitions it finished and nothing of the one it was on;
    the next run (the broker's redelivery, or tomorrow's) takes the rest, and a petition another
    run concluded meanwhile is skipped, so each is concluded once.  The figures are the task's
    result (kept in django_q's task table).
    """
    concluded, skipped = appeals.conclude_lapsed()
    logger.info("conclude_lapsed: %d concluded, %d skipped", concluded, skipped)
    return {"concluded": concluded, "skipped": skipped}
