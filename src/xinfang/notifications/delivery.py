"""Sending outbox messages (stub until the delivery commit)."""

from __future__ import annotations


def deliver(ids: list[int]) -> int:
    return 0


def deliver_pending() -> int:
    return 0
