"""The other ledgers and forms: campaign list and edit, start and close, the backlog's uncontracted
filter, the workbench showing the panels, and lists whose query count does not grow with rows."""

from __future__ import annotations

import datetime as dt

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from xinfang.campaigns import services
from xinfang.campaigns.models import Campaign

from .conftest import TODAY, overdue, petition

pytestmark = pytest.mark.django_db


def test_list_edit_start_and_close(client, world):
    planned = services.create_campaign(
        user=world.supervisor_a,
        name="春季攻坚",
        starts_on=TODAY + dt.timedelta(days=5),
        ends_on=TODAY + dt.timedelta(days=50),
    )
    assert planned.status == "planned"
    client.force_login(world.leader_a)
    assert "春季攻坚" in client.get(reverse("campaigns:list")).content.decode()
    edit = reverse("campaigns:edit", args=[planned.pk])
    data = {
        "name": "春季攻坚行动",
        "starts_on": planned.starts_on,
        "ends_on": planned.ends_on,
        "target_contract_rate": "100",
    }
    assert client.post(edit, data).status_code == 302
    planned.refresh_from_db()
    assert planned.name == "春季攻坚行动" and [t.metric for t in planned.targets.all()] == ["contract_rate"]
    status = reverse("campaigns:status", args=[planned.pk])
    assert client.post(status, {"status": "closed"}).status_code == 302  # refused: planned → closed
    assert Campaign.objects.get().status == "planned"
    client.post(status, {"status": "running"})
    client.post(status, {"status": "closed", "note": "完成。"})
    assert Campaign.objects.get().status == "closed"
    assert (
        "春季攻坚行动" not in client.get(reverse("campaigns:list")).content.decode()
    )  # open work by default
    assert "春季攻坚行动" in client.get(reverse("campaigns:list"), {"status": "all"}).content.decode()
    client.force_login(world.handler_a)
    assert client.get(edit).status_code == 403


def test_uncontracted_filter_and_workbench(client, world):
    from xinfang.leadership.models import ContractingPolicy
    from xinfang.leadership.services import open_contract

    p1, p2 = overdue(world, 40), overdue(world, 41)
    open_contract(
        actor=world.supervisor_a,
        leader=world.leader_a,
        petition=p1,
        measures="包案",
        due_on=TODAY + dt.timedelta(days=9),
    )
    client.force_login(world.supervisor_a)
    html = client.get(reverse("campaigns:backlog"), {"uncontracted": "1"}).content.decode()
    assert p2.number in html and p1.number not in html
    ContractingPolicy.objects.create(organisation=world.a.government, require_for_backlog=True)
    html = client.get(reverse("workbench:home")).content.decode()
    assert 'id="panel-backlog-uncontracted"' in html and p2.number in html


def test_relief_and_campaign_lists_do_not_grow_in_queries(client, world):
    client.force_login(world.leader_a)

    def add_rows() -> None:
        p = petition(world, status="concluded", concluded_on=TODAY)
        services.apply_relief(
            user=world.intake_a,
            petition_number=p.number,
            applicant=p.petitioners.get().pk,
            reason="困难",
            amount="100",
        )
        services.create_campaign(user=world.supervisor_a, name="x", starts_on=TODAY, ends_on=TODAY)

    add_rows()
    counts = []
    for _ in range(2):
        with CaptureQueriesContext(connection) as q1:
            client.get(reverse("campaigns:relief"))
        with CaptureQueriesContext(connection) as q2:
            client.get(reverse("campaigns:list"))
        counts.append((len(q1), len(q2)))
        for _ in range(3):
            add_rows()
    assert counts[0] == counts[1]
