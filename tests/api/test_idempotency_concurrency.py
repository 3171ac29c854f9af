"""Two simultaneous requests with one Idempotency-Key: one registration, two identical answers.

Needs committed data visible to several connections, so it runs as a transactional test on
PostgreSQL (SQLite's shared in-memory test database does not queue concurrent writers the way a
file database does; the replay path itself is covered on both databases by the sequential tests).
"""

from __future__ import annotations

import threading
import time

import pytest
from django.conf import settings
from django.db import connection
from django.test import Client

from xinfang.api.endpoints import petitions as petition_endpoints
from xinfang.petitions.models import Petition

from .conftest import petition_payload

ON_POSTGRES = settings.DATABASES["default"]["ENGINE"].endswith("postgresql")
pytestmark = [
    pytest.mark.postgres,
    pytest.mark.skipif(not ON_POSTGRES, reason="needs PostgreSQL: concurrent connections"),
]


def _set_truncate_guard(*, enabled: bool) -> None:
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM pg_trigger WHERE tgname = 'audit_event_no_truncate'")
        if cursor.fetchone()[0]:  # a shared fixture may already have taken the triggers away
            action = "ENABLE" if enabled else "DISABLE"
            cursor.execute(f"ALTER TABLE audit_auditevent {action} TRIGGER audit_event_no_truncate")


@pytest.fixture
def _audit_truncate_restored(django_db_blocker):
    """Re-arm the audit table's TRUNCATE guard after the transactional test's flush.

    A transactional test ends by TRUNCATE-ing every table, which the audit log refuses
    (migration audit 0003).  The guard is disarmed for this test only and re-armed here; this
    fixture is requested before ``transactional_db``, so its teardown runs after the flush.
    """
    yield
    with django_db_blocker.unblock():
        _set_truncate_guard(enabled=True)


@pytest.fixture
def committed_db(_audit_truncate_restored, django_db_serialized_rollback, transactional_db):
    """Committed data, visible to other connections; the migrated data is restored afterwards."""
    _set_truncate_guard(enabled=False)


def test_concurrent_duplicates_wait_for_the_first_and_replay_it(committed_db, world, token_of, monkeypatch):
    """The second request blocks on the key's unique index until the first commits, then replays."""
    # given: registration made slow enough that the two requests surely overlap
    real_register = petition_endpoints.workflow.register

    def slow_register(**kwargs):
        time.sleep(0.5)
        return real_register(**kwargs)

    monkeypatch.setattr(petition_endpoints.workflow, "register", slow_register)
    token = token_of(world.intake_a)
    payload = petition_payload(world.a.township)
    barrier = threading.Barrier(2)
    responses = []

    def send() -> None:
        try:
            barrier.wait()
            responses.append(
                Client().post(
                    "/api/v1/petitions",
                    payload,
                    content_type="application/json",
                    HTTP_AUTHORIZATION=f"Bearer {token}",
                    HTTP_IDEMPOTENCY_KEY="concurrent-1",
                )
            )
        finally:
            connection.close()  # each thread has its own connection; the flush needs them gone

    # when
    threads = [threading.Thread(target=send) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    # then
    assert [r.status_code for r in responses] == [201, 201]
    assert responses[0].content == responses[1].content
    assert sorted(r.get("Idempotent-Replayed", "") for r in responses) == ["", "true"]
    assert Petition.objects.count() == 1
