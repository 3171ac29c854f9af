"""``/api/v1/disputes``: list, create, detail, update, status, petition link, leader; rounds and
returns; figures — scoped (404), role-checked (403), audited, 422 on bad input."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from xinfang.audit.models import AuditEvent
from xinfang.screening.models import Dispute

from ..api.conftest import ApiClient
from ..factories import make_staff, register

pytestmark = pytest.mark.django_db

BASE = "/api/v1/disputes"


@pytest.fixture
def api(client) -> ApiClient:
    return ApiClient(client)


def _body(world, **overrides):
    body = {
        "title": "宅基地界址纠纷", "organisation": world.a.township.pk, "kind": "neighbours", "risk": "high",
        "source": "grid", "deadline": (timezone.localdate() + dt.timedelta(days=7)).isoformat(),
        "parties": [{"name": "张三", "phone": "13812345678"}],
    }  # fmt: skip
    body.update(overrides)
    return body


def test_create_read_list_and_scope(api, token_of, world):
    token = token_of(world.intake_a)
    response = api.post(BASE, _body(world), token=token, headers={"Idempotency-Key": "k1"})
    assert response.status_code == 201, response.content
    data = response.json()
    assert data["number"].startswith("JF-") and data["parties"][0]["phone_masked"] == "138****5678"
    assert "13812345678" not in response.content.decode()
    again = api.post(BASE, _body(world), token=token, headers={"Idempotency-Key": "k1"})
    assert again.json()["number"] == data["number"] and Dispute.objects.count() == 1
    listed = api.get(BASE, token=token).json()
    assert listed["count"] == 1 and listed["results"][0]["number"] == data["number"]
    assert api.get(BASE, token=token, risk="low").json()["count"] == 0
    assert api.get(f"{BASE}/{data['number']}", token=token).json()["events"][0]["action"] == "created"
    outsider = token_of(world.intake_b)
    assert api.get(f"{BASE}/{data['number']}", token=outsider).status_code == 404
    assert api.get(BASE, token=outsider).json()["count"] == 0
    assert api.get(BASE, token=token_of(world.sysadmin)).status_code == 403
    assert AuditEvent.objects.filter(action="dispute.created").count() == 1


def test_bad_input_is_a_422_in_chinese(api, token_of, world):
    token = token_of(world.intake_a)
    response = api.post(
        BASE, _body(world, title=" ", parties=[{"name": "李四", "id_number": "1"}]), token=token
    )
    assert response.status_code == 422
    fields = response.json()["error"]["fields"]
    assert "纠纷名称" in fields["title"][0] and "身份证号码" in fields["parties"][0]
    response = api.post(BASE, _body(world, organisation=world.b.township.pk), token=token)
    assert response.status_code == 422 and "organisation" in response.json()["error"]["fields"]
    assert api.post(BASE, _body(world, risk="extreme"), token=token).status_code == 422


def test_status_link_leader_and_update(api, token_of, world):
    token = token_of(world.intake_a)
    number = api.post(BASE, _body(world), token=token).json()["number"]
    response = api.post(f"{BASE}/{number}/status", {"to": "resolved", "note": ""}, token=token)
    assert response.status_code == 422 and "note" in response.json()["error"]["fields"]
    petition = register(world.a.office, world.intake_a, world.a.township).petition
    response = api.post(f"{BASE}/{number}/petitions", {"petition": petition.number}, token=token)
    assert response.json()["petitions"] == [petition.number]
    response = api.post(f"{BASE}/{number}/leader", {"leader": world.leader_a.pk}, token=token)
    assert response.json()["leader"]["id"] == world.leader_a.pk
    response = api.client.patch(
        f"{BASE}/{number}", {"risk": "low", "plan": "司法所调解"}, content_type="application/json",
        HTTP_AUTHORIZATION=f"Bearer {token}",
    )  # fmt: skip
    assert response.status_code == 200 and response.json()["risk"] == "low"
    response = api.post(f"{BASE}/{number}/status", {"to": "resolved", "note": "调解成功"}, token=token)
    assert response.json()["status"] == "resolved"
    response = api.post(f"{BASE}/{number}/status", {"to": "in_resolution", "note": "再议"}, token=token)
    assert response.status_code == 422 and "不能改为" in response.json()["error"]["fields"]["to"][0]
    # another county's handler sees nothing; a handler who sees it but is not of its unit may not change it
    assert (
        api.post(
            f"{BASE}/{number}/status", {"to": "resolved", "note": "x"}, token=token_of(world.handler_b)
        ).status_code
        == 404
    )
    number2 = api.post(BASE, _body(world), token=token).json()["number"]
    response = api.post(
        f"{BASE}/{number2}/status",
        {"to": "in_resolution", "note": "x"},
        token=token_of(make_staff("office_handler", world.a.office, "handler")),
    )
    assert response.status_code == 403 and response.json()["error"]["code"] == "forbidden"


def test_rounds_and_returns(api, token_of, world):
    today = timezone.localdate()
    town = make_staff("town_clerk", world.a.township, "handler")
    body = {
        "title": "本月排查",
        "period_start": today.replace(day=1).isoformat(),
        "period_end": today.isoformat(),
        "due_on": today.isoformat(),
    }
    assert api.post(f"{BASE}/rounds", body, token=token_of(world.intake_a)).status_code == 403
    response = api.post(f"{BASE}/rounds", body, token=token_of(world.supervisor_a))
    assert response.status_code == 201, response.content
    rnd = response.json()
    assert {r["unit"]["id"] for r in rnd["returns"]} == {world.a.township.pk, world.a.department.pk}
    [mine] = api.get(f"{BASE}/rounds", token=token_of(town)).json()["results"][0]["returns"]
    response = api.post(f"{BASE}/rounds/returns/{mine['id']}", {"zero": True}, token=token_of(town))
    assert response.status_code == 200 and response.json()["is_zero"] and response.json()["on_time"]
    other = next(r for r in rnd["returns"] if r["unit"]["id"] == world.a.department.pk)
    assert (
        api.post(f"{BASE}/rounds/returns/{other['id']}", {"zero": True}, token=token_of(town)).status_code
        == 404
    )
    assert api.get(f"{BASE}/rounds/{rnd['id']}", token=token_of(world.intake_b)).status_code == 404
    figures = api.get(f"{BASE}/figures", token=token_of(world.supervisor_a)).json()
    assert figures["start"] <= today.isoformat() <= figures["end"]


def test_the_list_reads_in_a_fixed_number_of_queries(api, token_of, world, make_dispute):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    token = token_of(world.supervisor_a)
    make_dispute()
    api.get(BASE, token=token)
    with CaptureQueriesContext(connection) as few:
        api.get(BASE, token=token)
    for i in range(5):
        make_dispute(title=f"纠纷{i}", leader=world.leader_a)
    with CaptureQueriesContext(connection) as many:
        assert api.get(BASE, token=token).json()["count"] == 6
    assert len(many) == len(few)
