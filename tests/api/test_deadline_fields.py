"""Every petition in the API shows its current deadline, the days left and the traffic light
(issue #3), and the list filters the urgent ones like the staff queue."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from xinfang.petitions.models import Petition
from xinfang.workflow import services

from ..factories import register


@pytest.mark.parametrize(("offset", "light"), [(10, "green"), (3, "yellow"), (0, "yellow"), (-1, "red")])
def test_list_and_detail_show_days_left_and_the_light(world, api, token_of, offset, light):
    petition = register(world.a.office, world.intake_a, world.a.township).petition
    Petition.objects.filter(pk=petition.pk).update(due_on=timezone.localdate() + dt.timedelta(days=offset))
    token = token_of(world.intake_a)
    item = api.get("/api/v1/petitions", token=token).json()["results"][0]
    assert (item["days_left"], item["deadline_light"]) == (offset, light)
    body = api.get(f"/api/v1/petitions/{petition.number}", token=token).json()
    assert (body["days_left"], body["deadline_light"], body["is_urgent"]) == (offset, light, False)


def test_a_final_petition_has_no_light_and_its_conclusion(world, api, token_of):
    petition = register(world.a.office, world.intake_a, world.a.township).petition
    services.decline(user=world.intake_a, number=petition.number, reasons="不属于信访事项")
    body = api.get(f"/api/v1/petitions/{petition.number}", token=token_of(world.intake_a)).json()
    assert (body["due_on"], body["days_left"], body["deadline_light"], body["conclusion"]) == (
        None,
        None,
        "none",
        "",
    )


def test_the_list_filters_urgent_petitions(world, api, token_of):
    urgent = register(world.a.office, world.intake_a, world.a.township, title="紧急").petition
    register(world.a.office, world.intake_a, world.a.township, title="普通")
    services.report_urgent(user=world.supervisor_a, number=urgent.number, reasons="群体性事件苗头")
    token = token_of(world.intake_a)
    items = api.get("/api/v1/petitions", token=token, is_urgent="true").json()["results"]
    assert [i["number"] for i in items] == [urgent.number] and items[0]["is_urgent"] is True
    assert len(api.get("/api/v1/petitions", token=token).json()["results"]) == 2


def test_the_queue_filters_and_marks_urgent_petitions(client, world):
    from django.urls import reverse

    urgent = register(world.a.office, world.intake_a, world.a.township, title="紧急事项").petition
    other = register(world.a.office, world.intake_a, world.a.township, title="普通事项").petition
    services.report_urgent(user=world.supervisor_a, number=urgent.number, reasons="群体性事件苗头")
    client.force_login(world.intake_a)
    page = client.get(reverse("petitions:queue"), {"urgent": "on"}).content.decode()
    assert urgent.number in page and other.number not in page and 'class="tag urgent"' in page
