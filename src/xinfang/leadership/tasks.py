"""Worker tasks of leadership: thin wrappers around services (STYLE.md §4)."""

from __future__ import annotations


def remind_overdue() -> int:
    """Daily: ring the bells of overdue instructions and late contracts (reminders.py)."""
    from .reminders import remind_overdue as run

    return run()
