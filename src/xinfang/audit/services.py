"""Writing audit events.  Call inside the transaction of the change being audited, so that the
change and its audit row commit or roll back together."""

from __future__ import annotations

from typing import Any

from django.db import models

from xinfang.core.context import current_ip

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
    return AuditEvent.objects.create(
        actor=actor if is_user else None,
        actor_name=actor.get_username() if is_user else "",
        ip=current_ip() if ip is None else ip,
        action=action,
        object_type=obj._meta.label_lower if obj is not None else "",
        object_id=str(obj.pk) if obj is not None else "",
        object_repr=str(obj)[:200] if obj is not None else "",
        data=_jsonable(data or {}),
    )


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
