"""The extension refusals of issue #7 point 11 through the API: the stable error shape and status."""

from __future__ import annotations

import datetime as dt

import pytest
from freezegun import freeze_time

from xinfang.petitions.models import Petition
from xinfang.workflow import services

from ..factories import make_staff
from ..procedure import new_registration, to_accepted


def action_url(number: str, action: str) -> str:
    return f"/api/v1/petitions/{number}/actions/{action}"


@pytest.fixture
def accepted(world) -> str:
    number = new_registration(world).petition.number
    to_accepted(world, number)
    return number


def test_an_extension_after_the_deadline_is_a_409_deadline_passed(world, api, token_of, accepted):
    due_on = Petition.objects.get(number=accepted).due_on
    with freeze_time(dt.datetime.combine(due_on + dt.timedelta(days=1), dt.time(2), tzinfo=dt.UTC)):
        token = token_of(world.handler_a)  # issued that day (tokens expire when idle)
        response = api.post(action_url(accepted, "request_extension"), {"days": 10, "reasons": "需鉴定"},
                            token=token)  # fmt: skip
    assert response.status_code == 409, response.json()
    assert response.json()["error"]["code"] == "deadline_passed"


def test_approving_one_s_own_extension_is_a_403_own_extension(world, api, token_of, accepted):
    dept_leader = make_staff("dept_leader", world.a.department, "leader")
    services.request_extension(user=dept_leader, number=accepted, days=10, reasons="需鉴定")
    response = api.post(action_url(accepted, "approve_extension"), {}, token=token_of(dept_leader))
    assert response.status_code == 403, response.json()
    assert response.json()["error"]["code"] == "own_extension"
