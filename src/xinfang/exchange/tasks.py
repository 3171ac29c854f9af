"""Delivery of the calls to peers, on the background worker (the outbox rule, architecture.md).

``deliver(pk)`` is queued after the commit of the action that wrote the ``Delivery`` row;
``deliver_pending`` (periodic, every minute) sends whatever is due again — a failed call, or one a
crash left behind.  A row is claimed in a short transaction (status ``sending`` with a lease; on
PostgreSQL ``SKIP LOCKED``), the HTTP call is made outside any transaction, then the row and its
record are updated.  The peer's ``Idempotency-Key`` makes a repeated call harmless.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import urllib.error
import urllib.request
from typing import Any

from django.db import connection, transaction
from django.utils import timezone

from .models import Delivery, DeliveryKind, DeliveryStatus, OutboundReferral, OutboundStatus, ReferralReport

logger = logging.getLogger(__name__)

TIMEOUT_SECONDS = 15
LEASE = dt.timedelta(minutes=2)
MAX_ATTEMPTS = 20  # with the backoff below: about a day and a half of retries
BATCH = 50


def backoff(attempts: int) -> dt.timedelta:
    """1, 2, 4 … minutes, at most two hours."""
    return dt.timedelta(minutes=min(2 ** max(attempts - 1, 0), 120))


def _claim(pks: list[int] | None = None, *, force: bool = False) -> list[Delivery]:
    now = timezone.now()
    with transaction.atomic():
        qs = Delivery.objects.filter(status__in=[DeliveryStatus.PENDING, DeliveryStatus.SENDING])
        if not force:
            qs = qs.filter(next_attempt_at__lte=now)
        if pks is not None:
            qs = qs.filter(pk__in=pks)
        if connection.vendor == "postgresql":
            qs = qs.select_for_update(skip_locked=True, of=("self",))
        rows = list(qs.select_related("peer").order_by("next_attempt_at", "pk")[:BATCH])
        Delivery.objects.filter(pk__in=[r.pk for r in rows]).update(
            status=DeliveryStatus.SENDING, next_attempt_at=now + LEASE
        )
    return rows


def _post(delivery: Delivery) -> tuple[int, dict[str, Any]]:
    from .services import report_payload

    peer = delivery.peer
    payload = json.loads(delivery.payload or "{}")
    if delivery.kind == DeliveryKind.REPORT and delivery.report_id:
        payload = report_payload(ReferralReport.objects.get(pk=delivery.report_id))
    request = urllib.request.Request(  # noqa: S310 (the peer's URL is configured by the administrator)
        peer.base_url.rstrip("/") + delivery.path,
        data=json.dumps(payload, ensure_ascii=False).encode(),
        method="POST",
        headers={
            "Authorization": f"Bearer {peer.token}",
            "Content-Type": "application/json",
            "Accept": "application/json",
            "Idempotency-Key": delivery.idempotency_key,
        },
    )
    try:
        with urllib.request.urlopen(request, timeout=TIMEOUT_SECONDS) as response:  # noqa: S310
            return response.status, json.loads(response.read() or b"{}")
    except urllib.error.HTTPError as error:
        try:
            body = json.loads(error.read() or b"{}")
        except ValueError:
            body = {}
        return error.code, body


def _delivered(delivery: Delivery, status: int, body: dict[str, Any]) -> bool:
    """Whether the peer has what we sent: 2xx, or a 409 saying it already has it."""
    if 200 <= status < 300:
        return True
    code = (body.get("error") or {}).get("code") if isinstance(body.get("error"), dict) else body.get("code")
    return status == 409 and code in {"already_reported", "already_referred"}


def _apply(delivery: Delivery, body: dict[str, Any]) -> None:
    now = timezone.now()
    if delivery.outbound_id and delivery.kind == DeliveryKind.REFER:
        OutboundReferral.objects.filter(
            pk=delivery.outbound_id, status__in=[OutboundStatus.SENT, OutboundStatus.FAILED]
        ).update(
            status=OutboundStatus.RECEIVED, remote_number=str(body.get("number", ""))[:60], last_error=""
        )
    if delivery.report_id:
        ReferralReport.objects.filter(pk=delivery.report_id).update(delivered_at=now)


def _failed(delivery: Delivery, error: str) -> None:
    attempts = delivery.attempts + 1
    final = attempts >= MAX_ATTEMPTS
    Delivery.objects.filter(pk=delivery.pk).update(
        attempts=attempts,
        last_error=error[:2000],
        next_attempt_at=timezone.now() + backoff(attempts),
        status=DeliveryStatus.FAILED if final else DeliveryStatus.PENDING,
    )
    if delivery.outbound_id and delivery.kind == DeliveryKind.REFER:
        OutboundReferral.objects.filter(
            pk=delivery.outbound_id, status__in=[OutboundStatus.SENT, OutboundStatus.FAILED]
        ).update(status=OutboundStatus.FAILED, last_error=error[:2000])


def _send(delivery: Delivery) -> bool:
    if not delivery.peer.is_enabled or not delivery.peer.base_url:
        _failed(delivery, "对接平台已停用或未配置接口地址")
        return False
    try:
        status, body = _post(delivery)
    except (OSError, ValueError) as error:  # refused, timeout, TLS, a body that is not JSON
        _failed(delivery, f"{type(error).__name__}: {error}")
        return False
    if not _delivered(delivery, status, body):
        _failed(delivery, f"HTTP {status}: {json.dumps(body, ensure_ascii=False)[:1500]}")
        return False
    with transaction.atomic():
        _apply(delivery, body)
        Delivery.objects.filter(pk=delivery.pk).update(
            status=DeliveryStatus.SENT, sent_at=timezone.now(), attempts=delivery.attempts + 1, last_error=""
        )
    return True


def deliver(pk: int) -> int:
    """Send one delivery now (queued after the action's commit); returns 1 if delivered."""
    return sum(_send(d) for d in _claim([pk]))


def deliver_pending(*, force: bool = False) -> int:
    """Send every delivery that is due (``force``: also those waiting for their next retry)."""
    return sum(_send(d) for d in _claim(force=force))
