"""``Idempotency-Key``: a retried request returns the first result instead of doing the work twice.

How it holds under concurrency: the key row (unique on user + key) is inserted in the *same*
transaction as the work, before it.  A second request with the same key blocks on the unique
index (PostgreSQL) or on the write lock (SQLite, whose transactions start IMMEDIATE here) until
the first commits; its insert then fails, and it replays the stored result.  If the first
request fails, its transaction — key row included — rolls back, so nothing is stored and the
retry simply runs again.  Only successful results are kept.

The stored response is encrypted with the field keys (``core.crypto.encrypt``): the response to
a registration carries the query code, which must never sit in the database in clear.  Rows are
kept for ``RETENTION`` and then removed by :func:`purge_idempotency_keys` (run it daily, e.g. with
``xinfang purge_idempotency_keys``).

The semantics follow the IETF draft "The Idempotency-Key HTTP Header Field"
(draft-ietf-httpapi-idempotency-key-header): the same key with a different request is a client
error (422 here, code ``idempotency_conflict``).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from xinfang.audit.services import chain_at_end
from xinfang.core import crypto
from xinfang.organisations.models import User

from .models import IdempotencyKey

__all__ = ["IdempotencyConflict", "IdempotentResult", "purge_idempotency_keys", "run_idempotent"]

HEADER = "Idempotency-Key"
RETENTION = dt.timedelta(hours=24)
# Visible ASCII only, at most IdempotencyKey.key's length: a UUID or any opaque client token fits.
_KEY_RE = re.compile(r"^[\x21-\x7e]{1,100}$")


class IdempotencyConflict(Exception):
    """The key was already used by this user for a different request."""


@dataclass(frozen=True)
class IdempotentResult:
    """An HTTP status and JSON body; ``replayed`` is True when they come from an earlier request."""

    status: int
    body: dict[str, Any]
    replayed: bool = False


def request_fingerprint(*, method: str, path: str, payload: Any) -> str:
    """A hash of what the request asks for: same method, path and (canonical JSON) body."""
    canonical = json.dumps(payload, sort_keys=True, ensure_ascii=False, separators=(",", ":"), default=str)
    return hashlib.sha256(f"{method} {path}\n{canonical}".encode()).hexdigest()


def check_key(key: str) -> str:
    """Refuse a malformed key as a validation error on the header."""
    if not _KEY_RE.match(key):
        raise ValidationError({HEADER: [_("幂等键应为1至100个可见ASCII字符。")]})
    return key


def run_idempotent(
    *, user: User, key: str | None, fingerprint: str, action: Callable[[], IdempotentResult]
) -> IdempotentResult:
    """Run ``action`` once per (user, key); replay its stored result for a repeated key.

    ``action`` runs inside one transaction, with or without a key, so that whatever it raises —
    even after its writes, while building the response — undoes all of them.
    """
    if key is None:
        with transaction.atomic(), chain_at_end():
            return action()
    check_key(key)
    # chain_at_end: the action's audit events join the chain after the stored response, as the
    # transaction's last writes (the chain head is every writer's lock: held only to the commit).
    with transaction.atomic(), chain_at_end():
        try:
            with transaction.atomic():  # savepoint: the duplicate insert must not abort the outer block
                row = IdempotencyKey.objects.create(user=user, key=key, request_hash=fingerprint)
        except IntegrityError:
            return _replay(user=user, key=key, fingerprint=fingerprint)
        result = action()
        row.status_code = result.status
        row.response = {"sealed": crypto.encrypt(json.dumps(result.body, ensure_ascii=False))}
        row.save(update_fields=["status_code", "response"])
    return result


def _replay(*, user: User, key: str, fingerprint: str) -> IdempotentResult:
    row = IdempotencyKey.objects.get(user=user, key=key)
    if row.request_hash != fingerprint:
        raise IdempotencyConflict(key)
    # A row without a response cannot be committed (it is written in the same transaction as the
    # work), so a committed row always holds one.
    body = json.loads(crypto.decrypt(row.response["sealed"]))
    return IdempotentResult(status=row.status_code or 200, body=body, replayed=True)


def purge_idempotency_keys(*, older_than: dt.timedelta = RETENTION) -> int:
    """Delete stored responses older than ``older_than``; return how many were deleted."""
    deleted, _per_model = IdempotencyKey.objects.filter(created_at__lt=timezone.now() - older_than).delete()
    return deleted
