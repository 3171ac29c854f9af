"""The procedure fixes of issue #7 (points 5–10) through the API: the jurisdiction dispute on the
action endpoint, the refusal codes, no overdue deadline during a hearing, and the merged
petition's code on the portal API.  The service-level tests are in
tests/workflow/test_trial_fixes_procedure.py."""

from __future__ import annotations

import datetime as dt

from freezegun import freeze_time

from xinfang.petitions.drafts import PetitionerDraft
from xinfang.petitions.models import Petition
from xinfang.workflow import appeals, services

from ..factories import make_id_number, register
from ..procedure import REPLY, to_replied, to_under_recheck

START = "2026-03-02 02:00:00"  # a Monday, 10:00 in Shanghai


def _act(api, token: str, number: str, action: str, body: dict):
    return api.post(f"/api/v1/petitions/{number}/actions/{action}", body, token=token)


def _overruled_once(world) -> str:
    number = register(world.a.office, world.intake_a, world.a.township).petition.number
    services.assign(user=world.intake_a, number=number, unit=world.a.department)
    services.return_petition(user=world.handler_a, number=number, reasons="不属于本单位职责")
    services.overrule_return(user=world.intake_a, number=number, comment="属于人社部门职责")
    return number


def test_the_jurisdiction_dispute_through_the_action_endpoint(world, api, token_of):
    """Point 5: a second ``return`` is refused (409 already_objected); the unit's second objection
    and the common superior's decision are actions of the endpoint."""
    number = _overruled_once(world)
    handler = token_of(world.handler_a)
    response = _act(api, handler, number, "return", {"reasons": "仍不属于本单位"})
    assert response.status_code == 409 and response.json()["error"]["code"] == "already_objected"
    response = _act(api, handler, number, "dispute_jurisdiction", {"reasons": "属于乡镇职责"})
    assert response.status_code == 200, response.json()
    assert response.json()["status"] == "disputed"
    # the office that overruled is a party: 403; a unit outside the superior's area: 422
    response = _act(api, token_of(world.intake_a), number, "decide_jurisdiction",
                    {"unit": world.a.township.pk, "reasons": "属地管理"})  # fmt: skip
    assert response.status_code == 403 and response.json()["error"]["code"] == "not_allowed"
    leader = token_of(world.leader_a)
    response = _act(api, leader, number, "decide_jurisdiction",
                    {"unit": world.b.department.pk, "reasons": "属地管理"})  # fmt: skip
    assert response.status_code == 422 and response.json()["error"]["fields"] == {"unit": [
        response.json()["error"]["message"]]}  # fmt: skip
    response = _act(api, leader, number, "decide_jurisdiction", {"reasons": "属地管理"})
    assert response.status_code == 422  # unit required
    response = _act(api, leader, number, "decide_jurisdiction",
                    {"unit": world.a.township.code, "reasons": "属地管理"})  # fmt: skip
    assert response.status_code == 200, response.json()
    assert response.json()["status"] == "assigned"


def test_withdraw_after_a_reply_is_409_already_replied(world, api, token_of):
    """Point 7."""
    number = register(world.a.office, world.intake_a, world.a.township).petition.number
    to_replied(world, number)
    services.reject_completion(user=world.intake_a, number=number, reasons="答复未回应诉求")
    response = _act(api, token_of(world.intake_a), number, "withdraw", {"reasons": "信访人要求撤回"})
    assert response.status_code == 409 and response.json()["error"]["code"] == "already_replied"


def test_days_left_is_never_negative_while_a_hearing_is_open(world, api, token_of):
    """Point 8: 45 days into a hearing the recheck deadline as it stood has long passed; the API
    shows no deadline rather than an overdue one."""
    with freeze_time(START) as frozen:
        number = register(world.a.office, world.intake_a, world.a.township).petition.number
        to_under_recheck(world, number)
        frozen.tick(dt.timedelta(days=2))
        appeals.start_hearing(user=world.city_supervisor, number=number)
        frozen.tick(dt.timedelta(days=45))
        body = api.get(f"/api/v1/petitions/{number}", token=token_of(world.city_supervisor)).json()
        assert (body["status"], body["due_on"], body["days_left"], body["deadline_light"]) == (
            "under_recheck", None, None, "none"
        )  # fmt: skip


def test_merge_of_another_persons_petition_is_422_different_petitioner(world, api, token_of):
    """Point 10."""
    target = register(world.a.office, world.intake_a, world.a.township).petition
    someone_else = PetitionerDraft(
        name="李四", id_number=make_id_number(), phone="13900001111", address="幸福路2号"
    )
    other = register(world.a.office, world.intake_a, world.a.township, petitioners=[someone_else]).petition
    response = _act(api, token_of(world.intake_a), other.number, "merge", {"into": target.number})
    assert response.status_code == 422
    error = response.json()["error"]
    assert error["code"] == "different_petitioner" and list(error["fields"]) == ["into"]
    assert Petition.objects.get(pk=other.pk).status == "registered"


def test_the_merged_petitions_code_shows_the_target_on_the_portal_api(world, api):
    """Point 10: tracking with the merged petition's own code shows the reply of the petition it
    went into."""
    target = register(world.a.office, world.intake_a, world.a.township).petition
    merged = register(world.a.office, world.intake_a, world.a.township)
    services.merge(user=world.intake_a, number=merged.petition.number, into=target.number)
    to_replied(world, target.number)
    response = api.post(
        f"/api/v1/portal/petitions/{merged.petition.number}/track", {"code": merged.query_code}
    )
    assert response.status_code == 200, response.json()
    body = response.json()
    assert (body["number"], body["merged_into"], body["status"]) == (
        merged.petition.number, target.number, "replied"
    )  # fmt: skip
    assert [letter["opinion"] for letter in body["letters"]] == [REPLY["opinion"]]
    assert body["allowed_actions"] == []
