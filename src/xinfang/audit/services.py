"""Writing audit events, and reading them back for the audit administrator.  Call ``record_event``
inside the transaction of the change being audited, so that the change and its audit row commit or
roll back together."""

from __future__ import annotations

import contextlib
import datetime as dt
from collections.abc import Iterator
from dataclasses import asdict, dataclass
from typing import Any

from django.db import models, transaction
from django.db.models import QuerySet
from django.utils import timezone

from xinfang.core.context import current_ip

from .chain import append_many
from .models import AuditEvent


def record_event(
    *,
    actor: Any,
    action: str,
    obj: models.Model | None = None,
    data: dict[str, Any] | None = None,
    ip: str | None = None,
) -> AuditEvent:
    """Append one audit event.  ``actor`` may be None for the public or the system.

    The event joins the keyed hash chain (chain.append) under the chain head's row lock, held until
    the caller's transaction ends: write the audit event last in a transaction, after the row locks
    the change itself needs, so that writers always take the locks in the same order.
    """
    is_user = actor is not None and getattr(actor, "is_authenticated", False)
    event = AuditEvent(
        actor=actor if is_user else None,
        actor_name=actor.get_username() if is_user else "",
        ip=current_ip() if ip is None else ip,
        action=action,
        object_type=obj._meta.label_lower if obj is not None else "",
        object_id=str(obj.pk) if obj is not None else "",
        object_repr=str(obj)[:200] if obj is not None else "",
        data=_jsonable(data or {}),
    )
    pending = _deferred()
    if pending is None:
        event.save()
        return event
    # A no-op commit hook as the event's witness: Django drops the hooks registered inside a
    # savepoint that rolls back, so an event whose witness is gone at the end was undone with it.
    witness = _Witness()
    transaction.on_commit(witness)
    pending.append((event, obj, witness))
    return event


# --- chaining as the last step of a transaction ------------------------------------------------
# The chain head is one row every writer in every office locks (chain.append): held from the
# append to the commit, it serialises the whole system's writes.  A hot path (registration) records
# its events inside ``chain_at_end``: they are kept in memory and chained in one INSERT as the last
# writes of the transaction, so the head is locked only for that INSERT, the head's UPDATE and the
# commit.  The guarantee is unchanged: the rows are chained inside the same transaction as the
# change they audit (both commit or neither), under the same lock, in the same order.

_STATE = "_xinfang_audit_deferred"
Pending = list[tuple[AuditEvent, models.Model | None, Any]]


class _Witness:
    """Does nothing after the commit; while the transaction runs, its presence among the
    connection's commit hooks says its savepoint was not rolled back."""

    def __call__(self) -> None:
        return None


def _deferred() -> Pending | None:
    """The open ``chain_at_end`` block's pending events, if there is one."""
    connection = transaction.get_connection()
    if not connection.in_atomic_block:
        return None
    return getattr(connection, _STATE, None)


@contextlib.contextmanager
def chain_at_end() -> Iterator[None]:
    """Chain the audit events recorded inside the block when the outermost such block ends (use it
    inside the transaction, ``with transaction.atomic(), chain_at_end():``).

    Each pending event's object is named (``object_repr``) as it is at that moment: a petition
    registered with a provisional number is audited under its real number, taken just before.
    Outside a transaction the block does nothing special.
    """
    connection = transaction.get_connection()
    if getattr(connection, _STATE, None) is not None or not connection.in_atomic_block:
        yield
        return
    pending: Pending = []
    setattr(connection, _STATE, pending)
    try:
        yield
    finally:
        setattr(connection, _STATE, None)
    # Django keeps commit hooks as (savepoint ids, callable, robust) and removes those of a
    # savepoint rolled back (BaseDatabaseWrapper.savepoint_rollback).
    alive = {id(hook) for _sids, hook, _robust in connection.run_on_commit}
    # The witnesses have testified: no hook of ours is left to run after the commit.
    connection.run_on_commit = [e for e in connection.run_on_commit if not isinstance(e[1], _Witness)]
    events = []
    for event, obj, witness in pending:
        if id(witness) not in alive:
            continue  # recorded inside a savepoint that was rolled back: undone with it
        if obj is not None:
            event.object_id, event.object_repr = str(obj.pk), str(obj)[:200]
        events.append(event)
    append_many(events)


def _jsonable(value: Any) -> Any:
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple | set):
        return [_jsonable(v) for v in value]
    if isinstance(value, str | int | float | bool) or value is None:
        return value
    if isinstance(value, models.Model):
        return value.pk
    return str(value)


# --- reading the log (the audit administrator) ------------------------------------------------


@dataclass(frozen=True)
class LogFilters:
    """What the audit administrator searches for; every field narrows on an indexed column."""

    action: str = ""
    actor: str = ""
    object: str = ""
    date_from: dt.date | None = None
    date_to: dt.date | None = None

    def as_data(self) -> dict[str, Any]:
        """The filters that were set, as written to the audit event of the search."""
        return {name: value for name, value in asdict(self).items() if value not in ("", None)}

    def apply(self, events: QuerySet[AuditEvent]) -> QuerySet[AuditEvent]:
        if self.action:
            events = events.filter(action=self.action)
        if self.actor:
            events = events.filter(actor_name=self.actor)
        if self.object:
            events = events.filter(object_repr=self.object)
        if self.date_from:
            events = events.filter(at__gte=_start_of(self.date_from))
        if self.date_to:
            events = events.filter(at__lt=_start_of(self.date_to + dt.timedelta(days=1)))
        return events


def search_log(
    *, user: Any, filters: LogFilters, page: int = 1, export: bool = False
) -> QuerySet[AuditEvent]:
    """The events matching ``filters``, newest first.  The search itself is audited (等保: the
    auditor's reading of the log is an auditable action too), with its filters: ``audit.search``
    for a page, ``audit.export`` for a download."""
    record_event(
        actor=user,
        action="audit.export" if export else "audit.search",
        data={"filters": filters.as_data(), **({} if export else {"page": page})},
    )
    return filters.apply(AuditEvent.objects.all()).order_by("-at", "-id")


def _start_of(day: dt.date) -> dt.datetime:
    """Midnight at the start of ``day`` in the site's time zone (the dates the auditor typed)."""
    return timezone.make_aware(dt.datetime.combine(day, dt.time.min))
