"""Migration 0005 chains the audit rows written before the chain existed (issue #7, point 22):
after it, ``verify`` passes over the old rows, in their id order, and new rows continue the chain.
"""

from __future__ import annotations

import datetime as dt

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

from xinfang.audit.chain import Verified, verify
from xinfang.audit.models import AuditEvent
from xinfang.audit.services import record_event

BEFORE = [("audit", "0004_audit_indexes")]


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_the_migration_chains_existing_rows():
    if connection.vendor == "postgresql":
        # core 0002 partitions the audit log by month on PostgreSQL, and its reverse leaves the table
        # partitioned (docs/deployment.md, "Partitioning and retention"): going back to 0004 would
        # re-create a unique constraint without the partition key, which PostgreSQL refuses.  The
        # chaining of 0005 is the same SQL-free Python on both databases and is tested on SQLite.
        pytest.skip("the audit log is partitioned on PostgreSQL; migrating back before 0005 is not supported")
    executor = MigrationExecutor(connection)
    executor.migrate(BEFORE)
    old = executor.loader.project_state(BEFORE).apps.get_model("audit", "AuditEvent")
    at = dt.datetime(2026, 3, 1, 8, 30, tzinfo=dt.UTC)
    for n in range(3):
        old.objects.create(at=at + dt.timedelta(minutes=n), action="test.old", data={"n": n, "x": 2.5})

    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    executor.migrate(executor.loader.graph.leaf_nodes("audit"))  # 0005 and whatever follows

    rows = list(AuditEvent.objects.order_by("id").values_list("seq", "action"))
    assert rows == [(1, "test.old"), (2, "test.old"), (3, "test.old")]
    assert verify() == Verified(count=3, seq=3, chain_hash=AuditEvent.objects.get(seq=3).chain_hash)
    assert record_event(actor=None, action="test.new").seq == 4
    assert isinstance(verify(), Verified)
