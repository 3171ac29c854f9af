"""Periodic jobs of reception days (core/schedule.py): thin calls of the services, each safe to run
twice at once and to be killed halfway (sessions: unique per schedule and day; reminders: claimed
one booking at a time by ``reminded_at``, outbox rows deduplicated per booking)."""

from __future__ import annotations

from . import services


def materialise_sessions() -> int:
    """Extend every active schedule's sessions to three months ahead."""
    return services.materialise_all()


def send_reminders() -> int:
    """Text tomorrow's bookers a reminder (the day before)."""
    return services.send_reminders()
