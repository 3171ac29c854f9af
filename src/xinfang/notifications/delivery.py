"""Sending the outbox.

A message is claimed in a short transaction (``pending`` or a ``sending`` whose lease ran out →
``sending`` with a new lease, one more attempt), sent **outside** any transaction (a slow provider
holds no lock), then marked ``sent`` or put back with exponential backoff, or ``failed`` after the
last attempt or on a permanent error.  On PostgreSQL the claim skips rows another worker holds
(``select_for_update(skip_locked=True)``), so two workers never send one message twice; on SQLite
the single worker and BEGIN IMMEDIATE serialise the claim.  A worker killed after the claim leaves
a ``sending`` row whose lease expires, and the next run sends it again (at-least-once, as every
provider's at-least-once semantics allow; the window is the provider call itself).
"""

from __future__ import annotations

import datetime as dt
import logging
import smtplib
from collections.abc import Iterable

from django.conf import settings
from django.core.mail import EmailMessage
from django.db import connection, transaction
from django.db.models import F, Q
from django.utils import timezone

from .models import Channel, OutboxMessage, OutboxStatus
from .sms import SmsError, get_backend

log = logging.getLogger(__name__)

LEASE = dt.timedelta(minutes=5)  # how long a claimed batch is this worker's
BATCH = 10  # small enough that a batch of slow sends (10 × the provider timeout) fits in the lease
LEASE_MARGIN = dt.timedelta(seconds=45)  # > the longest provider/SMTP timeout
BASE_DELAY = dt.timedelta(minutes=1)
MAX_DELAY = dt.timedelta(hours=6)


class SendError(Exception):
    def __init__(self, message: str, *, retryable: bool) -> None:
        super().__init__(message)
        self.retryable = retryable


def backoff(attempts: int) -> dt.timedelta:
    """1, 2, 4, 8 … minutes after the ``attempts``-th failure, at most six hours."""
    return min(BASE_DELAY * (2 ** max(attempts - 1, 0)), MAX_DELAY)


def max_attempts() -> int:
    return max(1, getattr(settings, "XINFANG_OUTBOX_MAX_ATTEMPTS", 6))


def claim(ids: Iterable[int] | None = None, *, limit: int = BATCH) -> list[OutboxMessage]:
    """Take up to ``limit`` due messages (of ``ids`` if given) for this worker."""
    now = timezone.now()
    due = Q(status=OutboxStatus.PENDING, next_attempt_at__lte=now) | Q(
        status=OutboxStatus.SENDING,
        next_attempt_at__lte=now,  # lease expired: its worker died
    )
    with transaction.atomic():
        qs = OutboxMessage.objects.filter(due)
        if ids is not None:
            qs = qs.filter(pk__in=list(ids))
        qs = qs.order_by("next_attempt_at", "id")
        if connection.features.has_select_for_update_skip_locked:
            qs = qs.select_for_update(skip_locked=True)
        rows = list(qs[:limit])
        if not rows:
            return []
        OutboxMessage.objects.filter(pk__in=[r.pk for r in rows]).update(
            status=OutboxStatus.SENDING, next_attempt_at=now + LEASE, attempts=F("attempts") + 1
        )
    for r in rows:
        r.status = OutboxStatus.SENDING
        r.attempts += 1
        r.next_attempt_at = now + LEASE
    return rows


def send_one(message: OutboxMessage) -> tuple[str, bool]:
    """Send ``message``; returns (provider id, demo).  Raises SendError."""
    if message.channel == Channel.EMAIL:
        try:
            sent = EmailMessage(
                subject=message.subject or "信访工作提醒",
                body=message.body,
                from_email=settings.DEFAULT_FROM_EMAIL,
                to=[message.recipient],
            ).send()
        except smtplib.SMTPRecipientsRefused as exc:
            raise SendError(f"recipient refused: {exc.recipients!r}"[:300], retryable=False) from exc
        except smtplib.SMTPResponseException as exc:
            # 5xx: the server will not take it however often we try; 4xx: try again later.
            raise SendError(f"SMTP {exc.smtp_code}", retryable=exc.smtp_code < 500) from exc
        except (smtplib.SMTPException, OSError) as exc:
            raise SendError(f"SMTP: {exc}"[:300], retryable=True) from exc
        if not sent:
            raise SendError("not sent", retryable=True)
        return "", False
    backend = get_backend()
    try:
        provider_id = backend.send(message.recipient, message.body)
    except SmsError as exc:
        raise SendError(str(exc)[:300], retryable=exc.retryable) from exc
    return provider_id, backend.demo


def _finish(message: OutboxMessage, **fields: object) -> None:
    # Only if the row is still ours (same attempt, still sending): a row whose lease expired and
    # was claimed again is the other worker's to finish.
    OutboxMessage.objects.filter(
        pk=message.pk, status=OutboxStatus.SENDING, attempts=message.attempts
    ).update(**fields)


def process(rows: list[OutboxMessage]) -> int:
    sent = 0
    for message in rows:
        if timezone.now() + LEASE_MARGIN >= message.next_attempt_at:
            # The lease is (nearly) over: another worker may take the row now, so this one must
            # not send it too.  It stays "sending" until the lease ends and is sent again then.
            log.warning("outbox %s: lease ran out before sending; left for the next run", message.pk)
            continue
        try:
            provider_id, demo = send_one(message)
        except SendError as exc:
            now = timezone.now()
            if exc.retryable and message.attempts < max_attempts():
                _finish(
                    message,
                    status=OutboxStatus.PENDING,
                    next_attempt_at=now + backoff(message.attempts),
                    last_error=str(exc),
                )
                log.warning("outbox %s: attempt %s failed, will retry: %s", message.pk, message.attempts, exc)
            else:
                _finish(message, status=OutboxStatus.FAILED, last_error=str(exc))
                log.error(
                    "outbox %s failed for good after %s attempts: %s", message.pk, message.attempts, exc
                )
            continue
        except Exception as exc:  # a bug or an unexpected library error: retry, don't lose it
            log.exception("outbox %s: unexpected error", message.pk)
            _finish(
                message,
                status=OutboxStatus.PENDING if message.attempts < max_attempts() else OutboxStatus.FAILED,
                next_attempt_at=timezone.now() + backoff(message.attempts),
                last_error=f"{type(exc).__name__}"[:300],
            )
            continue
        _finish(
            message,
            status=OutboxStatus.SENT,
            sent_at=timezone.now(),
            provider_message_id=provider_id[:100],
            demo=demo,
            last_error="",
        )
        sent += 1
    return sent


def deliver(ids: list[int]) -> int:
    """Send the messages ``ids`` just queued (those still due); returns how many were sent."""
    total = 0
    ids = list(ids)
    while True:
        rows = claim(ids)
        if not rows:
            return total
        total += process(rows)


def deliver_pending(*, budget: dt.timedelta = dt.timedelta(minutes=4)) -> int:
    """The periodic job: send everything due (also what a crashed worker left), for at most
    ``budget`` so that one run ends well before the task timeout; the next run goes on (runs that
    overlap are harmless: each claims its own rows)."""
    total = 0
    stop_at = timezone.now() + budget
    while timezone.now() < stop_at:
        rows = claim()
        if not rows:
            break
        total += process(rows)
    return total


def retry(message_ids: Iterable[int]) -> list[int]:
    """Put failed messages back in the queue (staff's retry button); returns the ids requeued."""
    ids = list(
        OutboxMessage.objects.filter(pk__in=list(message_ids), status=OutboxStatus.FAILED).values_list(
            "pk", flat=True
        )
    )
    if ids:
        OutboxMessage.objects.filter(pk__in=ids, status=OutboxStatus.FAILED).update(
            status=OutboxStatus.PENDING, attempts=0, next_attempt_at=timezone.now()
        )
    return ids
