"""``/api/v1/reception-days`` (staff) and ``/api/v1/portal/reception-days`` (public): scope, refusals
in the stable error shape (404, 403, 409 full, 422 Chinese), the code returned once, cancellation."""

from __future__ import annotations

import pytest

from xinfang.api.services import obtain_token
from xinfang.reception.models import BookingStatus, ReceptionBooking

from ..api.conftest import ApiClient
from ..factories import PASSWORD
from .conftest import ID_2, PHONE_2, book

pytestmark = pytest.mark.django_db
STAFF = "/api/v1/reception-days"
PUBLIC = "/api/v1/portal/reception-days"


@pytest.fixture
def api(client) -> ApiClient:
    return ApiClient(client)


@pytest.fixture
def token_of(db):
    tokens: dict[int, str] = {}

    def make(user) -> str:  # noqa: ANN001
        if user.pk not in tokens:
            tokens[user.pk] = obtain_token(username=user.username, password=PASSWORD, ip="127.0.0.9").token
        return tokens[user.pk]

    return make


def _booking_body(slot_id: int, **overrides) -> dict:
    body = {
        "slot": slot_id,
        "name": "李四",
        "id_number": ID_2,
        "phone": PHONE_2,
        "description": "宅基地纠纷，请求调处。",
        "captcha_key": "k",
        "captcha": "PASSED",
    }
    body.update(overrides)
    return body


def test_public_sessions_list_the_leader_and_free_places(api, world, session):
    response = api.get(PUBLIC)
    assert response.status_code == 200
    first = response.json()[0]
    assert first["id"] == session.pk and first["leader_title"] == "副县长0" and first["free"] == 4
    assert first["leader_name"] == world.leader_a.full_name and len(first["slots"]) == 2
    assert "leader" not in first  # no staff id on the public surface


def test_public_booking_returns_the_code_once_and_cancels(api, world, session):
    slot = session.slots.first()
    response = api.post(f"{PUBLIC}/{session.pk}/bookings", _booking_body(slot.pk))
    assert response.status_code == 201
    code = response.json()["code"]
    assert ReceptionBooking.objects.get().code_hash != code
    again = api.post(f"{PUBLIC}/{session.pk}/bookings", _booking_body(slot.pk))
    assert again.status_code == 422 and "id_number" in again.json()["error"]["fields"]
    wrong = api.post(f"{PUBLIC}/bookings/cancel", {"code": code, "phone": "13700000000"})
    assert wrong.status_code == 404 and wrong.json()["error"]["code"] == "not_found"
    done = api.post(f"{PUBLIC}/bookings/cancel", {"code": code, "phone": PHONE_2})
    assert done.status_code == 200 and done.json()["status"] == "cancelled"


def test_public_booking_refusals(api, world, session):
    slot = session.slots.first()
    bad = api.post(f"{PUBLIC}/{session.pk}/bookings", _booking_body(slot.pk, id_number="123", name=""))
    assert bad.status_code == 422
    assert bad.json()["error"]["fields"]["name"] == ["请填写姓名。"]
    captcha = api.post(f"{PUBLIC}/{session.pk}/bookings", _booking_body(slot.pk, captcha="1"))
    assert captcha.status_code == 422 and captcha.json()["error"]["code"] == "captcha_invalid"
    book(session, slot=slot)
    book(session, slot=slot, id_number="11010519491231002X", phone="13700000003")
    full = api.post(f"{PUBLIC}/{session.pk}/bookings", _booking_body(slot.pk))
    assert full.status_code == 409 and full.json()["error"]["code"] == "slot_full"
    unknown = api.post(f"{PUBLIC}/999999/bookings", _booking_body(slot.pk))
    assert unknown.status_code == 422 and "session" in unknown.json()["error"]["fields"]


def test_staff_lists_are_scoped(api, world, session, token_of):
    book(session)
    day = session.date.isoformat()
    mine = api.get(f"{STAFF}/bookings", token=token_of(world.intake_a), date=day).json()
    assert [b["name"] for b in mine] == ["张三"] and mine[0]["phone_mask"] == "138****5678"
    assert api.get(f"{STAFF}/bookings", token=token_of(world.intake_b), date=day).json() == []
    schedules = api.get(f"{STAFF}/schedules", token=token_of(world.leader_a)).json()
    assert schedules[0]["rota"][0]["leader"]["id"] == world.leader_a.pk
    sessions = api.get(f"{STAFF}/sessions", token=token_of(world.leader_a), mine="true").json()
    assert sessions and all(s["leader"]["id"] == world.leader_a.pk for s in sessions)
    assert api.get(f"{STAFF}/sessions/{session.pk}", token=token_of(world.intake_b)).status_code == 404
    assert (
        api.get(f"{STAFF}/sessions/{session.pk}/bookings", token=token_of(world.intake_a)).json()[0]["name"]
        == "张三"
    )
    assert api.get(f"{STAFF}/schedules").status_code == 401


def test_staff_marks_arrival(api, world, session, token_of, frozen):
    frozen.move_to(session.date.isoformat() + " 09:00")
    booking = book(session).booking
    url = f"{STAFF}/bookings/{booking.pk}/mark"
    assert api.post(url, {"status": "arrived"}, token=token_of(world.leader_a)).status_code == 403
    assert api.post(url, {"status": "arrived"}, token=token_of(world.intake_b)).status_code == 404
    bad = api.post(url, {"status": "gone"}, token=token_of(world.intake_a))
    assert bad.status_code == 422
    ok = api.post(url, {"status": "arrived"}, token=token_of(world.intake_a))
    assert ok.status_code == 200 and ok.json()["status"] == BookingStatus.ARRIVED
