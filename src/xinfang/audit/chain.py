"""The keyed hash chain that makes the audit log tamper-evident (issue #7, point 22).

Every audit row carries ``seq`` (its place in the chain, 1, 2, 3 … with no gap) and
``chain_hash`` = HMAC-SHA256(key, previous row's chain_hash + the row's canonical content).  The
one-row ``AuditChainHead`` holds the last seq and hash, with its own MAC.  Whoever can write to the
database but does not hold ``XINFANG_AUDIT_KEY`` cannot delete, change, insert or reorder a row
without breaking the chain at that point, nor cut rows off the end without the head giving it away
(``verify`` below; ``xinfang audit verify``).  The triggers of migration 0003 stop the application
from rewriting rows; the chain catches whoever switches the triggers off.

Appending is serialised: the writer locks the head row (SELECT … FOR UPDATE) inside its own
transaction, so two processes can never both take seq n+1, and a rolled-back transaction gives its
seq back with everything else it wrote.  On SQLite the IMMEDIATE transaction already holds the
database's single write lock; the row lock costs nothing there.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import json
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.db import models, transaction
from django.utils.translation import gettext as _

if TYPE_CHECKING:
    from .models import AuditEvent

HEAD_ID = 1
GENESIS = ""  # the "previous hash" of the first row
# Only when DEBUG is on and no key is configured (a developer's checkout): never in production.
DEV_KEY = "dev-only-insecure-audit-key"
# The fields a row's hash covers, in this order.  ``id`` is left out on purpose: the chain order
# is ``seq``; ids are only the database's handle.
FIELDS = (
    "seq",
    "at",
    "actor_id",
    "actor_name",
    "ip",
    "action",
    "object_type",
    "object_id",
    "object_repr",
    "data",
)


# --- keys --------------------------------------------------------------------------------------


def keys() -> list[str]:
    """The audit keys, newest first: the first signs new rows, every one verifies (rotation)."""
    configured = [k for k in settings.XINFANG_AUDIT_KEY if k]
    if configured:
        return configured
    if settings.DEBUG:
        return [DEV_KEY]
    raise ImproperlyConfigured("Set XINFANG_AUDIT_KEY to write the audit log (see docs/deployment.md).")


def key_id(key: str) -> str:
    """A short public name of a key, stored on each row so verification knows which key signed it."""
    return hashlib.sha256(b"xinfang-audit-key-id:" + key.encode()).hexdigest()[:12]


def _keys_by_id() -> dict[str, str]:
    return {key_id(k): k for k in keys()}


# --- hashing -----------------------------------------------------------------------------------


def _normal(value: Any) -> Any:
    """JSON data as both databases give it back: an integral float (1.0, 1e20) may come back from
    PostgreSQL's jsonb as an integer, so it is hashed as one."""
    if isinstance(value, dict):
        return {str(k): _normal(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_normal(v) for v in value]
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return value


def _timestamp(at: dt.datetime) -> str:
    return at.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def canonical(row: dict[str, Any]) -> bytes:
    """The bytes a row's hash covers: the FIELDS as one JSON array, keys of ``data`` sorted."""
    values = [row[name] for name in FIELDS]
    values[FIELDS.index("at")] = _timestamp(row["at"])
    values[FIELDS.index("data")] = _normal(row["data"])
    return json.dumps(values, ensure_ascii=False, sort_keys=True, separators=(",", ":")).encode()


def row_hash(key: str, previous: str, row: dict[str, Any]) -> str:
    """HMAC-SHA256 over the previous row's hash and this row's canonical content."""
    return hmac.new(key.encode(), previous.encode() + b"\n" + canonical(row), hashlib.sha256).hexdigest()


def head_mac(key: str, seq: int, chain_hash: str) -> str:
    """The head's own MAC: rewinding the head to an earlier row needs the key too."""
    message = f"xinfang-audit-head:{seq}:{chain_hash}".encode()
    return hmac.new(key.encode(), message, hashlib.sha256).hexdigest()


def row_of(event: Any) -> dict[str, Any]:
    return {name: getattr(event, name) for name in FIELDS}


# --- appending ---------------------------------------------------------------------------------


def append(event: AuditEvent) -> None:
    """Give ``event`` the next seq and its chain hash, save it and move the head, all under the
    head's row lock in the caller's transaction (or one of its own)."""
    from .models import AuditChainHead

    key = keys()[0]
    # No savepoint of its own: if the append fails, the change it audits must not commit either.
    with transaction.atomic(savepoint=False):
        head = _locked_head()
        event.seq = head.seq + 1
        event.key_id = key_id(key)
        event.chain_hash = row_hash(key, head.chain_hash, row_of(event))
        event.save_chained()
        AuditChainHead.objects.filter(pk=HEAD_ID).update(
            seq=event.seq, chain_hash=event.chain_hash, mac=head_mac(key, event.seq, event.chain_hash)
        )


def append_many(events: list[AuditEvent]) -> None:
    """Chain ``events`` in order and insert them in one statement, under one take of the head's
    row lock: what ``services.chain_at_end`` calls as the last step of a transaction, so the lock
    every writer shares is held only from here to the commit."""
    from .models import AuditChainHead, AuditEvent

    if not events:
        return
    key = keys()[0]
    with transaction.atomic(savepoint=False):
        head = _locked_head()
        seq, previous = head.seq, head.chain_hash
        for event in events:
            seq += 1
            event.seq = seq
            event.key_id = key_id(key)
            event.chain_hash = previous = row_hash(key, previous, row_of(event))
        # The model's own queryset refuses bulk_create (rows enter one at a time through save());
        # here they are chained already, in order, under the lock: the base queryset inserts them.
        models.QuerySet(AuditEvent).bulk_create(events)
        AuditChainHead.objects.filter(pk=HEAD_ID).update(
            seq=seq, chain_hash=previous, mac=head_mac(key, seq, previous)
        )


def _locked_head() -> Any:
    """The chain head, locked until the transaction ends."""
    from .models import AuditChainHead

    head = AuditChainHead.objects.select_for_update().filter(pk=HEAD_ID).first()
    if head is None:
        # Migration 0005 creates the head; only an emptied database (a test's flush) lacks it.
        # ignore_conflicts: of two processes racing to create it, both go on to lock the one row.
        AuditChainHead.objects.bulk_create([AuditChainHead(pk=HEAD_ID)], ignore_conflicts=True)
        head = AuditChainHead.objects.select_for_update().get(pk=HEAD_ID)
    return head


def chain_existing(event_model: Any, head_model: Any) -> None:
    """Chain rows written before the chain existed, in id order (migration 0005).  Uses queryset
    update on the migration's historical model, after the migration has set the triggers aside."""
    rows = event_model.objects.order_by("id")
    if not rows.exists():
        head_model.objects.update_or_create(pk=HEAD_ID, defaults={"seq": 0, "chain_hash": GENESIS, "mac": ""})
        return
    key = keys()[0]
    previous, seq = GENESIS, 0
    for event in rows.iterator(chunk_size=2000):
        seq += 1
        event.seq = seq
        digest = row_hash(key, previous, {**row_of(event), "data": _normal(event.data)})
        event_model.objects.filter(pk=event.pk).update(seq=seq, chain_hash=digest, key_id=key_id(key))
        previous = digest
    head_model.objects.update_or_create(
        pk=HEAD_ID, defaults={"seq": seq, "chain_hash": previous, "mac": head_mac(key, seq, previous)}
    )


# --- verifying ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Break:
    """The first place where the chain does not hold."""

    seq: int | None
    event_id: int | None
    reason: str

    def __str__(self) -> str:
        where = _("第 {seq} 条（id {id}）").format(seq=self.seq, id=self.event_id) if self.seq else _("链头")
        return f"{where}：{self.reason}"


@dataclass(frozen=True)
class Verified:
    """An intact chain: how many rows and the head, to note down outside the database (anchor)."""

    count: int
    seq: int
    chain_hash: str


def verify(*, anchor: tuple[int, str] | None = None) -> Verified | Break:
    """Walk the whole chain in seq order; the first break, or the intact chain's head.

    ``anchor`` is a (seq, hash) noted earlier (``xinfang audit verify`` prints one): it proves
    that no rows were cut off the end and the head rewound since, which nothing inside the
    database can prove on its own.
    """
    from .models import AuditChainHead, AuditEvent
    from .retention import latest_checkpoint

    by_id = _keys_by_id()
    previous, expected = GENESIS, 1
    # Months dropped by retention (audit/retention.py): the kept chain continues from the newest
    # drop's checkpoint, itself a signed row of the chain that this walk checks in its turn.
    start = latest_checkpoint()
    if start is not None:
        previous, expected = start.chain_hash, start.seq + 1
    anchor_seen = anchor is None or (start is not None and anchor[0] <= start.seq)
    unchained = AuditEvent.objects.filter(seq__isnull=True).values_list("id", flat=True).first()
    if unchained is not None:
        return Break(None, unchained, _("有记录不在链上（无序号），是绕过应用直接插入的。"))
    columns = ("id", "key_id", "chain_hash", *FIELDS)
    for values in AuditEvent.objects.order_by("seq").values_list(*columns).iterator(chunk_size=5000):
        event_id, kid, stored, *_rest = values
        row = dict(zip(FIELDS, values[3:], strict=True))
        seq = row["seq"]
        # A kept row older than the checkpoint links to the predecessor hash the checkpoint noted.
        straggler = start is not None and seq < expected and seq in start.links
        if seq != expected and not straggler:
            return Break(seq, event_id, _gap_reason(expected, seq))
        key = by_id.get(kid)
        if key is None:
            return Break(seq, event_id, _("签名密钥（{kid}）不在 XINFANG_AUDIT_KEY 中。").format(kid=kid))
        link = start.links[seq] if straggler else previous
        if not hmac.compare_digest(row_hash(key, link, row), stored or ""):
            return Break(seq, event_id, _("与链不符：该记录被修改，或其前面的记录被删除、插入或调换了顺序。"))
        if anchor is not None and seq == anchor[0]:
            if not hmac.compare_digest(stored, anchor[1]):
                return Break(seq, event_id, _("与此前记下的锚点不符：链在此之前已被改写。"))
            anchor_seen = True
        if not straggler:
            previous, expected = stored, expected + 1
    last = expected - 1
    head = AuditChainHead.objects.filter(pk=HEAD_ID).first()
    problem = _head_problem(head, last, previous, by_id)
    if problem:
        return Break(None, None, problem)
    if not anchor_seen:
        missing = _("此前记下的锚点（第 {seq} 条）已不在链上：链尾的记录被删除了。")
        return Break(None, None, missing.format(seq=anchor[0]))
    return Verified(count=last, seq=last, chain_hash=previous)


def _gap_reason(expected: int, seq: int) -> str:
    if seq > expected:
        return _("缺少第 {first} 至第 {last} 条：记录被删除了。").format(first=expected, last=seq - 1)
    return _("序号重复或倒退（应为第 {expected} 条）：记录被插入或调换了顺序。").format(expected=expected)


def _head_problem(head: Any, last: int, last_hash: str, by_id: dict[str, str]) -> str | None:
    if head is None:
        return _("链头记录缺失。") if last else None
    if head.seq != last or head.chain_hash != last_hash:
        if head.seq > last:
            return _("链头记到第 {head} 条，但最后一条是第 {last} 条：链尾的记录被删除了。").format(
                head=head.seq, last=last
            )
        return _("链头（第 {head} 条）与最后一条记录（第 {last} 条）不符。").format(head=head.seq, last=last)
    if last == 0:
        return None
    if not any(hmac.compare_digest(head_mac(k, head.seq, head.chain_hash), head.mac) for k in by_id.values()):
        return _("链头的签名不符：链头被改写（例如删去链尾后回退）。")
    return None
