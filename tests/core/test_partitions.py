"""Monthly partitions of the timeline, the audit log and the bell on PostgreSQL, with retention
(issue #12 §4; core/partitions.py, audit/retention.py).

Every test but the last two needs PostgreSQL (declarative partitioning); on SQLite they skip and
the tables stay plain.  Run them with
``DATABASE_URL=postgres://postgres@127.0.0.1:5432/xinfang_part pytest tests/core/test_partitions.py``.
"""

from __future__ import annotations

import datetime as dt
import os
import subprocess
import sys

import freezegun
import pytest
from django.core.exceptions import ImproperlyConfigured
from django.core.management import call_command
from django.db import DatabaseError, connection, transaction
from django.utils import timezone

from xinfang.audit.chain import Verified, verify
from xinfang.audit.models import AuditEvent
from xinfang.audit.retention import CHECKPOINT_ACTION, DROP_ACTION, latest_checkpoint
from xinfang.core import partitions
from xinfang.core.partitions import (
    add_months,
    apply_retention,
    create_partition,
    default_name,
    ensure_partitions,
    month_start,
    partition_name,
)
from xinfang.notifications.models import Notification
from xinfang.petitions.models import PetitionEvent

EVENTS, AUDIT, BELL = "petitions_petitionevent", "audit_auditevent", "notifications_notification"

pytestmark = pytest.mark.django_db


@pytest.fixture
def any_database():
    """Requested by the tests that run on SQLite too."""


@pytest.fixture(autouse=True)
def _postgresql_only(request):
    if connection.vendor != "postgresql" and "any_database" not in request.fixturenames:
        pytest.skip("declarative partitioning is PostgreSQL's; on SQLite the tables stay plain (no-op)")


def home_of(table: str, pk: int) -> str:
    """The partition a row is stored in."""
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT tableoid::regclass::text FROM {table} WHERE id = %s", [pk])  # noqa: S608
        return cursor.fetchone()[0]


def exists(name: str) -> bool:
    with connection.cursor() as cursor:
        cursor.execute("SELECT to_regclass(%s) IS NOT NULL", [name])
        return cursor.fetchone()[0]


def at(year: int, month: int, day: int = 15) -> dt.datetime:
    return timezone.make_aware(dt.datetime(year, month, day, 10, 0))


def audit_row(when: dt.datetime, action: str = "test.partition") -> AuditEvent:
    event = AuditEvent(at=when, action=action)
    event.save()  # appended to the chain like record_event, with a chosen time
    return event


def bell(world, when: dt.datetime, key: str = "") -> Notification:
    return Notification.objects.create(
        user=world.handler_a, kind="t", title="t", created_at=when, dedupe_key=key
    )


# --- the conversion --------------------------------------------------------------------------


def test_the_three_tables_are_partitioned_by_month_on_their_timestamp():
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT partrelid::regclass::text, a.attname, p.partstrat FROM pg_partitioned_table p"
            " JOIN pg_attribute a ON a.attrelid = p.partrelid AND a.attnum = p.partattrs[0]"
        )
        found = {row[0]: row[1:] for row in cursor.fetchall()}
        assert found[EVENTS] == ("at", "r")
        assert found[AUDIT] == ("at", "r")
        assert found[BELL] == ("created_at", "r")
        # The primary key carries the partition key; the outbox stays a plain table (see docs).
        cursor.execute(
            "SELECT pg_get_constraintdef(oid) FROM pg_constraint"
            " WHERE contype = 'p' AND conrelid = %s::regclass",
            [AUDIT],
        )
        assert cursor.fetchone()[0] == "PRIMARY KEY (id, at)"
        assert not partitions.is_partitioned(cursor, "notifications_outboxmessage")
    for table in (EVENTS, AUDIT, BELL):
        assert exists(default_name(table))
        for n in range(4):  # the migration made this month and 3 ahead
            assert exists(partition_name(table, add_months(month_start(timezone.localdate()), n)))


def test_orm_writes_and_reads_land_in_the_month_of_their_timestamp(world):
    event = audit_row(at(2027, 2))
    assert home_of(AUDIT, event.pk) == "audit_auditevent_p202702"
    note = bell(world, at(2027, 1, 31))
    assert home_of(BELL, note.pk) == "notifications_notification_p202701"
    # The month is the site's (Asia/Shanghai): 1 March 01:00 local is still February in UTC.
    early = bell(world, timezone.make_aware(dt.datetime(2027, 3, 1, 1, 0)))
    assert home_of(BELL, early.pk) == "notifications_notification_p202703"
    # Reads, updates and deletes by id work as before.
    Notification.objects.filter(pk=note.pk).update(read_at=timezone.now())
    assert Notification.objects.get(pk=note.pk).read_at is not None
    Notification.objects.filter(pk=early.pk).delete()
    assert not Notification.objects.filter(pk=early.pk).exists()
    # ids keep coming from the one identity sequence, unique across partitions.
    later = bell(world, at(2027, 2))
    assert later.pk > note.pk


def test_timeline_events_through_the_service_land_in_this_months_partition(world):
    from tests.factories import register

    registration = register(world.a.office, world.intake_a, world.a.township)
    events = list(PetitionEvent.objects.filter(petition=registration.petition))
    assert events
    this_month = partition_name(EVENTS, month_start(timezone.localdate()))
    assert {home_of(EVENTS, e.pk) for e in events} == {this_month}
    assert home_of(AUDIT, AuditEvent.objects.latest("seq").pk) == partition_name(
        AUDIT, month_start(timezone.localdate())
    )


def test_dedupe_key_stays_unique_within_a_month(world):
    bell(world, at(2027, 1), key="k1")
    with pytest.raises(DatabaseError), transaction.atomic():
        bell(world, at(2027, 1, 20), key="k1")
    # notify() skips a user who already has the key in any month (its look-up before the insert).
    from xinfang.notifications.services import notify

    assert notify([world.handler_a], kind="t", title="t", dedupe_key="k1") == 0


# --- partitions ahead and the DEFAULT partition --------------------------------------------


def test_ensure_creates_partitions_months_ahead_and_is_idempotent():
    today = dt.date(2031, 5, 20)
    created = ensure_partitions(4, today=today)
    for table in (EVENTS, AUDIT, BELL):
        for month in ("203105", "203106", "203107", "203108", "203109"):
            assert f"{table}_p{month}" in created
            assert exists(f"{table}_p{month}")
        assert not exists(f"{table}_p203110")
    assert ensure_partitions(4, today=today) == []


def test_a_bulk_load_of_history_creates_its_months_first():
    created = partitions.ensure_months(dt.date(2019, 11, 5), dt.date(2020, 2, 1), (EVENTS,))
    assert created == [f"{EVENTS}_p2019{m}" for m in ("11", "12")] + [
        f"{EVENTS}_p2020{m}" for m in ("01", "02")
    ]
    assert not exists(f"{AUDIT}_p201911")


def test_the_daily_job_creates_partitions_ahead(settings):
    settings.XINFANG_PARTITION_MONTHS_AHEAD = 6
    result = partitions.maintain_partitions()
    assert result["created"] == 3 * 3  # months 4, 5 and 6 ahead on three tables (0–3: the migration)
    assert exists(partition_name(AUDIT, add_months(month_start(timezone.localdate()), 6)))


def test_rows_in_default_move_to_their_month_when_it_is_created(world):
    note = bell(world, at(2032, 7))
    logged = audit_row(at(2032, 7, 3))
    assert home_of(BELL, note.pk) == default_name(BELL)
    assert home_of(AUDIT, logged.pk) == default_name(AUDIT)
    created = ensure_partitions(0)  # this month exists: only the months found in DEFAULT
    assert set(created) == {f"{BELL}_p203207", f"{AUDIT}_p203207"}
    assert home_of(BELL, note.pk) == f"{BELL}_p203207"
    assert home_of(AUDIT, logged.pk) == f"{AUDIT}_p203207"
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT count(*) FROM {default_name(AUDIT)}")  # noqa: S608
        assert cursor.fetchone()[0] == 0
        # DEFAULT is attached again, with the append-only trigger cloned back onto it.
        cursor.execute("SELECT count(*) FROM pg_trigger WHERE tgrelid = %s::regclass", [default_name(AUDIT)])
        assert cursor.fetchone()[0] >= 1
    assert isinstance(verify(), Verified)  # moving rows keeps the chain


# --- the audit log stays append-only ----------------------------------------------------------


@pytest.mark.parametrize("statement", ["UPDATE {p} SET action = 'x'", "DELETE FROM {p}"])
def test_audit_rows_refuse_update_and_delete_on_a_partition_itself(statement):
    audit_row(at(2027, 1))
    with (
        pytest.raises(DatabaseError, match="append-only"),
        transaction.atomic(),
        connection.cursor() as cursor,
    ):
        cursor.execute(statement.format(p="audit_auditevent_p202701"))
    created = create_partition(AUDIT, dt.date(2033, 1, 1))  # a partition created later too
    assert created
    audit_row(at(2033, 1))
    with (
        pytest.raises(DatabaseError, match="append-only"),
        transaction.atomic(),
        connection.cursor() as cursor,
    ):
        cursor.execute(statement.format(p="audit_auditevent_p203301"))


def test_the_application_role_has_no_privilege_on_an_audit_partition(db):
    from xinfang.audit.roles import grant_statements
    from xinfang.audit.services import record_event

    record_event(actor=None, action="test.before")
    month = partition_name(AUDIT, month_start(timezone.localdate()))
    role = f"xinfang_app_part_{os.getpid()}"
    with connection.cursor() as cursor:
        cursor.execute(f"CREATE ROLE {role} NOLOGIN")
        for statement in grant_statements(role):
            cursor.execute(statement)
        cursor.execute(f"SET ROLE {role}")
        try:
            record_event(actor=None, action="test.as_app")  # appending through the parent works
            for statement in (
                f"DELETE FROM {month}",  # noqa: S608
                f"UPDATE {month} SET action = 'x'",  # noqa: S608
                f"TRUNCATE {month}",
            ):
                with pytest.raises(DatabaseError, match="permission denied"), transaction.atomic():
                    cursor.execute(statement)
        finally:
            cursor.execute("RESET ROLE")


# --- retention --------------------------------------------------------------------------------


def test_retention_drops_only_whole_months_older_than_the_setting(world, settings):
    settings.XINFANG_NOTIFICATION_RETENTION_MONTHS = 12
    today = dt.date(2027, 3, 10)
    for month in (dt.date(2025, 12, 1), dt.date(2026, 2, 1), dt.date(2026, 3, 1)):
        create_partition(BELL, month)
    old = bell(world, at(2025, 12))
    edge = bell(world, at(2026, 3, 1))
    due = apply_retention(dry_run=True, today=today)
    assert [d.partition for d in due] == [f"{BELL}_p202512", f"{BELL}_p202602"]
    assert exists(f"{BELL}_p202512")  # a dry run drops nothing
    apply_retention(today=today)
    assert not exists(f"{BELL}_p202512") and not exists(f"{BELL}_p202602")
    assert exists(f"{BELL}_p202603") and exists(default_name(BELL))
    assert not Notification.objects.filter(pk=old.pk).exists()
    assert Notification.objects.filter(pk=edge.pk).exists()
    # The timeline (case file) and the audit log (0 = keep all) are not touched.
    assert all(d.table == BELL for d in due)
    dropped = AuditEvent.objects.filter(action=DROP_ACTION).order_by("seq")
    assert [e.data["partition"] for e in dropped] == [f"{BELL}_p202512", f"{BELL}_p202602"]
    assert dropped[0].data["rows"] == 1
    assert isinstance(verify(), Verified)


def test_audit_retention_below_six_months_is_refused(settings):
    settings.XINFANG_AUDIT_RETENTION_MONTHS = 5
    with pytest.raises(ImproperlyConfigured, match="at least 6"):
        apply_retention(dry_run=True)
    settings.XINFANG_AUDIT_RETENTION_MONTHS = 6
    assert all(d.table == AUDIT for d in apply_retention(dry_run=True))


def test_audit_verify_passes_after_months_are_dropped_and_fails_on_tampering(settings):
    settings.XINFANG_AUDIT_RETENTION_MONTHS = 6
    for month in (dt.date(2026, 10, 1), dt.date(2026, 11, 1)):
        create_partition(AUDIT, month)
    audit_row(at(2026, 10, 5))
    audit_row(at(2026, 10, 6))
    kept_early = audit_row(at(2026, 12, 1))  # kept (December), seq below the next one
    straggler = audit_row(at(2026, 11, 30))  # appended later, dated in a month that is dropped
    audit_row(at(2026, 12, 2))
    before = verify()
    assert isinstance(before, Verified)

    # Half a year on (the drop events are dated then): October and November go.
    with freezegun.freeze_time("2027-06-10 04:00:00"):
        dropped = apply_retention()
    assert [d.partition for d in dropped] == [f"{AUDIT}_p202610", f"{AUDIT}_p202611"]
    assert not AuditEvent.objects.filter(pk=straggler.pk).exists()
    point = latest_checkpoint()
    assert point is not None and point.seq == straggler.seq
    assert kept_early.seq in point.links  # kept below the checkpoint: linked by its noted predecessor
    result = verify()
    assert isinstance(result, Verified), result
    assert result.seq == before.seq + 2  # the two drop events joined the chain
    # An anchor noted before the drop, now in a dropped month, is accounted for by the checkpoint.
    assert isinstance(verify(anchor=(straggler.seq, straggler.chain_hash)), Verified)
    assert AuditEvent.objects.filter(action=CHECKPOINT_ACTION).count() == 2

    # A later drop (December, with the row kept below the first checkpoint) carries it forward.
    audit_row(at(2027, 1, 3))
    with freezegun.freeze_time("2027-07-10 04:00:00"):
        assert [d.partition for d in apply_retention()] == [f"{AUDIT}_p202612"]
    assert isinstance(verify(), Verified)

    # A month cut off without the key (no checkpoint) is a break.
    with connection.cursor() as cursor:
        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
        cursor.execute(f"DROP TABLE {AUDIT}_p202701")
    assert not isinstance(verify(), Verified)


def test_the_command_reports_and_maintains(capsys):
    call_command("partitions", "--ensure", "--months-ahead", "4")
    call_command("partitions", "--retention", "--dry-run")
    call_command("partitions")
    out = capsys.readouterr().out
    assert "新建分区 3 个" in out  # month 4 ahead on three tables
    assert "将删除分区 0 个" in out
    assert "audit_auditevent: 已分区" in out and "保存期限 永久" in out


# --- both databases ---------------------------------------------------------------------------


def test_sqlite_is_left_as_it_is(any_database):
    if connection.vendor == "postgresql":
        pytest.skip("the SQLite no-op")
    assert ensure_partitions() == [] and apply_retention() == []
    assert partitions.maintain_partitions() == {"created": 0, "dropped": 0}
    assert not any(t.partitioned for t in partitions.status())


def test_a_shorter_audit_retention_is_refused_when_settings_load(any_database):
    env = {
        **os.environ,
        "XINFANG_AUDIT_RETENTION_MONTHS": "3",
        "DJANGO_SETTINGS_MODULE": "xinfang.test_settings",
    }
    run = subprocess.run(
        [sys.executable, "-c", "import django; django.setup()"],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert run.returncode != 0
    assert "at least 6 months" in run.stderr
