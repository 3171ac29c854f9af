"""The supervision endpoints of API v1: same scope, refusal codes, If-Match and Idempotency-Key as
the action endpoints."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from xinfang.api.services import obtain_token
from xinfang.petitions.models import Petition
from xinfang.supervision.models import NoticeStatus, SupervisionNotice

from ..api.conftest import ApiClient
from ..factories import PASSWORD

LATER = (timezone.localdate() + dt.timedelta(days=10)).isoformat()


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


def issue(api, token, number, **body):  # noqa: ANN001
    values = {"kind": "listed", "requirements": "请十日内解决并报告。", "respond_by": LATER}
    values.update(body)
    return api.post(f"/api/v1/petitions/{number}/supervisions", values, token=token)


def test_full_round_trip(api, token_of, world, staff, petition):
    city = token_of(world.city_supervisor)
    response = issue(api, city, petition.number, leader=staff.city_leader.username, published=True)
    assert response.status_code == 201, response.json()
    body = response.json()
    assert body["kind"] == "listed" and body["status"] == "open" and body["leader"]["name"] == "city_leader"
    assert body["unit"]["name"] == world.a.department.name and body["petition"] == petition.number
    notice_id = body["id"]
    listing = api.get(f"/api/v1/petitions/{petition.number}/supervisions", token=token_of(world.handler_a))
    assert [n["id"] for n in listing.json()["results"]] == [notice_id]
    response = api.post(f"/api/v1/supervisions/{notice_id}/feedback", {"text": "工资已发放。"},
                        token=token_of(world.handler_a))  # fmt: skip
    assert response.status_code == 200 and response.json()["status"] == "answered"
    response = api.post(f"/api/v1/supervisions/{notice_id}/return",
                        {"reasons": "未附凭证", "respond_by": LATER}, token=city)  # fmt: skip
    assert response.json()["status"] == "open" and response.json()["feedback"][0]["decision"] == "returned"
    api.post(
        f"/api/v1/supervisions/{notice_id}/feedback",
        {"text": "附发放凭证。"},
        token=token_of(world.handler_a),
    )
    response = api.post(f"/api/v1/supervisions/{notice_id}/accept", {"comment": "认可"}, token=city)
    assert response.status_code == 200 and response.json()["status"] == "accepted"
    response = api.post(f"/api/v1/supervisions/{notice_id}/lift", {"reasons": "摘牌"}, token=city)
    assert response.status_code == 200 and response.json()["status"] == "lifted"


def test_refusals_keep_their_codes(api, token_of, world, staff, petition):
    city = token_of(world.city_supervisor)
    response = issue(api, city, petition.number)  # listed without a leader
    assert response.status_code == 422 and response.json()["error"]["code"] == "missing_leader"
    assert "leader" in response.json()["error"]["fields"]
    response = issue(api, city, petition.number, kind="formal", respond_by=timezone.localdate().isoformat())
    assert response.status_code == 422 and response.json()["error"]["code"] == "invalid_date"
    assert "respond_by" in response.json()["error"]["fields"]
    response = issue(api, token_of(world.handler_a), petition.number, kind="formal")
    assert response.status_code == 403 and response.json()["error"]["code"] == "not_allowed"
    response = issue(api, token_of(staff.supervisor_b), petition.number, kind="formal")
    assert response.status_code == 404 and response.json()["error"]["code"] == "not_found"
    response = issue(api, city, petition.number, kind="visit")
    assert response.status_code == 422
    # stale If-Match
    response = api.post(f"/api/v1/petitions/{petition.number}/supervisions",
                        {"kind": "formal", "requirements": "请办理"}, token=city,
                        headers={"If-Match": f'"{petition.pk}-{petition.version - 1}"'})  # fmt: skip
    assert response.status_code == 412 and response.json()["error"]["code"] == "stale_version"
    assert not SupervisionNotice.objects.exists()
    notice_id = issue(api, city, petition.number, kind="formal").json()["id"]
    response = issue(api, city, petition.number, kind="urge")
    assert response.status_code == 409 and response.json()["error"]["code"] == "already_supervised"
    # the unit answers; another office may not accept; another county does not see the notice
    response = api.post(f"/api/v1/supervisions/{notice_id}/accept", {}, token=city)
    assert response.status_code == 409 and response.json()["error"]["code"] == "no_answer"
    api.post(f"/api/v1/supervisions/{notice_id}/feedback", {"text": "已办"}, token=token_of(world.handler_a))
    response = api.post(f"/api/v1/supervisions/{notice_id}/accept", {}, token=token_of(world.supervisor_a))
    assert response.status_code == 403 and response.json()["error"]["code"] == "not_issuer"
    response = api.post(f"/api/v1/supervisions/{notice_id}/accept", {}, token=token_of(staff.supervisor_b))
    assert response.status_code == 404
    response = api.post("/api/v1/supervisions/999999/accept", {}, token=city)
    assert response.status_code == 404
    response = api.post(f"/api/v1/supervisions/{notice_id}/return", {"reasons": " "}, token=city)
    assert response.status_code == 422 and response.json()["error"]["code"] == "missing_reason"
    # the generic action endpoint does not take the supervision actions
    response = api.post(f"/api/v1/petitions/{petition.number}/actions/supervise", {}, token=city)
    assert response.status_code == 404 and response.json()["error"]["code"] == "unknown_action"


def test_feedback_refused_to_a_unit_not_addressed(api, token_of, world, staff, registration):
    from xinfang.supervision import services
    from xinfang.workflow import services as workflow

    number = registration.petition.number
    workflow.assign(user=world.intake_a, number=number, unit=world.a.department)
    notice = services.supervise(user=world.city_supervisor, number=number, kind="urge", requirements="请受理")
    workflow.return_petition(user=world.handler_a, number=number, reasons="不属于本单位职责")
    workflow.forward(user=world.intake_a, number=number, unit=world.a.township)
    response = api.post(f"/api/v1/supervisions/{notice.pk}/feedback", {"text": "已受理"},
                        token=token_of(staff.handler_town))  # fmt: skip
    assert response.status_code == 403 and response.json()["error"]["code"] == "not_addressed"


def test_idempotency_key_replays_and_conflicts(api, token_of, world, petition):
    city = token_of(world.city_supervisor)
    headers = {"Idempotency-Key": "sup-1"}
    body = {"kind": "formal", "requirements": "请办理"}
    url = f"/api/v1/petitions/{petition.number}/supervisions"
    first = api.post(url, body, token=city, headers=headers)
    again = api.post(url, body, token=city, headers=headers)
    assert first.status_code == again.status_code == 201
    assert again["Idempotent-Replayed"] == "true" and again.json()["id"] == first.json()["id"]
    assert SupervisionNotice.objects.count() == 1
    conflict = api.post(url, {**body, "requirements": "别的"}, token=city, headers=headers)
    assert conflict.status_code == 422 and conflict.json()["error"]["code"] == "idempotency_conflict"
    assert Petition.objects.get(pk=petition.pk).version == petition.version + 1
    assert SupervisionNotice.objects.get().status == NoticeStatus.OPEN


def test_portal_api_says_supervised_only_when_published(api, token_of, world, registration, petition):
    url = f"/api/v1/portal/petitions/{petition.number}/track"
    issue(api, token_of(world.city_supervisor), petition.number, kind="formal", requirements="内部要求MM")
    body = api.post(url, {"code": registration.query_code}).json()
    assert body["supervised"] is False and "内部要求MM" not in str(body)
    SupervisionNotice.objects.update(published=True)
    body = api.post(url, {"code": registration.query_code}).json()
    assert body["supervised"] is True and "内部要求MM" not in str(body)


def test_listing_is_scoped_and_needs_a_token(api, token_of, world, staff, petition):
    url = f"/api/v1/petitions/{petition.number}/supervisions"
    issue(api, token_of(world.city_supervisor), petition.number, kind="formal")
    assert api.get(url).status_code == 401
    response = api.get(url, token=token_of(staff.supervisor_b))
    assert response.status_code == 404 and response.json()["error"]["code"] == "not_found"
    assert len(api.get(url, token=token_of(world.supervisor_a)).json()["results"]) == 1
