"""``/api/v1/contracts`` and ``/api/v1/instructions``: scoped (404), role-checked (403), audited,
422 with Chinese field messages on bad input."""

from __future__ import annotations

import pytest

from xinfang.api.services import obtain_token
from xinfang.audit.models import AuditEvent

from ..factories import PASSWORD, make_staff
from ..procedure import to_accepted
from .conftest import days

pytestmark = pytest.mark.django_db

_ips = iter(range(10, 250))


def api(client, user):
    token = obtain_token(username=user.username, password=PASSWORD, ip=f"127.0.1.{next(_ips)}").token
    headers = {"HTTP_AUTHORIZATION": f"Bearer {token}"}

    class Caller:
        def get(self, path, params=None):
            return client.get(path, params or {}, **headers)

        def post(self, path, body=None, **extra):
            return client.post(path, body or {}, content_type="application/json", **headers, **extra)

    return Caller()


def test_contract_lifecycle(client, world, petition):
    leader = api(client, world.leader_a)
    body = {
        "petition": petition.number,
        "measures": "走访信访人",
        "due_on": str(days(20)),
        "handler": world.handler_a.username,
        "milestones": [{"title": "走访", "due_on": str(days(5))}],
    }
    created = leader.post("/api/v1/contracts", body, HTTP_IDEMPOTENCY_KEY="k-1")
    assert created.status_code == 201, created.content
    data = created.json()
    assert data["leader"]["id"] == world.leader_a.pk and data["status"] == "open" and not data["late"]
    replay = leader.post("/api/v1/contracts", body, HTTP_IDEMPOTENCY_KEY="k-1")
    assert replay.status_code == 201 and replay["Idempotent-Replayed"] == "true"
    cid = data["id"]
    listed = leader.get("/api/v1/contracts").json()
    assert listed["count"] == 1 and listed["results"][0]["number"] == data["number"]
    handler = api(client, world.handler_a)
    assert handler.post(f"/api/v1/contracts/{cid}/progress", {"text": "已走访"}).status_code == 200
    mid = data["milestones"][0]["id"]
    assert handler.post(f"/api/v1/contracts/{cid}/milestones/{mid}/done").json()["milestones"][0]["done_on"]
    refused = leader.post(f"/api/v1/contracts/{cid}/close", {"result": " "})
    assert refused.status_code == 422 and refused.json()["error"]["fields"]["result"] == ["请填写办结情况。"]
    closed = leader.post(f"/api/v1/contracts/{cid}/close", {"result": "已化解"})
    assert closed.status_code == 200 and closed.json()["status"] == "closed"
    assert AuditEvent.objects.filter(action="leadership.contract_closed", object_id=str(cid)).exists()
    assert leader.get("/api/v1/contracts", {"status": "closed"}).json()["count"] == 1


def test_contract_refusals(client, world, petition):
    body = {"petition": petition.number, "measures": "走访", "due_on": str(days(20))}
    # a handler (who sees the petition once it is routed to the department) may not contract: 403
    to_accepted(world, petition.number)
    refused = api(client, world.handler_a).post("/api/v1/contracts", {**body, "leader": world.leader_a.pk})
    assert refused.status_code == 403 and refused.json()["error"]["code"] == "forbidden"
    # another county's clerk does not see the petition: 404
    assert api(client, world.intake_b).post("/api/v1/contracts", {**body, "leader": 1}).status_code == 404
    # bad input: 422 with the field
    bad = api(client, world.leader_a).post("/api/v1/contracts", {**body, "due_on": str(days(-2))})
    assert bad.status_code == 422 and "due_on" in bad.json()["error"]["fields"]
    unknown = api(client, world.leader_a).post("/api/v1/contracts", {**body, "extra": 1})
    assert unknown.status_code == 422
    cid = (
        api(client, world.intake_a)
        .post("/api/v1/contracts", {**body, "leader": world.leader_a.username})
        .json()["id"]
    )
    assert api(client, world.intake_b).get(f"/api/v1/contracts/{cid}").status_code == 404
    assert (
        api(client, world.handler_b).post(f"/api/v1/contracts/{cid}/close", {"result": "x"}).status_code
        == 404
    )


def test_instruction_lifecycle_and_refusals(client, world, petition):
    leader = api(client, world.leader_a)
    body = {
        "petition": petition.number,
        "unit": world.a.department.pk,
        "text": "请于十日内办理",
        "due_on": str(days(10)),
    }
    assert api(client, world.supervisor_a).post("/api/v1/instructions", body).status_code == 403
    assert api(client, make_staff("leader_b", world.b.government, "leader")).post(
        "/api/v1/instructions", body
    ).status_code == 404  # fmt: skip
    bad = leader.post("/api/v1/instructions", {**body, "unit": world.b.department.pk})
    assert bad.status_code == 422 and "unit" in bad.json()["error"]["fields"]
    created = leader.post("/api/v1/instructions", body)
    assert created.status_code == 201, created.content
    iid = created.json()["id"]
    unit = api(client, world.handler_a)
    assert [r["id"] for r in unit.get("/api/v1/instructions", {"box": "todo"}).json()["results"]] == [iid]
    assert api(client, world.handler_b).get(f"/api/v1/instructions/{iid}").status_code == 404
    assert leader.post(f"/api/v1/instructions/{iid}/answer", {"text": "x"}).status_code == 403
    answered = unit.post(f"/api/v1/instructions/{iid}/answer", {"text": "已办结"})
    assert answered.status_code == 200 and answered.json()["status"] == "answered"
    assert [r["id"] for r in leader.get("/api/v1/instructions", {"box": "answered"}).json()["results"]] == [
        iid
    ]
    assert unit.post(f"/api/v1/instructions/{iid}/close").status_code == 403
    closed = leader.post(f"/api/v1/instructions/{iid}/close", {"note": "阅"})
    assert closed.status_code == 200 and [h["step"] for h in closed.json()["history"]] == [
        "issued",
        "answered",
        "closed",
    ]
    assert leader.get("/api/v1/instructions", {"box": "nonsense"}).status_code == 422


def test_lists_read_a_fixed_number_of_queries(client, world, django_assert_max_num_queries):
    from xinfang.leadership import services

    from ..procedure import new_registration

    leader = api(client, world.leader_a)

    def make(n):
        for _ in range(n):
            p = new_registration(world).petition
            services.open_contract(
                actor=world.leader_a, leader=world.leader_a, petition=p, measures="x", due_on=days(9)
            )
            services.issue_instruction(
                actor=world.leader_a, petition=p, unit=world.a.department, text="x", due_on=days(9)
            )

    make(1)
    with django_assert_max_num_queries(40) as few:
        assert leader.get("/api/v1/contracts").json()["count"] == 1
        assert leader.get("/api/v1/instructions").json()["count"] == 1
    make(5)
    with django_assert_max_num_queries(len(few.captured_queries)):
        assert leader.get("/api/v1/contracts").json()["count"] == 6
        assert leader.get("/api/v1/instructions").json()["count"] == 6
