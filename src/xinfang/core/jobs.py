"""Handing work to the background worker (django-q2).

``enqueue`` queues a task only once the current transaction commits: a job never sees data that may
still roll back, and nothing is queued for a rolled-back transaction.  Whatever must survive a
crash between the commit and the worker is a row of its own (the notifications outbox), which a
periodic job picks up again.
"""

from __future__ import annotations

from typing import Any

from django.db import transaction


def enqueue(func: str, *args: Any, **kwargs: Any) -> None:
    """Run ``func`` (a dotted path) on the worker after the current transaction commits."""

    def _queue() -> None:
        from django_q.tasks import async_task

        async_task(func, *args, **kwargs)

    transaction.on_commit(_queue)
