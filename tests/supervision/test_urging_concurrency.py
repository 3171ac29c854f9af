"""Two urging passes at the same moment (two workers, one schedule): each reminder, notification and
timeline event is written once.  Needs committed data seen by two connections: PostgreSQL only
(the sequential rerun is covered on both databases in test_urging.py)."""

from __future__ import annotations

import threading
import time

import pytest
from django.conf import settings
from django.db import connection, transaction

from xinfang.audit.services import record_event
from xinfang.notifications.models import Notification
from xinfang.petitions.choices import EventKind
from xinfang.petitions.models import Petition, PetitionEvent
from xinfang.supervision import urging
from xinfang.supervision.models import Reminder

from .test_urging import TUE, Day

ON_POSTGRES = settings.DATABASES["default"]["ENGINE"].endswith("postgresql")
pytestmark = [
    pytest.mark.postgres,
    pytest.mark.skipif(not ON_POSTGRES, reason="needs PostgreSQL: concurrent connections"),
]


def _set_truncate_guard(*, enabled: bool) -> None:
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM pg_trigger WHERE tgname = 'audit_event_no_truncate'")
        if cursor.fetchone()[0]:
            action = "ENABLE" if enabled else "DISABLE"
            cursor.execute(f"ALTER TABLE audit_auditevent {action} TRIGGER audit_event_no_truncate")


@pytest.fixture
def _audit_truncate_restored(django_db_blocker):
    yield
    with django_db_blocker.unblock():
        _set_truncate_guard(enabled=True)


@pytest.fixture
def committed_db(_audit_truncate_restored, django_db_serialized_rollback, transactional_db):
    _set_truncate_guard(enabled=False)


def test_two_passes_at_once_write_everything_once(committed_db, world, monkeypatch):
    day = Day(world)
    # The first pass holds its uncommitted reminders while the second one starts: the second
    # waits on the unique index, then finds them there and inserts nothing.
    real_insert = urging._insert_reminders
    barrier = threading.Barrier(2)

    def insert_then_linger(t, stamp):
        barrier.wait()
        return real_insert(t, stamp)

    monkeypatch.setattr(urging, "_insert_reminders", insert_then_linger)
    results: list[dict[str, int]] = []
    errors: list[BaseException] = []

    def run() -> None:
        try:
            results.append(urging.run_urge_pass(today=TUE))
        except BaseException as exc:  # noqa: BLE001 - reported by the assertion below
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=run) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert not errors
    assert sorted(r["reminders"] for r in results) == [0, 3]
    assert Reminder.objects.count() == 3
    assert PetitionEvent.objects.filter(kind=EventKind.URGED).count() == 3
    urges = Notification.objects.filter(kind__startswith="urge_")
    assert urges.count() == 5
    assert urges.filter(petition=day.overdue).count() == 2


def test_pass_and_a_users_action_on_an_urged_petition_both_go_through(committed_db, world):
    """A user's action locks its petition FOR UPDATE and writes its audit row last; the pass must
    not hold the audit chain's head while it waits for that petition (no deadlock, nothing lost)."""
    day = Day(world)
    started = threading.Event()
    errors: list[BaseException] = []
    results: list[dict[str, int]] = []

    def user_action() -> None:
        try:
            with transaction.atomic():
                Petition.objects.select_for_update().get(pk=day.overdue.pk)
                started.set()
                time.sleep(1.5)  # the pass runs meanwhile
                record_event(actor=world.handler_a, action="petition.test_action", obj=day.overdue)
        except BaseException as exc:  # noqa: BLE001 - reported by the assertion below
            errors.append(exc)
        finally:
            connection.close()

    def urge() -> None:
        try:
            started.wait(10)
            results.append(urging.run_urge_pass(today=TUE))
        except BaseException as exc:  # noqa: BLE001
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=user_action), threading.Thread(target=urge)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert not errors, errors
    assert results[0]["reminders"] == 3
    assert Reminder.objects.filter(petition=day.overdue).count() == 1
