"""The PostgreSQL privileges of the application role on the audit tables (docs/security.md §4).

A deployment runs migrations as one role, which owns every table, and serves requests and jobs as
another, which owns nothing.  Only an owner (or a superuser) may ``ALTER TABLE … DISABLE TRIGGER``
or drop the append-only triggers, so the application role cannot, even if the application is
subverted.  On the audit tables the application role may only read and append: UPDATE and DELETE
on ``audit_auditevent`` are refused by privilege before any trigger runs.  The chain head must
be updated by every append (and locked with SELECT … FOR UPDATE, which needs UPDATE), but never
deleted.  ``xinfang audit grants <role>`` prints these statements; run them as the owning role
after every ``migrate``, since new tables need their grants.
"""

from __future__ import annotations

import re

from .models import AuditChainHead, AuditEvent

_ROLE = re.compile(r"[a-z_][a-z0-9_]{0,62}")


def grant_statements(app_role: str, *, schema: str = "public") -> list[str]:
    """The GRANT/REVOKE statements that give ``app_role`` what the application needs, and no
    more on the audit tables."""
    for name in (app_role, schema):
        if not _ROLE.fullmatch(name):
            raise ValueError(f"not a plain PostgreSQL identifier: {name!r}")
    events, head = AuditEvent._meta.db_table, AuditChainHead._meta.db_table
    return [
        f"GRANT USAGE ON SCHEMA {schema} TO {app_role};",
        f"GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA {schema} TO {app_role};",
        f"GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA {schema} TO {app_role};",
        # The audit log: read and append only.
        f"REVOKE UPDATE, DELETE, TRUNCATE, REFERENCES, TRIGGER ON {schema}.{events} FROM {app_role};",
        # The chain head: read and move forward (UPDATE, also what SELECT … FOR UPDATE needs), never remove.
        f"REVOKE DELETE, TRUNCATE, REFERENCES, TRIGGER ON {schema}.{head} FROM {app_role};",
        # The audit log's monthly partitions (core/partitions.py): nothing directly; the application
        # reads and appends through the parent, whose privileges are the ones checked.  Partitions
        # created later get no grants at all.
        _revoke_on_partitions(f"{schema}.{events}", app_role),
    ]


def _revoke_on_partitions(table: str, app_role: str) -> str:
    """One statement revoking everything on each current partition of ``table``.  Only checked
    identifiers and our own table name are interpolated."""
    return (
        "DO $$ DECLARE part regclass; BEGIN FOR part IN SELECT inhrelid::regclass FROM pg_inherits"  # noqa: S608
        f" WHERE inhparent = to_regclass('{table}') LOOP"
        f" EXECUTE format('REVOKE ALL ON %s FROM {app_role}', part); END LOOP; END $$;"
    )
