"""``/api/v1/reception-days`` writes: schedules (create with an Idempotency-Key, edit), cancelling a
session, swapping its leader, registering a visit as a petition and outreach visits (下访、约访).
Each: allowed, refused (401, 403 wrong role, 404 other county, 409 state, 422 Chinese fields),
audited, and the same result as the staff pages' service."""

from __future__ import annotations

import json

import pytest

from xinfang.api.services import obtain_token
from xinfang.audit.models import AuditEvent
from xinfang.petitions.choices import Channel
from xinfang.petitions.models import Petition
from xinfang.reception.models import (
    BookingStatus,
    OutreachVisit,
    ReceptionSchedule,
    ReceptionSession,
    SessionStatus,
)

from ..api.conftest import ApiClient
from ..factories import PASSWORD, leaf_category, register
from .conftest import book

pytestmark = pytest.mark.django_db
STAFF = "/api/v1/reception-days"


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

    make.cache_clear = tokens.clear  # type: ignore[attr-defined]
    return make


def _put(api: ApiClient, path: str, body: dict, token: str):
    return api.client.put(
        path, json.dumps(body), content_type="application/json", HTTP_AUTHORIZATION=f"Bearer {token}"
    )


def _schedule_body(leader_id: int, **overrides) -> dict:
    body = {
        "title": "局长接访日",
        "rule": "first_working_day",
        "starts_on": "2026-11-20",
        "start_time": "09:00",
        "end_time": "11:00",
        "place": "信访局接待室",
        "slot_minutes": 60,
        "capacity_per_slot": 3,
        "published": True,
        "rota": [{"leader": leader_id, "title": "县长"}],
    }
    body.update(overrides)
    return body


def _audited(action: str) -> int:
    return AuditEvent.objects.filter(action=action).count()


def test_create_schedule_generates_sessions_once_per_key(api, world, frozen, token_of):
    url = f"{STAFF}/schedules"
    body = _schedule_body(world.leader_a.pk)
    headers = {"Idempotency-Key": "sched-1"}
    created = api.post(url, body, token=token_of(world.intake_a), headers=headers)
    assert created.status_code == 201, created.content
    data = created.json()
    schedule = ReceptionSchedule.objects.get()
    # the same as the page's service: three months of first working days, the rota stored
    assert data["id"] == schedule.pk and data["rota"][0]["leader"]["id"] == world.leader_a.pk
    assert schedule.sessions.count() == 3 and schedule.rota.get().title == "县长"
    assert schedule.organisation == world.a.office and schedule.created_by == world.intake_a
    assert _audited("reception.schedule_created") == 1
    again = api.post(url, body, token=token_of(world.intake_a), headers=headers)
    assert again.status_code == 201 and again["Idempotent-Replayed"] == "true"
    assert again.json() == data and ReceptionSchedule.objects.count() == 1
    assert api.post(url, body).status_code == 401


def test_create_schedule_refusals(api, world, frozen, token_of):
    url = f"{STAFF}/schedules"
    body = _schedule_body(world.leader_a.pk)
    for user in (world.leader_a, world.handler_a):  # they see reception days, they do not arrange them
        refused = api.post(url, body, token=token_of(user))
        assert refused.status_code == 403 and refused.json()["error"]["code"] == "forbidden"
    bad = api.post(url, {**body, "end_time": "08:00"}, token=token_of(world.intake_a))
    assert bad.status_code == 422 and bad.json()["error"]["fields"]["end_time"] == [
        "结束时间应晚于开始时间。"
    ]
    other_leader = api.post(url, _schedule_body(world.intake_b.pk), token=token_of(world.intake_a))
    assert other_leader.status_code == 422
    assert other_leader.json()["error"]["fields"]["rota"] == ["接待领导须为本级的在职领导。"]
    wrong_rule = api.post(url, {**body, "rule": "monthly"}, token=token_of(world.intake_a))
    assert wrong_rule.status_code == 422 and "rule" in wrong_rule.json()["error"]["fields"]
    assert ReceptionSchedule.objects.count() == 0 and _audited("reception.schedule_created") == 0


def test_edit_schedule(api, world, schedule, token_of):
    url = f"{STAFF}/schedules/{schedule.pk}"
    body = _schedule_body(world.leader_a.pk, place="县政府二楼会议室", capacity_per_slot=5)
    assert _put(api, url, body, token_of(world.intake_b)).status_code == 404
    assert _put(api, url, body, token_of(world.leader_a)).status_code == 403
    bad = _put(api, url, {**body, "title": "  "}, token_of(world.intake_a))
    assert bad.status_code == 422 and bad.json()["error"]["fields"]["title"] == ["请填写名称。"]
    ok = _put(api, url, body, token_of(world.supervisor_a))
    assert ok.status_code == 200 and ok.json()["place"] == "县政府二楼会议室"
    schedule.refresh_from_db()
    assert schedule.capacity_per_slot == 5 and _audited("reception.schedule_changed") == 1
    assert _put(api, f"{STAFF}/schedules/999999", body, token_of(world.intake_a)).status_code == 404


def test_cancel_session(api, world, session, token_of):
    booking = book(session).booking
    url = f"{STAFF}/sessions/{session.pk}/cancel"
    assert api.post(url, {"reason": "临时公务"}, token=token_of(world.intake_b)).status_code == 404
    assert api.post(url, {"reason": "临时公务"}, token=token_of(world.leader_a)).status_code == 403
    empty = api.post(url, {"reason": " "}, token=token_of(world.intake_a))
    assert empty.status_code == 422 and empty.json()["error"]["fields"]["reason"] == ["请填写取消原因。"]
    ok = api.post(url, {"reason": "临时公务"}, token=token_of(world.intake_a))
    assert ok.status_code == 200 and ok.json()["status"] == "cancelled" and ok.json()["booked"] == 0
    assert ok.json()["cancel_reason"] == "临时公务"
    booking.refresh_from_db()
    assert booking.status == BookingStatus.CANCELLED and _audited("reception.session_cancelled") == 1
    again = api.post(url, {"reason": "临时公务"}, token=token_of(world.intake_a))
    assert again.status_code == 409 and again.json()["error"]["code"] == "wrong_state"


def test_swap_leader(api, world, session, token_of):
    from ..factories import make_staff

    deputy = make_staff("deputy_a", world.a.government, "leader")
    url = f"{STAFF}/sessions/{session.pk}/leader"
    body = {"leader": deputy.pk, "title": "副县长"}
    assert api.post(url, body, token=token_of(world.intake_b)).status_code == 404
    assert api.post(url, body, token=token_of(world.leader_a)).status_code == 403
    bad = api.post(url, {**body, "leader": world.intake_b.pk}, token=token_of(world.intake_a))
    assert bad.status_code == 422 and bad.json()["error"]["fields"]["leader"] == [
        "接待领导须为本级的在职领导。"
    ]
    ok = api.post(url, body, token=token_of(world.intake_a))
    assert ok.status_code == 200 and ok.json()["leader"] == {
        "id": deputy.pk,
        "name": deputy.full_name,
        "title": "副县长",
    }
    session.refresh_from_db()
    assert session.leader == deputy and _audited("reception.leader_swapped") == 1
    ReceptionSession.objects.filter(pk=session.pk).update(status=SessionStatus.CANCELLED)
    late = api.post(url, body, token=token_of(world.intake_a))
    assert late.status_code == 409 and late.json()["error"]["code"] == "wrong_state"


def _visit(world, **overrides) -> dict:
    body = {
        "purpose": "complaint",
        "title": "拖欠工资",
        "content": "公司拖欠三个月工资，请求支付工资。",
        "category": leaf_category().pk,
        "locality": world.a.township.pk,
    }
    body.update(overrides)
    return body


def test_register_visit_as_a_petition_with_the_leader(api, world, session, frozen, token_of):
    booking = book(session).booking
    url = f"{STAFF}/bookings/{booking.pk}/register"
    early = api.post(url, _visit(world), token=token_of(world.intake_a))
    assert early.status_code == 409 and early.json()["error"]["code"] == "wrong_state"
    frozen.move_to(session.date.isoformat() + " 09:30")
    token_of.cache_clear()  # the tokens taken eleven days earlier have expired
    assert api.post(url, _visit(world), token=token_of(world.intake_b)).status_code == 404
    assert api.post(url, _visit(world), token=token_of(world.leader_a)).status_code == 403
    # a supervisor marks attendance but registering is intake's, as on the page
    assert api.post(url, _visit(world), token=token_of(world.supervisor_a)).status_code == 403
    bad = api.post(url, _visit(world, category=999999, purpose="x"), token=token_of(world.intake_a))
    assert bad.status_code == 422 and "purpose" in bad.json()["error"]["fields"]
    bad = api.post(url, _visit(world, category=999999), token=token_of(world.intake_a))
    assert bad.status_code == 422 and bad.json()["error"]["fields"]["category"]
    ok = api.post(url, _visit(world), token=token_of(world.intake_a), headers={"Idempotency-Key": "v-1"})
    assert ok.status_code == 201, ok.content
    petition = Petition.objects.get()
    assert ok.json()["petition"] == petition.number and ok.json()["query_code"]
    assert ok.json()["booking"]["received_by"] == world.leader_a.full_name
    # the same result as the page: a visit petition of the office, the leader on the booking
    assert petition.channel == Channel.VISIT and petition.office == world.a.office
    booking.refresh_from_db()
    assert booking.petition == petition and booking.received_by == world.leader_a
    assert booking.status == BookingStatus.ARRIVED and _audited("reception.visit_registered") == 1
    replay = api.post(url, _visit(world), token=token_of(world.intake_a), headers={"Idempotency-Key": "v-1"})
    assert replay.status_code == 201 and replay.json() == ok.json()
    again = api.post(url, _visit(world), token=token_of(world.intake_a))
    assert again.status_code == 409 and Petition.objects.count() == 1


def test_outreach_visits(api, world, frozen, token_of):
    petition = register(world.a.office, world.intake_a, world.a.township).petition
    other = register(world.b.office, world.intake_b, world.b.township).petition
    url = f"{STAFF}/outreach"
    body = {
        "kind": "down",
        "date": "2026-11-18",
        "place": "城关镇",
        "leaders": [world.leader_a.pk],
        "staff": [world.handler_a.pk],
        "other_participants": "镇司法所",
        "petitions": [petition.number, other.number],
        "notes": "现场答复。",
    }
    hidden = api.post(url, body, token=token_of(world.intake_a))
    assert hidden.status_code == 422 and "无权查看" in hidden.json()["error"]["fields"]["petitions"][0]
    assert other.number in hidden.json()["error"]["fields"]["petitions"][0]
    no_leader = api.post(url, {**body, "leaders": [world.intake_b.pk]}, token=token_of(world.intake_a))
    assert no_leader.status_code == 422 and no_leader.json()["error"]["fields"]["leaders"]
    bad_kind = api.post(url, {**body, "kind": "visit"}, token=token_of(world.intake_a))
    assert bad_kind.status_code == 422
    assert api.post(url, body, token=token_of(world.sysadmin)).status_code in (401, 403)
    created = api.post(url, {**body, "petitions": [petition.number]}, token=token_of(world.intake_a))
    assert created.status_code == 201, created.content
    visit = OutreachVisit.objects.get()
    data = created.json()
    assert data["id"] == visit.pk and data["petitions"] == [petition.number] and data["kind_label"] == "下访"
    assert [p["id"] for p in data["leaders"]] == [world.leader_a.pk] and data["hidden_petitions"] == 0
    assert _audited("reception.outreach_recorded") == 1
    listed = api.get(url, token=token_of(world.leader_a)).json()
    assert listed["count"] == 1 and listed["results"][0] == data
    assert api.get(url, token=token_of(world.leader_a), kind="appointment").json()["count"] == 0
    assert api.get(url, token=token_of(world.intake_b)).json() == {"count": 0, "results": []}
    assert api.get(f"{url}/{visit.pk}", token=token_of(world.intake_a)).json() == data
    assert api.get(f"{url}/{visit.pk}", token=token_of(world.intake_b)).status_code == 404
    assert api.get(url).status_code == 401


def test_outreach_list_queries_do_not_grow_with_rows(
    api, world, frozen, token_of, django_assert_max_num_queries
):
    from xinfang.reception import services

    data = services.OutreachInput(
        kind="down", date=frozen().date(), place="城关镇", leader_ids=[world.leader_a.pk]
    )
    services.record_outreach(user=world.intake_a, data=data)
    token = token_of(world.intake_a)
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    api.get(f"{STAFF}/outreach", token=token)  # the token's first use writes its last-used time
    with CaptureQueriesContext(connection) as one:
        api.get(f"{STAFF}/outreach", token=token)
    for _i in range(3):
        services.record_outreach(user=world.intake_a, data=data)
    with CaptureQueriesContext(connection) as four:
        assert len(api.get(f"{STAFF}/outreach", token=token).json()["results"]) == 4
    assert len(four) == len(one)
