"""PostgreSQL only: writing rendered chunks with COPY, and building indexes after a bulk load."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from django.db import connection, models
from django.utils import timezone

from .render import TABLES, Rendered, esc


@dataclass
class _Deferred:
    """Secondary indexes and foreign keys taken off the seeded tables for the load."""

    indexes: list[tuple[str, str]] = field(default_factory=list)  # (name, CREATE INDEX …)
    foreign_keys: list[tuple[str, str, str]] = field(default_factory=list)  # (table, name, definition)


def drop_secondary() -> _Deferred:
    """Drop the plain indexes and the foreign keys of the seeded tables (render.TABLES), remembering their
    exact definitions (pg_get_indexdef, pg_get_constraintdef).

    A bulk load then only appends to the heap and the primary and unique indexes; afterwards each
    index is built from sorted data and each foreign key is checked by one join, instead of a
    B-tree insertion per index and a trigger per key for every row: what pg_restore does, and
    about twice as fast for a million petitions.  Transactional DDL: a failed seed rolls the drops
    back.  The price is an exclusive lock on these tables until the seed commits.
    """
    deferred = _Deferred()
    with connection.cursor() as cursor:
        # Altering a table with pending deferred-constraint checks is refused (rows written earlier
        # in this transaction, such as new NumberSequence rows): run those checks now.
        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
        for model, _fields in TABLES:
            table = model._meta.db_table
            cursor.execute(
                "SELECT i.indexrelid::regclass::text, pg_get_indexdef(i.indexrelid) FROM pg_index i"
                " WHERE i.indrelid = %s::regclass"
                " AND NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conindid = i.indexrelid)"
                " ORDER BY 1",
                [table],
            )
            deferred.indexes += cursor.fetchall()
            cursor.execute(
                "SELECT conname, pg_get_constraintdef(oid) FROM pg_constraint"
                " WHERE contype = 'f' AND conrelid = %s::regclass ORDER BY 1",
                [table],
            )
            deferred.foreign_keys += [(table, name, definition) for name, definition in cursor.fetchall()]
        quote = connection.ops.quote_name
        for table, name, _definition in deferred.foreign_keys:
            cursor.execute(f"ALTER TABLE {quote(table)} DROP CONSTRAINT {quote(name)}")
        for name, _definition in deferred.indexes:
            cursor.execute(f"DROP INDEX {name}")  # regclass text: already quoted where needed
    return deferred


def restore_secondary(deferred: _Deferred) -> None:
    """Build the dropped indexes and add the foreign keys back, validated over all rows."""
    quote = connection.ops.quote_name
    with connection.cursor() as cursor:
        # More sort memory for the index builds, for this transaction only.
        cursor.execute("SET LOCAL maintenance_work_mem = '256MB'")
        for _name, definition in deferred.indexes:
            # A partitioned table's index reads back as "ON ONLY parent": so made, it is INVALID
            # and exists on no partition (every look-up of the timeline by petition became a scan
            # of every month).  Without ONLY it is built on each partition too.
            cursor.execute(definition.replace(" ON ONLY ", " ON ", 1))
        for table, name, definition in deferred.foreign_keys:
            cursor.execute(f"ALTER TABLE {quote(table)} ADD CONSTRAINT {quote(name)} {definition}")
        cursor.execute("SET CONSTRAINTS ALL DEFERRED")  # back to how Django declares them all


def copy_columns(model: type[models.Model], supplied: tuple[str, ...]) -> tuple[list[str], str]:
    """The COPY column list for ``model``: the supplied fields, then every other column with the
    value it would get from its default (fields other engineers add must have one)."""
    meta = model._meta
    columns = [meta.get_field(name).column for name in supplied]
    suffix = []
    for f in meta.concrete_fields:
        if f.attname in supplied or f.primary_key:
            continue  # a primary key not supplied comes from its identity sequence
        if isinstance(f, models.DateTimeField) and (f.auto_now or f.auto_now_add):
            value: Any = timezone.now()
        elif f.has_default():
            value = f.get_default()
        elif f.null:
            value = None
        else:
            raise ValueError(f"{meta.label}.{f.name} has no default: xinfang.demo.petitions must fill it")
        columns.append(f.column)
        suffix.append("\t" + _copy_literal(value))
    return columns, "".join(suffix)


def _copy_literal(value: Any) -> str:
    if value is None:
        return "\\N"
    if isinstance(value, bool):
        return "t" if value else "f"
    if isinstance(value, dict | list):
        return esc(json.dumps(value))
    if isinstance(value, dt.datetime | dt.date):
        return value.isoformat()
    return esc(str(value))


def copy_writer() -> Callable[[Rendered], None]:
    """A function that sends one rendered chunk with COPY, table by table (parents first only for
    readability: the foreign keys are deferred to commit).  It may run in another thread: it uses
    this thread's psycopg connection, and with it this thread's open transaction."""
    quote = connection.ops.quote_name
    statements = []
    for model, fields in TABLES:
        columns = ", ".join(quote(c) for c in copy_columns(model, fields)[0])
        statements.append(f"COPY {quote(model._meta.db_table)} ({columns}) FROM STDIN")
    raw = connection.connection

    def write(rendered: Rendered) -> None:
        with raw.cursor() as cursor:
            for statement, data in zip(statements, rendered.tables, strict=True):
                if data:
                    with cursor.copy(statement) as copy:
                        copy.write(data)

    return write
