"""The API list's queue filters (issue #8 §2): ``open``, ``overdue``, ``mine`` and ``handler``;
the handler, the handling unit and the deadline's kind on every petition; the light and
``is_overdue`` only for deadlines staff must meet.  Bad values are refused in the stable shape."""

from __future__ import annotations

import datetime as dt

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from xinfang.petitions.models import Petition
from xinfang.workflow import services

from ..procedure import new_registration, to_accepted, to_replied

LIST = "/api/v1/petitions"


def set_due(petition, days: int) -> None:
    Petition.objects.filter(pk=petition.pk).update(due_on=timezone.localdate() + dt.timedelta(days=days))


def listed(api, token, **params) -> set[str]:
    response = api.get(LIST, token=token, **params)
    assert response.status_code == 200, response.content
    return {item["number"] for item in response.json()["results"]}


@pytest.fixture
def petitions(world):
    """An accepted petition past its deadline with a named handler, a replied one past the
    petitioner's review window, a fresh registration and a declined one."""
    late = new_registration(world, title="超期").petition
    to_accepted(world, late.number)
    services.assign_handler(user=world.handler_a, number=late.number, staff="handler_a")
    set_due(late, -2)
    replied = new_registration(world, title="已答复").petition
    to_replied(world, replied.number)
    set_due(replied, -3)
    fresh = new_registration(world, title="新登记").petition
    declined = new_registration(world, title="不予受理").petition
    services.decline(user=world.intake_a, number=declined.number, reasons="不属于信访事项")
    return {"late": late, "replied": replied, "fresh": fresh, "declined": declined}


def test_open_true_leaves_out_final_states_and_the_default_keeps_them(world, api, token_of, petitions):
    token = token_of(world.intake_a)
    everything = {p.number for p in petitions.values()}
    assert listed(api, token) == everything  # unchanged for existing clients
    assert listed(api, token, open="true") == everything - {petitions["declined"].number}
    assert listed(api, token, open="false") == everything


def test_overdue_is_a_staff_deadline_that_has_passed(world, api, token_of, petitions):
    """An accepted petition past due is overdue; a replied one past the review window is not."""
    token = token_of(world.intake_a)
    assert listed(api, token, overdue="true") == {petitions["late"].number}
    by_number = {i["number"]: i for i in api.get(LIST, token=token).json()["results"]}
    late, replied = by_number[petitions["late"].number], by_number[petitions["replied"].number]
    assert (late["is_overdue"], late["deadline_light"], late["deadline_kind"]) == (True, "red", "staff")
    assert (replied["is_overdue"], replied["deadline_light"], replied["deadline_kind"]) == (
        False,
        "none",
        "petitioner",
    )
    assert replied["days_left"] == -3  # the date itself is still given, as a plain date
    declined = by_number[petitions["declined"].number]
    assert (declined["deadline_kind"], declined["is_overdue"]) == ("none", False)


def test_mine_and_handler(world, api, token_of, petitions):
    late = petitions["late"].number
    assert listed(api, token_of(world.handler_a), mine="true") == {late}
    assert listed(api, token_of(world.intake_a), mine="true") == set()
    assert listed(api, token_of(world.intake_a), handler=world.handler_a.pk) == {late}
    assert listed(api, token_of(world.intake_a), open="true", overdue="true", mine="false") == {late}


def test_the_handler_filter_never_widens_the_scope(world, api, token_of, petitions):
    """County B's clerk asking for county A's handler sees nothing of county A."""
    assert listed(api, token_of(world.intake_b), handler=world.handler_a.pk) == set()


def test_handler_and_handling_unit_in_list_and_detail(world, api, token_of, petitions):
    token = token_of(world.intake_a)
    by_number = {i["number"]: i for i in api.get(LIST, token=token).json()["results"]}
    late, fresh = by_number[petitions["late"].number], by_number[petitions["fresh"].number]
    assert late["handler"] == {"id": world.handler_a.pk, "username": "handler_a", "name": "handler_a"}
    assert late["handling_unit"]["name"] == "甲县人社局"
    assert fresh["handler"] is None and fresh["handling_unit"]["name"] == "甲县信访局"
    body = api.get(f"{LIST}/{petitions['late'].number}", token=token).json()
    assert body["handler"]["username"] == "handler_a" and body["handling_unit"]["name"] == "甲县人社局"
    assert (body["is_overdue"], body["deadline_kind"]) == (True, "staff")


def test_the_list_costs_the_same_queries_for_more_rows(world, api, token_of, petitions):
    token = token_of(world.intake_a)
    with CaptureQueriesContext(connection) as few:
        api.get(LIST, token=token)
    for _ in range(4):
        extra = new_registration(world).petition
        to_accepted(world, extra.number)
        services.assign_handler(user=world.handler_a, number=extra.number, staff="handler_a")
    with CaptureQueriesContext(connection) as many:
        assert len(api.get(LIST, token=token).json()["results"]) == 8
    assert petition_queries(many) == petition_queries(few)


def petition_queries(captured: CaptureQueriesContext) -> int:
    """Queries of the list itself: the token's ``last_used_at`` is written at most once a minute,
    so whether that UPDATE falls in a measurement depends on the clock, not on the rows."""
    return sum("api_apitoken" not in q["sql"] for q in captured.captured_queries)


@pytest.mark.parametrize(
    ("params", "fields"),
    [
        ({"open": "maybe"}, {"open"}),
        ({"overdue": "2"}, {"overdue"}),
        ({"mine": "yes please"}, {"mine"}),
        ({"handler": "abc"}, {"handler"}),
        ({"handler": "0"}, {"handler"}),
        ({"handler": str(2**63)}, {"handler"}),
    ],
)
def test_bad_values_are_refused_in_the_stable_shape(world, api, token_of, params, fields):
    response = api.get(LIST, token=token_of(world.intake_a), **params)
    assert response.status_code == 422
    error = response.json()["error"]
    assert error["code"] == "validation_error" and set(error["fields"]) == fields


def test_mine_with_handler_is_refused(world, api, token_of):
    response = api.get(LIST, token=token_of(world.intake_a), mine="true", handler=world.handler_a.pk)
    assert response.status_code == 422
    error = response.json()["error"]
    assert error["code"] == "validation_error" and "mine 与 handler 不能同时使用。" in str(error)
