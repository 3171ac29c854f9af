"""Fixtures of the reception tests: a published schedule of county A's petition office with its
leader on the rota, materialised from a fixed 'today'."""

from __future__ import annotations

import datetime as dt

import pytest
from django.test import override_settings
from freezegun import freeze_time

from xinfang.reception import services
from xinfang.reception.models import ReceptionSession, RuleKind

from ..factories import make_id_number

# A fixed Tuesday whose next first-working-day sessions are known: 1 Dec 2026 is a working Tuesday.
TODAY = dt.date(2026, 11, 20)
ID_1 = make_id_number("19900307", seq=757)
ID_2 = make_id_number("19491231", seq=2)
PHONE_1 = "13812345678"
PHONE_2 = "13987654321"


def schedule_input(leader_ids: list[int], **overrides) -> services.ScheduleInput:
    data = {
        "title": "县信访局领导接待日",
        "rule": RuleKind.FIRST_WORKING_DAY,
        "starts_on": dt.date(2026, 1, 1),
        "start_time": dt.time(9, 0),
        "end_time": dt.time(11, 0),
        "place": "县信访局一楼接待大厅",
        "rota": [(pk, f"副县长{i}") for i, pk in enumerate(leader_ids)],
        "slot_minutes": 60,
        "capacity_per_slot": 2,
        "published": True,
    }
    data.update(overrides)
    return services.ScheduleInput(**data)


@pytest.fixture(autouse=True)
def _rates():
    with override_settings(
        XINFANG_PORTAL_SUBMIT_RATE="1000/3600",
        XINFANG_PORTAL_TRACK_FAILURE_RATE="1000/900",
        CAPTCHA_TEST_MODE=True,
    ):
        yield


@pytest.fixture
def frozen():
    with freeze_time(dt.datetime(2026, 11, 20, 10, 0), tick=True) as clock:
        yield clock


@pytest.fixture
def schedule(world, frozen):
    return services.save_schedule(
        user=world.intake_a, organisation=world.a.office, data=schedule_input([world.leader_a.pk])
    )


@pytest.fixture
def session(schedule) -> ReceptionSession:
    return schedule.sessions.order_by("date").first()


def book(session, *, id_number=ID_1, phone=PHONE_1, slot=None, ip="10.0.0.1", name="张三"):
    slot = slot or session.slots.order_by("starts_at").first()
    return services.book_slot(
        session_id=session.pk,
        slot_id=slot.pk,
        name=name,
        id_number=id_number,
        phone=phone,
        description="拖欠工资，请求领导协调。",
        ip=ip,
    )
