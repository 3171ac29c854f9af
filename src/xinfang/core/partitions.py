"""Monthly partitions of the large append-mostly tables on PostgreSQL, and their retention.

The timeline events, the audit log and the staff bell grow with every action and are read by
recent time (the audit page, the bell) or by one petition (the timeline).  On PostgreSQL they are
declaratively partitioned by RANGE on their timestamp, one partition per calendar month in the
site's time zone (``<table>_pYYYYMM``) plus a DEFAULT partition that catches a row whose month has
no partition yet (clock skew, a restored backup, an imported history).  SQLite stays as it is: every
function here is a no-op there.

* ``convert_table`` turns an existing table into a partitioned one (migration core 0002): same
  columns, defaults, checks, identity, indexes, foreign keys and triggers, rows copied.  The primary
  key becomes ``(id, <timestamp>)`` in the database (PostgreSQL requires the partition key in
  every unique constraint of a partitioned table); Django still treats ``id`` as the primary key,
  and ids stay unique because they all come from the one identity sequence.  A unique constraint
  without the timestamp (the audit chain's ``seq``, the bell's ``(user, dedupe_key)``) becomes a
  unique index on each partition: unique within a month, which is where a rerun of a job lands;
  across months the chain (``xinfang audit verify``) and ``notify``'s look-up before the insert
  keep them unique.  No table references these three tables by a foreign key (checked here:
  the conversion refuses to run if one does).
* ``ensure_partitions`` creates the partitions of this month and ``months_ahead`` months after
  (the daily job ``maintain_partitions``), and the month of any row sitting in the DEFAULT
  partition, moving those rows into their new partition (detach DEFAULT, create, move, attach
  again, in one transaction: PostgreSQL refuses to create a partition whose range has rows in
  DEFAULT).
* ``apply_retention`` drops whole monthly partitions older than a table's retention.  The
  timeline events belong to the case file (信访档案) and are never dropped; the audit log keeps at
  least 6 months (等保; settings refuse less, 0 keeps it for ever); the bell keeps
  ``XINFANG_NOTIFICATION_RETENTION_MONTHS``.  The DEFAULT partition is never dropped.  Every drop
  runs the hooks registered with ``register_drop_hook`` first, in the same transaction: the audit
  app records each drop as an audit event and, for its own table, the checkpoint from which
  ``xinfang audit verify`` continues the chain (audit/retention.py).  Core does not import audit
  (floors): the hook is the audit app's, registered in its ``ready``.

DDL on a partitioned table takes an exclusive lock on it for a moment; each step sets a short
``lock_timeout`` so that maintenance waits behind a long reader rather than queueing every writer
behind itself, and fails (to be retried by the next run) instead of stalling the site.
"""

from __future__ import annotations

import datetime as dt
import logging
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.db import connection, transaction
from django.db.utils import DatabaseError
from django.utils import timezone

log = logging.getLogger(__name__)

# The audit log is kept at least this long (等保 2.0: 审计记录保存不少于六个月).
AUDIT_MIN_RETENTION_MONTHS = 6
LOCK_TIMEOUT = "5s"


@dataclass(frozen=True)
class PartitionedTable:
    table: str
    column: str  # the partition key: a timestamp set when the row is written
    # The setting holding the retention in months (0: never dropped); None: never dropped at all.
    retention_setting: str | None = None
    minimum_retention: int = 0


TABLES: tuple[PartitionedTable, ...] = (
    # The timeline is part of the case file: kept as long as the petition, never dropped.
    PartitionedTable("petitions_petitionevent", "at"),
    PartitionedTable("audit_auditevent", "at", "XINFANG_AUDIT_RETENTION_MONTHS", AUDIT_MIN_RETENTION_MONTHS),
    PartitionedTable("notifications_notification", "created_at", "XINFANG_NOTIFICATION_RETENTION_MONTHS"),
)

DropHook = Callable[[str, str, dt.datetime, dt.datetime], None]
_drop_hooks: list[DropHook] = []


def register_drop_hook(hook: DropHook) -> None:
    """Run ``hook(table, partition, start, end)`` inside the transaction of every partition drop,
    before the DROP (so it can still read the rows).  Registered once per process (``ready``)."""
    if hook not in _drop_hooks:
        _drop_hooks.append(hook)


def enabled() -> bool:
    return connection.vendor == "postgresql"


def spec_for(table: str) -> PartitionedTable:
    return next(t for t in TABLES if t.table == table)


# --- months and names -------------------------------------------------------------------------


def month_start(day: dt.date) -> dt.date:
    return day.replace(day=1)


def add_months(month: dt.date, n: int) -> dt.date:
    index = month.year * 12 + month.month - 1 + n
    return dt.date(index // 12, index % 12 + 1, 1)


def partition_name(table: str, month: dt.date) -> str:
    return f"{table}_p{month:%Y%m}"


def default_name(table: str) -> str:
    return f"{table}_default"


_MONTHLY = re.compile(r"_p(\d{4})(\d{2})$")


def month_of(partition: str) -> dt.date | None:
    match = _MONTHLY.search(partition)
    return dt.date(int(match[1]), int(match[2]), 1) if match else None


def bounds(month: dt.date) -> tuple[dt.datetime, dt.datetime]:
    """The partition's range: midnight of the 1st in the site's time zone to the next month's."""
    start = timezone.make_aware(dt.datetime.combine(month, dt.time.min))
    end = timezone.make_aware(dt.datetime.combine(add_months(month, 1), dt.time.min))
    return start, end


def _today() -> dt.date:
    return timezone.localdate()


def _q(name: str) -> str:
    return connection.ops.quote_name(name)


def _literal(moment: dt.datetime) -> str:
    # A bound is a literal in the DDL (no parameters there); built only from a datetime of ours.
    return "'" + moment.isoformat() + "'"


# --- reading the catalogue ----------------------------------------------------------------------


def is_partitioned(cursor: Any, table: str) -> bool:
    cursor.execute(
        "SELECT EXISTS (SELECT 1 FROM pg_partitioned_table WHERE partrelid = to_regclass(%s))", [table]
    )
    return bool(cursor.fetchone()[0])


def partitions(cursor: Any, table: str) -> list[str]:
    """The partitions of ``table`` by name (monthly ones and the DEFAULT one)."""
    cursor.execute(
        "SELECT c.relname FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid"
        " WHERE i.inhparent = to_regclass(%s) ORDER BY c.relname",
        [table],
    )
    return [row[0] for row in cursor.fetchall()]


def _exists(cursor: Any, name: str) -> bool:
    cursor.execute("SELECT to_regclass(%s) IS NOT NULL", [name])
    return bool(cursor.fetchone()[0])


def _local_unique_indexes(cursor: Any, partition: str) -> list[str]:
    """Definitions of the unique indexes that belong to ``partition`` alone (not partitions of an
    index on the parent): the per-month form of a unique constraint without the partition key."""
    cursor.execute(
        "SELECT pg_get_indexdef(x.indexrelid) FROM pg_index x JOIN pg_class c ON c.oid = x.indexrelid"
        " WHERE x.indrelid = to_regclass(%s) AND x.indisunique"
        " AND NOT EXISTS (SELECT 1 FROM pg_inherits h WHERE h.inhrelid = x.indexrelid)"
        " ORDER BY c.relname",
        [partition],
    )
    return [row[0] for row in cursor.fetchall()]


_INDEX_DEF = re.compile(r"^CREATE (UNIQUE )?INDEX (\S+) ON (ONLY )?(\S+) (USING .*)$", re.DOTALL)


def _index_on(definition: str, *, name: str, table: str, unique: bool | None = None) -> str:
    """``definition`` (from pg_get_indexdef) renamed and put on ``table``."""
    match = _INDEX_DEF.match(definition)
    if match is None:  # pragma: no cover - pg_get_indexdef always has this shape
        raise ValueError(f"unexpected index definition: {definition}")
    is_unique = bool(match[1]) if unique is None else unique
    return f"CREATE {'UNIQUE ' if is_unique else ''}INDEX {_q(name)} ON {_q(table)} {match[5]}"


def _create_local_uniques(cursor: Any, partition: str, templates: list[str]) -> None:
    for i, definition in enumerate(templates, start=1):
        cursor.execute(_index_on(definition, name=f"{partition}_uq{i}", table=partition, unique=True))


# --- converting a table (migration core 0002) -----------------------------------------------


def convert_table(cursor: Any, spec: PartitionedTable, *, months_ahead: int = 3) -> bool:
    """Turn ``spec.table`` into a table partitioned by month on ``spec.column``; False if it
    already is one.  Runs inside the migration's transaction, holding the table exclusively."""
    table, column = spec.table, spec.column
    if is_partitioned(cursor, table):
        return False
    old = f"{table}__plain"
    # Altering a table with deferred foreign-key checks pending is refused: run them now.
    cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
    cursor.execute(f"LOCK TABLE {_q(table)} IN ACCESS EXCLUSIVE MODE")
    cursor.execute(
        "SELECT conname, conrelid::regclass::text FROM pg_constraint"
        " WHERE contype = 'f' AND confrelid = to_regclass(%s)",
        [table],
    )
    incoming = cursor.fetchall()
    if incoming:
        raise RuntimeError(
            f"{table} is referenced by foreign keys {incoming}: declare them db_constraint=False"
            " (a partitioned table cannot be referenced by id alone)"
        )
    cursor.execute(
        "SELECT c.relname, pg_get_indexdef(x.indexrelid), x.indisunique, x.indisprimary,"
        "       con.conname IS NOT NULL,"
        "       %s = ANY (SELECT a.attname FROM pg_attribute a"
        "                 WHERE a.attrelid = x.indrelid AND a.attnum = ANY (x.indkey::int2[]))"
        " FROM pg_index x JOIN pg_class c ON c.oid = x.indexrelid"
        " LEFT JOIN pg_constraint con ON con.conindid = x.indexrelid AND con.conrelid = x.indrelid"
        " WHERE x.indrelid = to_regclass(%s) ORDER BY c.relname",
        [column, table],
    )
    indexes = cursor.fetchall()
    cursor.execute(
        "SELECT conname, pg_get_constraintdef(oid) FROM pg_constraint"
        " WHERE contype = 'f' AND conrelid = to_regclass(%s) ORDER BY conname",
        [table],
    )
    foreign_keys = cursor.fetchall()
    cursor.execute(
        "SELECT tgname, pg_get_triggerdef(oid) FROM pg_trigger"
        " WHERE tgrelid = to_regclass(%s) AND NOT tgisinternal ORDER BY tgname",
        [table],
    )
    triggers = cursor.fetchall()
    cursor.execute("SELECT pg_get_serial_sequence(%s, 'id')", [table])
    sequence = cursor.fetchone()[0]

    # Set the plain table aside and free every name the partitioned one takes over.
    cursor.execute(f"ALTER TABLE {_q(table)} RENAME TO {_q(old)}")
    if sequence:
        cursor.execute(f"ALTER SEQUENCE {sequence} RENAME TO {_q(old + '_id_seq')}")
    for name, _definition in foreign_keys:
        cursor.execute(f"ALTER TABLE {_q(old)} DROP CONSTRAINT {_q(name)}")
    for name, _definition, _unique, _primary, is_constraint, _has_key in indexes:
        if is_constraint:
            cursor.execute(f"ALTER TABLE {_q(old)} DROP CONSTRAINT {_q(name)}")
        else:
            cursor.execute(f"DROP INDEX {_q(name)}")

    cursor.execute(
        f"CREATE TABLE {_q(table)} (LIKE {_q(old)} INCLUDING DEFAULTS INCLUDING CONSTRAINTS"
        " INCLUDING IDENTITY INCLUDING GENERATED INCLUDING STORAGE INCLUDING COMMENTS)"
        f" PARTITION BY RANGE ({_q(column)})"
    )
    local_uniques: list[str] = []
    for name, definition, unique, primary, is_constraint, has_key in indexes:
        if primary:
            cursor.execute(
                f"ALTER TABLE {_q(table)} ADD CONSTRAINT {_q(name)} PRIMARY KEY (id, {_q(column)})"
            )
        elif unique and not has_key:
            local_uniques.append(_index_on(definition, name=name, table=table))
        elif is_constraint:
            cols = re.search(r"USING \w+ (\(.*\))", definition)
            cursor.execute(f"ALTER TABLE {_q(table)} ADD CONSTRAINT {_q(name)} UNIQUE {cols[1]}")
        else:
            cursor.execute(_index_on(definition, name=name, table=table))
    for name, definition in foreign_keys:
        cursor.execute(f"ALTER TABLE {_q(table)} ADD CONSTRAINT {_q(name)} {definition}")

    cursor.execute(f"SELECT min({_q(column)}) FROM {_q(old)}")  # noqa: S608 - quoted names only
    oldest = cursor.fetchone()[0]
    today = _today()
    first = month_start(timezone.localtime(oldest).date()) if oldest else month_start(today)
    cursor.execute(f"CREATE TABLE {_q(default_name(table))} PARTITION OF {_q(table)} DEFAULT")
    _create_local_uniques(cursor, default_name(table), local_uniques)
    month = first
    while month <= add_months(month_start(today), months_ahead):
        _create(cursor, table, month, local_uniques)
        month = add_months(month, 1)
    cursor.execute(f"INSERT INTO {_q(table)} SELECT * FROM {_q(old)}")  # noqa: S608
    cursor.execute(f"SELECT COALESCE(max(id), 0) + 1 FROM {_q(old)}")  # noqa: S608
    cursor.execute(
        "SELECT setval(pg_get_serial_sequence(%s, 'id'), %s, false)", [table, cursor.fetchone()[0]]
    )
    for _name, definition in triggers:
        # pg_get_triggerdef names the renamed table; the trigger goes on the parent, and PostgreSQL
        # clones row triggers onto every partition, present and future.
        cursor.execute(re.sub(rf"\bON (\S+\.)?{re.escape(old)}\b", f"ON {_q(table)}", definition))
    cursor.execute(f"DROP TABLE {_q(old)}")
    cursor.execute(f"ANALYZE {_q(table)}")
    cursor.execute("SET CONSTRAINTS ALL DEFERRED")  # back to how Django declares them
    return True


def _create(cursor: Any, table: str, month: dt.date, local_uniques: list[str]) -> None:
    start, end = bounds(month)
    name = partition_name(table, month)
    cursor.execute(
        f"CREATE TABLE {_q(name)} PARTITION OF {_q(table)}"
        f" FOR VALUES FROM ({_literal(start)}) TO ({_literal(end)})"
    )
    _create_local_uniques(cursor, name, local_uniques)


def _serialise(cursor: Any) -> None:
    """One partition change at a time across processes (two workers running the job at once):
    the second waits, then finds the partition made or gone, instead of failing on it."""
    cursor.execute("SELECT pg_advisory_xact_lock(hashtext('xinfang:partitions'))")


# --- keeping partitions ahead ---------------------------------------------------------------


def create_partition(table: str, month: dt.date) -> bool:
    """Create ``month``'s partition of ``table`` if missing, moving its rows out of DEFAULT; one
    transaction.  True if it was created."""
    spec = spec_for(table)
    name, default = partition_name(table, month), default_name(table)
    start, end = bounds(month)
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(f"SET LOCAL lock_timeout = '{LOCK_TIMEOUT}'")
        _serialise(cursor)
        if _exists(cursor, name):
            return False
        templates = _local_unique_indexes(cursor, default)
        in_range = f"{_q(spec.column)} >= %s AND {_q(spec.column)} < %s"
        cursor.execute(f"SELECT EXISTS (SELECT 1 FROM {_q(default)} WHERE {in_range})", [start, end])  # noqa: S608
        if not cursor.fetchone()[0]:
            _create(cursor, table, month, templates)
            return True
        # Rows of this month wait in DEFAULT: detached, it is a plain table (the parent's cloned
        # triggers leave with the detach), so its rows can move; attaching it again re-checks it
        # and clones the triggers back.
        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")  # as in apply_retention
        cursor.execute(f"ALTER TABLE {_q(table)} DETACH PARTITION {_q(default)}")
        _create(cursor, table, month, templates)
        cursor.execute(f"INSERT INTO {_q(table)} SELECT * FROM {_q(default)} WHERE {in_range}", [start, end])  # noqa: S608
        moved = cursor.rowcount
        cursor.execute(f"DELETE FROM {_q(default)} WHERE {in_range}", [start, end])  # noqa: S608
        cursor.execute(f"ALTER TABLE {_q(table)} ATTACH PARTITION {_q(default)} DEFAULT")
        cursor.execute("SET CONSTRAINTS ALL DEFERRED")
        log.info("partition %s created; %s rows moved out of %s", name, moved, default)
        return True


def months_in_default(table: str) -> list[dt.date]:
    """The months of the rows waiting in ``table``'s DEFAULT partition (normally none)."""
    spec = spec_for(table)
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT DISTINCT date_trunc('month', {_q(spec.column)} AT TIME ZONE %s)::date"  # noqa: S608
            f" FROM {_q(default_name(table))} ORDER BY 1",
            [settings.TIME_ZONE],
        )
        return [row[0] for row in cursor.fetchall()]


def ensure_partitions(months_ahead: int | None = None, *, today: dt.date | None = None) -> list[str]:
    """Create the partitions of this month and ``months_ahead`` more, and of every month with rows
    in DEFAULT, on every partitioned table; the names created.  Safe to run twice at once: a
    partition that exists is skipped, and two creators of one partition serialise on an advisory
    lock (the second finds it made)."""
    if not enabled():
        return []
    ahead = settings.XINFANG_PARTITION_MONTHS_AHEAD if months_ahead is None else months_ahead
    this_month = month_start(today or _today())
    created = []
    for spec in TABLES:
        with connection.cursor() as cursor:
            if not is_partitioned(cursor, spec.table):
                continue
        months = {add_months(this_month, n) for n in range(ahead + 1)} | set(months_in_default(spec.table))
        for month in sorted(months):
            if create_partition(spec.table, month):
                created.append(partition_name(spec.table, month))
    return created


def ensure_months(first: dt.date, last: dt.date, tables: tuple[str, ...] | None = None) -> list[str]:
    """Create every month's partition from ``first`` to ``last`` on ``tables`` (all partitioned
    tables by default): what a bulk load of dated history (the demo seed, an import) calls first,
    so that its rows go to their months rather than pile up in DEFAULT."""
    if not enabled():
        return []
    created = []
    for spec in TABLES:
        if tables is not None and spec.table not in tables:
            continue
        with connection.cursor() as cursor:
            if not is_partitioned(cursor, spec.table):
                continue
        month = month_start(first)
        while month <= month_start(last):
            if create_partition(spec.table, month):
                created.append(partition_name(spec.table, month))
            month = add_months(month, 1)
    return created


# --- retention --------------------------------------------------------------------------------


def retention_months(spec: PartitionedTable) -> int:
    """The table's retention in months (0: kept for ever); refuses a setting below its minimum."""
    if spec.retention_setting is None:
        return 0
    months = int(getattr(settings, spec.retention_setting, 0) or 0)
    if months < 0 or 0 < months < spec.minimum_retention:
        raise ImproperlyConfigured(
            f"{spec.retention_setting} = {months}: keep at least {spec.minimum_retention} months"
            " (0 keeps all)."
        )
    return months


@dataclass(frozen=True)
class Drop:
    table: str
    partition: str
    start: dt.datetime
    end: dt.datetime


def due_for_retention(*, today: dt.date | None = None) -> list[Drop]:
    """The monthly partitions that lie wholly before their table's retention (oldest first)."""
    if not enabled():
        return []
    this_month = month_start(today or _today())
    due = []
    for spec in TABLES:
        months = retention_months(spec)
        if not months:
            continue
        cutoff = add_months(this_month, -months)
        with connection.cursor() as cursor:
            if not is_partitioned(cursor, spec.table):
                continue
            names = partitions(cursor, spec.table)
        for name in names:
            month = month_of(name)
            if month is not None and month < cutoff:  # its end is at most the cutoff
                due.append(Drop(spec.table, name, *bounds(month)))
    return sorted(due, key=lambda d: (d.table, d.start))


def apply_retention(*, dry_run: bool = False, today: dt.date | None = None) -> list[Drop]:
    """Drop every partition past its table's retention, each in its own transaction with the
    drop hooks (the audit event and checkpoint); the DEFAULT partition is never dropped."""
    due = due_for_retention(today=today)
    if dry_run:
        return due
    dropped = []
    for drop in due:
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(f"SET LOCAL lock_timeout = '{LOCK_TIMEOUT}'")
            # A table with deferred foreign-key checks pending cannot be dropped or detached:
            # run them now (only a caller's own open transaction can have any).
            cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
            _serialise(cursor)
            if not _exists(cursor, drop.partition):
                continue  # another run dropped it meanwhile
            for hook in _drop_hooks:
                hook(drop.table, drop.partition, drop.start, drop.end)
            cursor.execute(f"DROP TABLE {_q(drop.partition)}")
            cursor.execute("SET CONSTRAINTS ALL DEFERRED")  # back to how Django declares them
        dropped.append(drop)
        log.info("partition %s dropped (retention)", drop.partition)
    return dropped


# --- status and the daily job ---------------------------------------------------------------


@dataclass(frozen=True)
class TableStatus:
    table: str
    partitioned: bool
    partitions: list[str]
    default_rows: int
    retention_months: int | None  # None: never dropped


def status() -> list[TableStatus]:
    result = []
    for spec in TABLES:
        if not enabled():
            result.append(TableStatus(spec.table, False, [], 0, None))
            continue
        with connection.cursor() as cursor:
            partitioned = is_partitioned(cursor, spec.table)
            names = partitions(cursor, spec.table) if partitioned else []
            rows = 0
            if partitioned:
                cursor.execute(f"SELECT count(*) FROM {_q(default_name(spec.table))}")  # noqa: S608
                rows = cursor.fetchone()[0]
        keep = retention_months(spec) if spec.retention_setting else None
        result.append(TableStatus(spec.table, partitioned, names, rows, keep or None))
    return result


def maintain_partitions() -> dict[str, int]:
    """The daily job: partitions ahead, then retention.  Safe to run twice and to kill: each
    partition is created or dropped in its own transaction and the next run finds the rest.

    Creating or dropping a partition needs the owner of the tables.  A deployment that serves as
    a role owning nothing (docs/security.md §4) runs ``xinfang partitions --ensure --retention``
    as the owner instead; here the job then fails visibly (logged, and failed in the worker's
    results) and rows still land safely in DEFAULT, to be moved by the next successful run."""
    if not enabled():
        return {"created": 0, "dropped": 0}
    try:
        created = ensure_partitions()
        dropped = apply_retention()
    except DatabaseError as exc:
        log.warning("partition maintenance failed (next run retries): %s", exc)
        raise
    return {"created": len(created), "dropped": len(dropped)}
