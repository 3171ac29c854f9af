"""Dropping old monthly partitions without breaking the audit chain (core/partitions.py).

Retention drops whole months of the audit log (kept at least 6 months, 等保).  The chain's first
kept row then follows a row that is gone, so ``verify`` needs to know where to start: before a
partition of the audit log is dropped, ``record_drop`` writes an audit event
(``audit.partition_dropped``) whose data holds the **checkpoint**: the seq and chain hash of the
newest dropped row and, for the rare kept row whose seq is below it (a row appended around
midnight of the 1st whose timestamp, taken before the chain's lock, fell in the next month), the
hash of its predecessor.  The event is itself a link of the chain, signed with the audit key, so a
checkpoint cannot be forged or removed without ``verify`` seeing it; the newest one supersedes the
others, since each carries what the previous ones said about rows still kept.

Dropping any other partitioned table's month is recorded too (``partitions.dropped``).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

from django.db import connection

from .models import AuditChainHead, AuditEvent
from .services import record_event

CHECKPOINT_ACTION = "audit.partition_dropped"
DROP_ACTION = "partitions.dropped"


@dataclass(frozen=True)
class Checkpoint:
    """Where the kept chain starts: the newest dropped row's seq and hash, and the predecessor
    hash of each kept row with a lower seq."""

    seq: int
    chain_hash: str
    links: dict[int, str] = field(default_factory=dict)

    def as_data(self) -> dict[str, Any]:
        return {"seq": self.seq, "hash": self.chain_hash, "links": {str(k): v for k, v in self.links.items()}}


def latest_checkpoint() -> Checkpoint | None:
    """The checkpoint of the newest drop, or None if nothing was ever dropped.  Read before the
    chain is walked; the walk then checks the event that carries it like any other row."""
    data = (
        AuditEvent.objects.filter(action=CHECKPOINT_ACTION)
        .order_by("-seq")
        .values_list("data", flat=True)
        .first()
    )
    point = (data or {}).get("checkpoint")
    if not point:
        return None
    links = {int(k): str(v) for k, v in (point.get("links") or {}).items()}
    return Checkpoint(int(point["seq"]), str(point["hash"]), links)


def _hashes(seqs: list[int]) -> dict[int, str]:
    rows = AuditEvent.objects.filter(seq__in=seqs).values_list("seq", "chain_hash")
    return dict(rows)


def checkpoint_before_drop(partition: str) -> Checkpoint | None:
    """The checkpoint that stays true once ``partition`` (a month of the audit log) is gone."""
    previous = latest_checkpoint()
    quote = connection.ops.quote_name
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT max(seq) FROM {quote(partition)}")  # noqa: S608
        newest = cursor.fetchone()[0]
        if newest is None or (previous and newest <= previous.seq):
            return previous
        # Kept rows (in the other partitions) whose seq is below the newest dropped one: one
        # index range scan per partition, which finds nothing or a handful.
        cursor.execute(
            "SELECT c.relname FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid"
            " WHERE i.inhparent = to_regclass(%s) AND c.relname <> %s",
            [AuditEvent._meta.db_table, partition],
        )
        kept: list[int] = []
        for (other,) in cursor.fetchall():
            cursor.execute(f"SELECT seq FROM {quote(other)} WHERE seq < %s", [newest])  # noqa: S608
            kept += [row[0] for row in cursor.fetchall()]
    kept.sort()
    known = _hashes([newest, *(s - 1 for s in kept)])
    if previous:
        # Rows dropped earlier are known only through the previous checkpoint.
        known = {**{s - 1: h for s, h in previous.links.items()}, previous.seq: previous.chain_hash, **known}
    # Seq 1's predecessor is the genesis "".  A predecessor missing everywhere is stored as ""
    # too, so verify reports the break it already is.
    links = {s: known.get(s - 1, "") for s in kept}
    return Checkpoint(newest, known[newest], links)


def record_drop(table: str, partition: str, start: dt.datetime, end: dt.datetime) -> None:
    """The drop hook (registered in AuditConfig.ready): one audit event per dropped partition,
    with the chain's checkpoint when it is a month of the audit log.  Runs in the drop's
    transaction, before the DROP; it locks the chain head first, so no append can slip a row into
    the month being measured (appends take the head's lock before they insert)."""
    data: dict[str, Any] = {"table": table, "partition": partition, "from": start, "to": end}
    if table == AuditEvent._meta.db_table:
        AuditChainHead.objects.select_for_update().filter(pk=1).first()
        point = checkpoint_before_drop(partition)
        data["checkpoint"] = point.as_data() if point else None
        action = CHECKPOINT_ACTION
    else:
        action = DROP_ACTION
    quote = connection.ops.quote_name
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT count(*) FROM {quote(partition)}")  # noqa: S608
        data["rows"] = cursor.fetchone()[0]
    record_event(actor=None, action=action, data=data)
