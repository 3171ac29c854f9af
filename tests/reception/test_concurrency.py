"""Capacity under concurrency: many citizens booking the last places of a slot at once, on
PostgreSQL with real concurrent connections.  The conditional UPDATE (``booked < capacity``) lets
exactly ``capacity`` of them in; the rest get SlotFull, and ``booked`` equals the bookings made.
And one person booking twice at once gets one booking.

PostgreSQL only (like tests/workflow/test_concurrency.py): SQLite's shared in-memory test database
refuses a second writer instead of queueing it."""

from __future__ import annotations

import threading

import pytest
from django.conf import settings
from django.db import connections

from xinfang.reception import services
from xinfang.reception.models import ReceptionBooking, ReceptionSlot

from ..factories import make_id_number
from .conftest import schedule_input

ON_POSTGRES = settings.DATABASES["default"]["ENGINE"].endswith("postgresql")
pytestmark = [
    pytest.mark.postgres,
    pytest.mark.skipif(not ON_POSTGRES, reason="needs PostgreSQL: concurrent connections on one row"),
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]
TIMEOUT = 60


def race(actions: list) -> tuple[list, list]:
    barrier = threading.Barrier(len(actions))
    results: list = []
    errors: list = []

    def work(action) -> None:  # noqa: ANN001
        try:
            barrier.wait(timeout=TIMEOUT)
            results.append(action())
        except BaseException as exc:
            errors.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=work, args=(a,)) for a in actions]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=TIMEOUT)
    assert not any(t.is_alive() for t in threads), "a booking hung"
    return results, errors


@pytest.fixture
def slot(world, frozen):
    schedule = services.save_schedule(
        user=world.intake_a,
        organisation=world.a.office,
        data=schedule_input([world.leader_a.pk], capacity_per_slot=3),
    )
    return schedule.sessions.order_by("date").first().slots.order_by("starts_at").first()


def _booking(slot: ReceptionSlot, n: int, id_number: str | None = None):
    def run():
        return services.book_slot(
            session_id=slot.session_id,
            slot_id=slot.pk,
            name=f"群众{n}",
            id_number=id_number or make_id_number("19800101", seq=100 + n),
            phone=f"1380000{n:04d}",
            description="请求接待。",
            ip=f"10.0.0.{n}",
        )

    return run


def test_ten_citizens_racing_for_three_places_get_three(slot):
    results, errors = race([_booking(slot, n) for n in range(10)])
    assert len(results) == 3
    assert len(errors) == 7 and all(isinstance(e, services.SlotFull) for e in errors), errors
    slot.refresh_from_db()
    assert slot.booked == 3 == ReceptionBooking.objects.filter(slot=slot).count()


def test_one_person_booking_twice_at_once_gets_one_booking(slot):
    same = make_id_number("19700101", seq=7)
    results, errors = race([_booking(slot, n, id_number=same) for n in range(2)])
    assert len(results) == 1 and len(errors) == 1
    slot.refresh_from_db()
    assert slot.booked == 1 == ReceptionBooking.objects.count()
