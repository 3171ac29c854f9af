"""Atomic counters in the database (``core.Counter``), shared by every process of a site.

``increment`` is one ``UPDATE … SET count = count + 1`` under the row lock, then a read of the
value inside the same transaction: two processes never get the same number, on PostgreSQL (row
lock; a racing ``UPDATE`` waits and re-reads the row) or SQLite (one writer at a time).  A key that
has no row yet is inserted; two racing inserts are resolved by the primary key, the loser retries
as an update.  An expired row is restarted at 1 by a conditional ``UPDATE`` that only one racer
can win.

Call these outside a transaction that may roll back (as the throttles do): a count made inside a
rolled-back transaction is lost with it.
"""

from __future__ import annotations

import datetime as dt

from django.db import IntegrityError, transaction
from django.db.models import F, Q
from django.utils import timezone

from .models import Counter

__all__ = ["decrement", "delete", "increment", "value"]

_ATTEMPTS = 5


def _live(now: dt.datetime) -> Q:
    return Q(expires_at__isnull=True) | Q(expires_at__gt=now)


def increment(key: str, *, ttl: int | None = None) -> int:
    """Add one to ``key`` and return the new count; a new or expired key starts at 1 and lives
    ``ttl`` seconds (None: until deleted)."""
    for _attempt in range(_ATTEMPTS):
        now = timezone.now()
        expires = now + dt.timedelta(seconds=ttl) if ttl else None
        with transaction.atomic():
            if Counter.objects.filter(_live(now), key=key).update(count=F("count") + 1):
                return Counter.objects.filter(key=key).values_list("count", flat=True).get()
            # The row is missing or expired.  Only one racer's conditional UPDATE matches an expired
            # row (the others re-check the WHERE after the lock and match nothing).
            if Counter.objects.filter(key=key, expires_at__lte=now).update(count=1, expires_at=expires):
                return 1
            try:
                with transaction.atomic():
                    Counter.objects.create(key=key, count=1, expires_at=expires)
            except IntegrityError:
                continue  # another process inserted it first: count on that row
            _purge_expired(now)
            return 1
    raise RuntimeError(f"counter {key!r}: could not increment")  # pragma: no cover - needs 5 races in a row


def decrement(key: str) -> None:
    """Take one back (a refunded reservation); never below zero."""
    Counter.objects.filter(key=key, count__gt=0).update(count=F("count") - 1)


def value(key: str) -> int:
    """The live count of ``key`` (0 when missing or expired)."""
    return Counter.objects.filter(_live(timezone.now()), key=key).values_list("count", flat=True).first() or 0


def delete(key: str) -> None:
    """Forget ``key``."""
    Counter.objects.filter(key=key).delete()


def _purge_expired(now: dt.datetime) -> None:
    # Each window of each throttled address leaves a row behind; the insert of a new row clears
    # the rows that expired more than a minute ago (indexed on expires_at).
    Counter.objects.filter(expires_at__lt=now - dt.timedelta(minutes=1)).delete()
