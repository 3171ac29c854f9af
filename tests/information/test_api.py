"""``/api/v1/reports``: the flow, the list of mine and of the inbox, and the refusals (404 out of
scope, 403 wrong role, 409 wrong state, 422 bad input and ID numbers in the text)."""

from __future__ import annotations

import json

import pytest

from xinfang.api.services import obtain_token
from xinfang.information.models import InformationReport

from ..api.conftest import ApiClient
from ..factories import PASSWORD, make_id_number
from .conftest import draft

pytestmark = pytest.mark.django_db

BODY = {"kind": "bulletin", "title": "本周信访工作动态", "body": "本周共受理来信来访45件。\n无集体访。"}


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


def test_round_trip(api, token_of, info):
    clerk, leader, city = token_of(info.clerk), token_of(info.leader), token_of(info.city_leader)
    response = api.post("/api/v1/reports", BODY, token=clerk, headers={"Idempotency-Key": "r-1"})
    assert response.status_code == 201, response.content
    created = response.json()
    again = api.post("/api/v1/reports", BODY, token=clerk, headers={"Idempotency-Key": "r-1"})
    assert (
        again.status_code == 201
        and again.json()["id"] == created["id"]
        and InformationReport.objects.count() == 1
    )
    rid = created["id"]
    assert (
        created["receiver"]["name"] == "A市信访局" and created["status"] == "draft" and created["issue"] == ""
    )
    put = api.client.put(
        f"/api/v1/reports/{rid}", json.dumps({**BODY, "title": "本周动态（修改）"}),
        content_type="application/json", HTTP_AUTHORIZATION=f"Bearer {clerk}",
    )  # fmt: skip
    assert put.status_code == 200 and put.json()["title"] == "本周动态（修改）"
    assert api.post(f"/api/v1/reports/{rid}/submit", {}, token=clerk).json()["status"] == "submitted"
    assert api.post(f"/api/v1/reports/{rid}/sign", {}, token=leader).json()["signed_by"]["name"] == "leader_a"
    out = api.post(f"/api/v1/reports/{rid}/send", {}, token=clerk).json()
    assert out["status"] == "sent" and out["issue"].endswith("第1期")
    inbox = api.get("/api/v1/reports", token=city, box="inbox", unread="true").json()
    assert [r["id"] for r in inbox["results"]] == [rid]
    assert api.post(f"/api/v1/reports/{rid}/read", {}, token=city).json()["read_by"]["name"] == "city_leader"
    fed = api.post(
        f"/api/v1/reports/{rid}/feedback", {"use": "instructed", "feedback": "请继续关注"}, token=city
    )
    assert fed.json()["use"] == "instructed" and fed.json()["feedback"] == "请继续关注"
    mine = api.get("/api/v1/reports", token=clerk, status="sent").json()
    assert mine["results"][0]["use_label"] == "领导已批示"
    assert api.get("/api/v1/reports", token=city, box="inbox", unread="true").json()["count"] == 0


def test_refusals(api, token_of, world, info):
    report = draft(info.clerk)
    outsider = token_of(info.outsider)
    response = api.get(f"/api/v1/reports/{report.pk}", token=outsider)
    assert response.status_code == 404 and response.json()["error"]["code"] == "not_found"
    assert (
        api.get(f"/api/v1/reports/{report.pk}", token=token_of(info.city_clerk)).status_code == 404
    )  # a draft
    assert api.post(f"/api/v1/reports/{report.pk}/submit", {}, token=outsider).status_code == 404
    assert api.get("/api/v1/reports/999999", token=token_of(info.clerk)).status_code == 404
    handler = api.post("/api/v1/reports", BODY, token=token_of(world.handler_a))
    assert handler.status_code == 403 and handler.json()["error"]["code"] == "forbidden"
    wrong_state = api.post(f"/api/v1/reports/{report.pk}/sign", {}, token=token_of(info.leader))
    assert wrong_state.status_code == 409 and wrong_state.json()["error"]["code"] == "wrong_state"
    api.post(f"/api/v1/reports/{report.pk}/submit", {}, token=token_of(info.clerk))
    not_leader = api.post(f"/api/v1/reports/{report.pk}/sign", {}, token=token_of(info.supervisor))
    assert not_leader.status_code == 403
    with_id = api.post(
        "/api/v1/reports", {**BODY, "body": f"李某{make_id_number()}来访"}, token=token_of(info.clerk)
    )
    assert with_id.status_code == 422 and "身份证号码" in with_id.json()["error"]["fields"]["body"][0]
    bad = api.post("/api/v1/reports", {**BODY, "kind": "gossip", "title": ""}, token=token_of(info.clerk))
    assert bad.status_code == 422 and set(bad.json()["error"]["fields"]) >= {"kind"}
    empty_return = api.post(
        f"/api/v1/reports/{report.pk}/return", {"reason": ""}, token=token_of(info.leader)
    )
    assert empty_return.status_code == 422 and "reason" in empty_return.json()["error"]["fields"]
