"""The API side of issue #7 points 1, 2 and 4: the accused named at registration or with the
``name_subject`` action, refusals with stable codes when a report is routed before that, when a
report against the office is not sent up, and when a unit lies outside the office's area."""

from __future__ import annotations

import pytest

from xinfang.petitions.models import Petition

from ..factories import register
from .conftest import petition_payload

pytestmark = pytest.mark.django_db


def action_url(number: str, action: str) -> str:
    return f"/api/v1/petitions/{number}/actions/{action}"


def test_registration_names_the_accused_or_states_there_is_none(api, token_of, world):
    token = token_of(world.intake_a)
    named = api.post("/api/v1/petitions", petition_payload(
        world.a.township, purpose="report", subject_organisation=world.a.department.pk,
        subject_person="王某某",
    ), token=token)  # fmt: skip
    assert named.status_code == 201, named.json()
    assert named.json()["subject_confirmed"] is True
    assert "王某某" not in named.content.decode()  # the accused person never leaves in a response
    assert Petition.objects.get(number=named.json()["number"]).subject_person == "王某某"
    none = api.post("/api/v1/petitions", petition_payload(
        world.a.township, purpose="report", no_subject_organisation=True), token=token)  # fmt: skip
    assert none.json()["subject_confirmed"] is True
    both = api.post("/api/v1/petitions", petition_payload(
        world.a.township, purpose="report", subject_organisation=world.a.department.pk,
        no_subject_organisation=True), token=token)  # fmt: skip
    assert both.status_code == 422 and "subject_organisation" in both.json()["error"]["fields"]


def test_a_report_is_not_routed_before_name_subject(api, token_of, world):
    token = token_of(world.intake_a)
    number = api.post(
        "/api/v1/petitions", petition_payload(world.a.township, purpose="report"), token=token
    ).json()["number"]
    refused = api.post(action_url(number, "assign"), {"unit": world.a.department.pk}, token=token)
    assert refused.status_code == 409 and refused.json()["error"]["code"] == "accused_unconfirmed"
    both = api.post(
        action_url(number, "name_subject"),
        {"subject_organisation": world.a.department.pk, "no_subject_organisation": True},
        token=token,
    )
    assert both.status_code == 422
    assert both.json()["error"]["code"] == "missing_subject"
    assert "subject_organisation" in both.json()["error"]["fields"]
    named = api.post(
        action_url(number, "name_subject"), {"subject_organisation": world.a.department.pk}, token=token
    )
    assert named.status_code == 200 and named.json()["subject_confirmed"] is True
    assert named.json()["events"][-1]["kind"] == "subject_named"
    accused = api.post(action_url(number, "assign"), {"unit": world.a.department.pk}, token=token)
    assert accused.status_code == 422 and accused.json()["error"]["code"] == "accused_unit"


def test_a_report_against_the_office_must_go_up(api, token_of, world):
    token = token_of(world.intake_a)
    number = register(
        world.a.office, world.intake_a, world.a.township,
        purpose="report", subject_organisation_id=world.a.office.pk,
    ).petition.number  # fmt: skip
    accept = api.post(action_url(number, "accept"), {}, token=token)
    assert accept.status_code == 403 and accept.json()["error"]["code"] == "accused_office"
    down = api.post(action_url(number, "forward"), {"unit": world.a.department.pk}, token=token)
    assert down.status_code == 422
    assert down.json()["error"]["code"] == "must_go_up" and "unit" in down.json()["error"]["fields"]
    up = api.post(action_url(number, "forward"), {"unit": world.city_supervisor.organisation_id}, token=token)
    assert up.status_code == 204  # done, and the accused office no longer sees it


def test_routing_outside_the_area_is_refused(api, token_of, world):
    """The trial: county A's office forwarded, through the API, to a department of another area."""
    token = token_of(world.intake_a)
    number = register(world.a.office, world.intake_a, world.a.township).petition.number
    for action in ("forward", "assign"):
        response = api.post(action_url(number, action), {"unit": world.b.department.pk}, token=token)
        assert response.status_code == 422, response.json()
        error = response.json()["error"]
        assert error["code"] == "outside_area" and list(error["fields"]) == ["unit"]
    assert Petition.objects.get(number=number).status == "registered"
