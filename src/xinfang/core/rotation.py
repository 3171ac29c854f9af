"""Key rotation (issue #7 point 25): re-encrypt every encrypted value and file under the first
key of XINFANG_FIELD_KEYS, so that older keys can then be removed.

It runs while the site runs, in batches of rows ordered by primary key, one transaction per batch.
Each value is rewritten only if it is not under the first key yet, and only if it has not changed
since it was read (compare-and-set), so a run that stops half-way is simply run again: what is
done is skipped, and a concurrent write (always under the first key) is never overwritten.

The blind-index key (XINFANG_BLIND_INDEX_KEY) is not rotated here (docs/security.md §5).
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field

from django.apps import apps
from django.db import connection, models, transaction

from . import crypto
from .fields import EncryptedTextField
from .files import reencrypt_stored

DEFAULT_BATCH_SIZE = 500


class RotationError(RuntimeError):
    """A stored value or file that no configured key can read: rotation stops there."""


@dataclass
class RotationReport:
    """What one run did, per ``app_label.Model.field``: values rewritten and values already done."""

    rotated: dict[str, int] = field(default_factory=dict)
    current: dict[str, int] = field(default_factory=dict)
    # Rows whose stored file is gone: reported, not fatal (a lost file must not block rotation).
    missing: list[str] = field(default_factory=list)

    def count(self, label: str, *, rotated: bool) -> None:
        target = self.rotated if rotated else self.current
        target[label] = target.get(label, 0) + 1
        (self.current if rotated else self.rotated).setdefault(label, 0)


def encrypted_field_models() -> list[tuple[type[models.Model], list[str]]]:
    """Every concrete model with EncryptedTextField columns, and those columns."""
    found = []
    for model in apps.get_models():
        if model._meta.proxy or not model._meta.managed:
            continue
        columns = [f.column for f in model._meta.concrete_fields if isinstance(f, EncryptedTextField)]
        if columns:
            found.append((model, columns))
    return found


def encrypted_file_models() -> list[tuple[type[models.Model], list[str]]]:
    """Every model that declares ``ENCRYPTED_FILE_FIELDS`` (core.files), with those fields."""
    return [
        (model, list(model.ENCRYPTED_FILE_FIELDS))
        for model in apps.get_models()
        if getattr(model, "ENCRYPTED_FILE_FIELDS", None)
    ]


def _batches(model: type[models.Model], columns: list[str], size: int) -> Iterator[list[tuple]]:
    """Rows as (pk, raw value, …) read with SQL, so the field does not decrypt them, by pk ranges."""
    q = connection.ops.quote_name
    table, pk = q(model._meta.db_table), q(model._meta.pk.column)
    selected = ", ".join([pk, *(q(c) for c in columns)])
    last = None
    while True:
        where = f"WHERE {pk} > %s " if last is not None else ""
        with connection.cursor() as cursor:
            cursor.execute(
                f"SELECT {selected} FROM {table} {where}ORDER BY {pk} LIMIT %s",  # noqa: S608 (quoted names)
                [last, size] if last is not None else [size],
            )
            rows = cursor.fetchall()
        if not rows:
            return
        yield rows
        last = rows[-1][0]


def rotate_fields(
    *, batch_size: int = DEFAULT_BATCH_SIZE, report: RotationReport | None = None
) -> RotationReport:
    """Re-encrypt every EncryptedTextField value that is not under the first key."""
    report = report or RotationReport()
    for model, columns in encrypted_field_models():
        for rows in _batches(model, columns, batch_size):
            with transaction.atomic():
                for row in rows:
                    _rotate_row(model, columns, row, report=report)
    return report


def _rotate_row(model: type[models.Model], columns: list[str], row: tuple, *, report: RotationReport) -> None:
    q = connection.ops.quote_name
    table, pk = q(model._meta.db_table), q(model._meta.pk.column)
    for column, token in zip(columns, row[1:], strict=True):
        label = f"{model._meta.label}.{column}"
        new = _reencrypt(token, where=f"{label} pk={row[0]}")
        report.count(label, rotated=new is not None)
        if new is None:
            continue
        # Compare-and-set: a value written since it was read is newer (and under the first key).
        sql = f"UPDATE {table} SET {q(column)} = %s WHERE {pk} = %s AND {q(column)} = %s"  # noqa: S608
        with connection.cursor() as cursor:
            cursor.execute(sql, [new, row[0], token])


def _reencrypt(token: str | None, *, where: str) -> str | None:
    if not token:
        return None
    try:
        return crypto.reencrypt(token)
    except ValueError as exc:
        raise RotationError(f"{where}: no configured key can read this value") from exc


def rotate_files(
    *,
    batch_size: int = DEFAULT_BATCH_SIZE,
    report: RotationReport | None = None,
    on_batch: Callable[[], None] | None = None,
) -> RotationReport:
    """Re-encrypt every stored file (ENCRYPTED_FILE_FIELDS) not under the first key, plaintext
    files of before issue #7 included.  A new file is written beside the old one, the row is
    pointed at it in the batch's transaction, and the old file is deleted after the commit (a
    rolled-back batch deletes the new files instead)."""
    report = report or RotationReport()
    for model, names in encrypted_file_models():
        for name in names:
            label = f"{model._meta.label}.{name}"
            queryset = model._default_manager.exclude(**{name: ""}).order_by("pk")
            last = 0
            while rows := list(queryset.filter(pk__gt=last)[:batch_size]):
                last = rows[-1].pk
                _rotate_file_batch(model, name, rows, label=label, report=report)
                if on_batch is not None:
                    on_batch()
    return report


def _rotate_file_batch(model, name: str, rows: list, *, label: str, report: RotationReport) -> None:
    written: list[tuple[object, str]] = []  # (storage, name) of new files, removed on failure
    replaced: list[tuple[object, str]] = []  # old files, removed after the commit
    try:
        with transaction.atomic():
            for row in rows:
                stored = getattr(row, name)
                try:
                    new_name = reencrypt_stored(stored)
                except FileNotFoundError:
                    report.missing.append(f"{label} pk={row.pk}: {stored.name}")
                    continue
                except ValueError as exc:
                    raise RotationError(f"{label} pk={row.pk}: no configured key can read this file") from exc
                report.count(label, rotated=new_name is not None)
                if new_name is None:
                    continue
                written.append((stored.storage, new_name))
                unchanged = model._default_manager.filter(pk=row.pk, **{name: stored.name})
                # The old file goes after the commit; if the row changed meanwhile, the new one does.
                obsolete = stored.name if unchanged.update(**{name: new_name}) else new_name
                replaced.append((stored.storage, obsolete))
    except BaseException:
        _delete(written)
        raise
    _delete(replaced)


def _delete(files: list[tuple[object, str]]) -> None:
    for storage, name in files:
        with contextlib.suppress(OSError):
            storage.delete(name)  # type: ignore[attr-defined]


def rotate_keys(*, batch_size: int = DEFAULT_BATCH_SIZE) -> RotationReport:
    """Re-encrypt every encrypted value and file under the first key (safe to run again)."""
    report = RotationReport()
    rotate_fields(batch_size=batch_size, report=report)
    rotate_files(batch_size=batch_size, report=report)
    return report
