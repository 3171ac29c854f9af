"""The audit chain where a province runs it: PostgreSQL with many writers, and the documented
database roles (issue #7, point 22; docs/security.md §4).

* Many processes append at once: each takes the next seq under the head's row lock, so the chain
  has no gap, no fork and no lost row.  The threads here have their own connections, and the
  hashing is slowed down so that, without the lock, two writers would surely read the same head.
* The application role of the documented grants (``xinfang audit grants``) may read and append to
  the audit log but not change, delete, truncate it or switch its triggers off.
"""

from __future__ import annotations

import threading
import time
import uuid

import pytest
from django.conf import settings
from django.db import DatabaseError, connection, connections, transaction

from xinfang.audit import chain
from xinfang.audit.chain import Verified, verify
from xinfang.audit.models import AuditChainHead, AuditEvent
from xinfang.audit.roles import grant_statements
from xinfang.audit.services import record_event

ON_POSTGRES = settings.DATABASES["default"]["ENGINE"].endswith("postgresql")
pytestmark = [
    pytest.mark.postgres,
    pytest.mark.skipif(not ON_POSTGRES, reason="needs PostgreSQL: concurrent writers and database roles"),
]

WRITERS = 6
EACH = 8
TIMEOUT = 60


@pytest.fixture
def slow_hash(monkeypatch):
    """Widen the window between reading the head and writing the row."""
    real = chain.row_hash

    def slow(*args, **kwargs):
        time.sleep(0.01)
        return real(*args, **kwargs)

    monkeypatch.setattr(chain, "row_hash", slow)


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_concurrent_writers_make_one_unbroken_chain(slow_hash):
    """Six writers, eight events each, all at once: 48 rows numbered 1..48 and a chain that verifies."""
    barrier = threading.Barrier(WRITERS)
    errors: list[BaseException] = []

    def writer(n: int) -> None:
        try:
            barrier.wait(TIMEOUT)
            for i in range(EACH):
                with transaction.atomic():
                    record_event(actor=None, action="test.concurrent", data={"writer": n, "i": i})
        except BaseException as exc:  # noqa: BLE001 - reported by the main thread
            errors.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=writer, args=(n,)) for n in range(WRITERS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(TIMEOUT)
    assert not errors, errors

    total = AuditEvent.objects.count()
    assert AuditEvent.objects.filter(action="test.concurrent").count() == WRITERS * EACH
    assert list(AuditEvent.objects.order_by("seq").values_list("seq", flat=True)) == list(range(1, total + 1))
    result = verify()
    assert isinstance(result, Verified), result
    assert AuditChainHead.objects.get().seq == total


# --- the documented database roles --------------------------------------------------------------


@pytest.fixture
def app_role(db):
    """A throw-away role given exactly the documented grants (rolled back with the test)."""
    role = f"xinfang_app_test_{uuid.uuid4().hex[:10]}"
    with connection.cursor() as cursor:
        cursor.execute(f"CREATE ROLE {role} NOLOGIN")
        for statement in grant_statements(role):
            cursor.execute(statement)
    return role


@pytest.fixture
def as_app(app_role):
    """Run the test's statements as the application role, then go back."""
    record_event(actor=None, action="test.before")  # something to try to change
    with connection.cursor() as cursor:
        cursor.execute(f"SET ROLE {app_role}")
    yield app_role
    with connection.cursor() as cursor:
        cursor.execute("RESET ROLE")


def test_the_application_role_can_read_and_append(as_app):
    event = record_event(actor=None, action="test.as_app")
    assert AuditEvent.objects.filter(pk=event.pk).exists()
    assert isinstance(verify(), Verified)


@pytest.mark.parametrize(
    "statement",
    [
        "UPDATE audit_auditevent SET action = 'forged'",
        "DELETE FROM audit_auditevent",
        "TRUNCATE audit_auditevent",
        "ALTER TABLE audit_auditevent DISABLE TRIGGER USER",
        "DROP TRIGGER audit_event_no_change ON audit_auditevent",
        "DELETE FROM audit_auditchainhead",
        "TRUNCATE audit_auditchainhead",
    ],
    ids=["update", "delete", "truncate", "disable-trigger", "drop-trigger", "delete-head", "truncate-head"],
)
def test_the_application_role_cannot_rewrite_the_log(as_app, statement):
    """Refused by privilege (not only by the trigger): the role does not own the table."""
    with (
        pytest.raises(DatabaseError, match="permission denied|must be owner"),
        transaction.atomic(),
        connection.cursor() as cursor,
    ):
        cursor.execute(statement)
