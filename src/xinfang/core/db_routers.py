"""The database router installed when a read replica is configured (``DATABASE_REPLICA_URL``).

Writes, migrations and every read outside ``core.replica.stale_ok()`` go to ``default`` (the
primary); ``core.replica.read_alias`` decides each read inside it (docs/deployment.md, "Read
replica").  The router answers explicitly, never ``None``: an object read from the replica that
loads a relation later, outside the stale scope, loads it from the primary.
"""

from __future__ import annotations

from typing import Any

from django.db import DEFAULT_DB_ALIAS

from . import replica


class ReplicaRouter:
    def db_for_read(self, model: type, **hints: Any) -> str:
        return replica.read_alias(model._meta.app_label)

    def db_for_write(self, model: type, **hints: Any) -> str:
        return DEFAULT_DB_ALIAS

    def allow_relation(self, obj1: Any, obj2: Any, **hints: Any) -> bool:
        # Both databases hold the same rows (the replica is a copy of the primary).
        return True

    def allow_migrate(self, db: str, app_label: str, model_name: str | None = None, **hints: Any) -> bool:
        return db == DEFAULT_DB_ALIAS
