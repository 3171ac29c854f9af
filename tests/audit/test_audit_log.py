"""The audit log (audit/): who did what, when, from where — and never rewritten.

Rows are refused changes at three levels: the model (instance save/delete), the manager (QuerySet
update/delete) and the database itself (triggers of migration 0003, on SQLite and PostgreSQL), so
not even raw SQL from the application can rewrite history.
"""

from __future__ import annotations

import datetime as dt

import pytest
from django.db import DatabaseError, connection, transaction
from django.utils import timezone

from xinfang.audit.models import AuditEvent, AuditImmutableError
from xinfang.audit.services import record_event
from xinfang.core.context import current_ip, request_context

from ..factories import register

TABLE = AuditEvent._meta.db_table


@pytest.fixture
def event(world) -> AuditEvent:
    """An event written the way services write them."""
    with request_context(ip="198.51.100.20"):
        return record_event(actor=world.intake_a, action="test.action", obj=world.a.office, data={"k": "v"})


def stored(event: AuditEvent) -> tuple:
    """The row as the database holds it, read with raw SQL."""
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT action, actor_name, ip, data FROM {TABLE} WHERE id = %s", [event.pk])  # noqa: S608
        return cursor.fetchone()


# --- what is recorded ---------------------------------------------------------------------------


def test_registration_is_audited_with_actor_ip_and_action(world):
    """Registering writes one event with the clerk, the client address of the request and the action."""
    # given a request from 203.0.113.7
    before = timezone.now()
    with request_context(ip="203.0.113.7"):
        # when the clerk registers a petition
        petition = register(world.a.office, world.intake_a, world.a.township).petition

    # then the audit event says who, from where, what and on which object
    event = AuditEvent.objects.get(action="petition.register")
    assert event.actor == world.intake_a
    assert event.actor_name == "intake_a"
    assert event.ip == "203.0.113.7"
    assert event.object_type == "petitions.petition"
    assert event.object_id == str(petition.pk)
    assert event.object_repr == petition.number
    assert before <= event.at <= timezone.now()


def test_outside_a_request_the_address_is_empty(world):
    """Jobs and commands have no client address: the field is empty, not a stale one."""
    with request_context(ip="203.0.113.7"):
        pass
    register(world.a.office, world.intake_a, world.a.township)
    assert AuditEvent.objects.get(action="petition.register").ip == ""


def test_request_context_nests_and_restores():
    """An inner context overrides the address and the outer one is restored after it."""
    assert current_ip() == ""
    with request_context(ip="192.0.2.1"):
        with request_context(ip="2001:db8::1"):
            assert current_ip() == "2001:db8::1"
        assert current_ip() == "192.0.2.1"
    assert current_ip() == ""


def test_explicit_ip_overrides_the_context(world):
    """A service may pass the address itself (for example a job acting for a request)."""
    with request_context(ip="192.0.2.1"):
        event = record_event(actor=None, action="test.explicit", ip="192.0.2.99")
    assert event.ip == "192.0.2.99"


def test_anonymous_actor_is_recorded_as_nobody(db):
    """The public or the system is recorded as no actor and an empty name."""
    from django.contrib.auth.models import AnonymousUser

    for actor in (None, AnonymousUser()):
        event = record_event(actor=actor, action="test.public")
        assert event.actor_id is None
        assert event.actor_name == ""


def test_data_is_made_json_safe(world):
    """Dates, model instances and sets in ``data`` are stored as JSON values."""
    event = record_event(
        actor=world.intake_a,
        action="test.data",
        data={"when": dt.date(2026, 1, 2), "org": world.a.office, "roles": ("a", "b"), 1: None},
    )
    event.refresh_from_db()
    assert event.data == {"when": "2026-01-02", "org": world.a.office.pk, "roles": ["a", "b"], "1": None}


def test_actor_name_survives_the_account(world):
    """The actor's user name is copied, so the row still says who acted if the account is renamed."""
    event = record_event(actor=world.intake_a, action="test.rename")
    world.intake_a.username = "renamed"
    world.intake_a.save(update_fields=["username"])
    event.refresh_from_db()
    assert event.actor_name == "intake_a"


# --- append-only: the model and the manager -------------------------------------------------


def test_instance_save_is_refused(event):
    """Changing a loaded event and saving it raises, and the row is unchanged."""
    event.action = "forged"
    with pytest.raises(AuditImmutableError):
        event.save()
    with pytest.raises(AuditImmutableError):
        event.save(update_fields=["action"])
    assert stored(event)[0] == "test.action"


def test_instance_delete_is_refused(event):
    """Deleting an event raises, and the row stays."""
    with pytest.raises(AuditImmutableError):
        event.delete()
    assert AuditEvent.objects.filter(pk=event.pk).exists()


@pytest.mark.parametrize(
    "operation",
    [
        lambda qs, e: qs.update(action="forged"),
        lambda qs, e: qs.filter(pk=e.pk).update(ip="192.0.2.254"),
        lambda qs, e: qs.delete(),
        lambda qs, e: qs.filter(pk=e.pk).delete(),
        lambda qs, e: qs.bulk_update([_changed(e)], ["action"]),
    ],
    ids=["update-all", "update-one", "delete-all", "delete-one", "bulk-update"],
)
def test_queryset_update_and_delete_are_refused(event, operation):
    """Every manager/QuerySet path that would change or remove rows raises, and changes nothing."""
    # (in a savepoint: bulk_update's own atomic block marks the transaction for rollback when refused)
    with pytest.raises(AuditImmutableError), transaction.atomic():
        operation(AuditEvent.objects.all(), event)
    assert stored(event)[:3] == ("test.action", "intake_a", "198.51.100.20")


def _changed(event: AuditEvent) -> AuditEvent:
    event.action = "forged"
    return event


# --- append-only: the database ------------------------------------------------------------------


@pytest.mark.parametrize(
    "sql",
    [
        f"UPDATE {TABLE} SET action = 'forged' WHERE id = %s",  # noqa: S608
        f"UPDATE {TABLE} SET ip = '192.0.2.254'",  # noqa: S608
        f"DELETE FROM {TABLE} WHERE id = %s",  # noqa: S608
        f"DELETE FROM {TABLE}",  # noqa: S608
    ],
    ids=["update-one", "update-all", "delete-one", "delete-all"],
)
def test_raw_sql_update_and_delete_are_refused_by_the_database(event, sql):
    """Raw SQL bypasses the model, but the database trigger refuses it (SQLite and PostgreSQL)."""
    # when raw SQL tries to rewrite or remove the row
    params = [event.pk] if "%s" in sql else []
    with (
        pytest.raises(DatabaseError, match="append-only"),
        transaction.atomic(),
        connection.cursor() as cursor,
    ):
        cursor.execute(sql, params)

    # then the row is exactly as it was written
    assert stored(event)[:3] == ("test.action", "intake_a", "198.51.100.20")


def test_forged_instance_with_an_existing_id_is_refused(event):
    """A new instance given an existing id would UPDATE that row on save: the database refuses."""
    forged = AuditEvent(pk=event.pk, action="forged", actor_name="someone")
    with pytest.raises((DatabaseError, AuditImmutableError)), transaction.atomic():
        forged.save()
    assert stored(event)[:2] == ("test.action", "intake_a")


def test_inserting_stays_possible(event):
    """The triggers refuse changes only: new events are still written."""
    record_event(actor=None, action="test.after")
    assert AuditEvent.objects.filter(action__startswith="test.").count() == 2


def test_truncate_is_refused_on_postgresql(event):
    """TRUNCATE bypasses row triggers; PostgreSQL has a statement trigger for it (SQLite has no TRUNCATE)."""
    if connection.vendor != "postgresql":
        pytest.skip("TRUNCATE exists only on PostgreSQL")
    with (
        pytest.raises(DatabaseError, match="append-only"),
        transaction.atomic(),
        connection.cursor() as cursor,
    ):
        cursor.execute(f"TRUNCATE {TABLE}")
    assert AuditEvent.objects.filter(pk=event.pk).exists()


def test_failed_change_writes_no_audit_event(world, monkeypatch):
    """The audit row commits or rolls back with the change it describes."""
    from xinfang.petitions import services

    def crash(*args, **kwargs):
        raise RuntimeError("simulated failure")

    before = AuditEvent.objects.count()
    monkeypatch.setattr(services, "_create_petitioners", crash)
    with pytest.raises(RuntimeError):
        register(world.a.office, world.intake_a, world.a.township)
    assert AuditEvent.objects.count() == before
