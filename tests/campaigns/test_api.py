"""``/api/v1/campaigns``: list, create, detail, cases, progress, backlog and relief — allowed,
refused (403), out of scope (404) and bad input (422)."""

from __future__ import annotations

import datetime as dt

import pytest

from xinfang.api.services import obtain_token
from xinfang.audit.models import AuditEvent

from ..api.conftest import ApiClient
from ..factories import PASSWORD
from .conftest import TODAY, overdue, petition

pytestmark = pytest.mark.django_db

BASE = "/api/v1/campaigns"


@pytest.fixture
def api(client):
    return ApiClient(client)


def token(user) -> str:
    return obtain_token(username=user.username, password=PASSWORD, ip="127.0.0.5").token


def test_campaign_cases_progress(api, world, b_supervisor):
    t = token(world.supervisor_a)
    bad = api.post(BASE, {"name": "", "starts_on": "2026-01-02", "ends_on": "2026-01-01"}, token=t)
    assert bad.status_code == 422 and {"name", "ends_on"} <= set(bad.json()["error"]["fields"])
    body = {
        "name": "百日攻坚",
        "starts_on": TODAY.isoformat(),
        "ends_on": (TODAY + dt.timedelta(days=100)).isoformat(),
        "targets": {"resolution_rate": 95},
    }
    created = api.post(BASE, body, token=t)
    assert created.status_code == 201, created.content
    cid = created.json()["id"]
    assert (
        created.json()["targets"][0]["threshold"] == "95.0"
        or created.json()["targets"][0]["threshold"] == 95.0
    )
    p1, p2 = overdue(world, 40), overdue(world, 41)
    backlog = api.get(f"{BASE}/backlog", token=t).json()
    assert {r["number"] for r in backlog["results"]} == {p1.number, p2.number}
    assert backlog["results"][0]["reasons"] == ["overdue"]
    added = api.post(f"{BASE}/{cid}/cases", {"petitions": [p1.number, p2.number]}, token=t)
    assert added.status_code == 201 and added.json()["count"] == 2
    case_id = added.json()["results"][0]["id"]
    assert api.post(f"{BASE}/{cid}/cases", {"petitions": ["XF-nope"]}, token=t).status_code == 422
    resolved = api.post(
        f"{BASE}/cases/{case_id}/resolve", {"resolved_on": TODAY.isoformat(), "note": "息访"}, token=t
    )
    assert resolved.status_code == 200 and resolved.json()["status"] == "resolved"
    progress = api.get(f"{BASE}/{cid}/progress", token=t).json()
    assert progress["total"]["total"] == 2 and progress["total"]["resolved"] == 1
    [unit] = progress["by_unit"]
    behind = api.get(f"{BASE}/{cid}/cases", token=t, unit=unit["key"], status="resolved").json()
    assert behind["count"] == unit["resolved"] == 1
    assert progress["targets"][0]["met"] is False
    # refused and out of scope
    tb = token(b_supervisor)
    assert api.get(f"{BASE}/{cid}", token=tb).status_code == 404
    assert (
        api.post(
            f"{BASE}/cases/{case_id}/resolve", {"resolved_on": TODAY.isoformat(), "note": "x"}, token=tb
        ).status_code
        == 404
    )
    th = token(world.handler_a)
    refused = api.post(BASE, body, token=th)
    assert refused.status_code == 403 and refused.json()["error"]["code"] == "forbidden"
    assert api.get(BASE, token=token(world.sysadmin)).status_code == 403
    assert [c["id"] for c in api.get(BASE, token=token(world.city_supervisor)).json()["results"]] == [cid]
    assert AuditEvent.objects.filter(action="campaigns.cases_added").count() == 1


def test_relief(api, world):
    p = petition(world, status="concluded", concluded_on=TODAY - dt.timedelta(days=3))
    applicant = p.petitioners.get().pk
    t = token(world.intake_a)
    body = {"petition": p.number, "applicant": applicant, "reason": "生活困难", "amount": "1500"}
    assert api.post(f"{BASE}/relief", {**body, "amount": "-1"}, token=t).status_code == 422
    created = api.post(f"{BASE}/relief", body, token=t)
    assert created.status_code == 201, created.content
    rid = created.json()["id"]
    assert api.post(f"{BASE}/relief/{rid}/approve", {"amount": "1000"}, token=t).status_code == 403
    approved = api.post(f"{BASE}/relief/{rid}/approve", {"amount": "1000"}, token=token(world.leader_a))
    assert approved.status_code == 200 and approved.json()["status"] == "approved"
    paid = api.post(f"{BASE}/relief/{rid}/paid", {"paid_on": TODAY.isoformat()}, token=t)
    assert paid.json()["status"] == "paid"
    assert [r["id"] for r in api.get(f"{BASE}/relief", token=t, status="paid").json()["results"]] == [rid]
    assert api.get(f"{BASE}/relief/{rid}", token=token(world.intake_b)).status_code == 404
