"""``POST /api/v1/portal/petitions/{number}/actions/{action}``: the petitioner's own actions with the
query code (issue #3) — the code checked exactly as for tracking, refusals in the stable error shape,
nothing internal ever in a response."""

from __future__ import annotations

import pytest
from django.test import Client, override_settings
from freezegun import freeze_time

from xinfang.workflow import appeals
from xinfang.workflow.models import Appeal, Evaluation

from ..web.test_portal_steps import (
    INTERNAL,
    REPLY,
    REVIEW,
    STAFF,
    accepted,
    day_after,
    rechecked,
    registered,
    replied,
    reviewed,
    snapshot,
)


def action_url(number: str, action: str) -> str:
    return f"/api/v1/portal/petitions/{number}/actions/{action}"


def track_url(number: str) -> str:
    return f"/api/v1/portal/petitions/{number}"


def assert_nothing_internal(text: str, petition) -> None:
    # 查明事实 and 法律政策依据 are part of the letter and of the opinions the petitioner receives
    # (issue #8 §7); internal comments and the staff who signed never leave the staff system.
    for secret in (*INTERNAL, *STAFF):
        assert secret not in text, secret
    person = petition.petitioners.get()
    for secret in (person.name, person.id_number, person.phone):
        assert secret not in text, secret


# --- tracking, extended ------------------------------------------------------------------------------


def test_tracking_shows_steps_letters_windows_and_allowed_actions(world, api):
    # given
    petition, code = replied(world)
    # when
    response = api.get(track_url(petition.number), code=code)
    # then
    assert response.status_code == 200
    body = response.json()
    assert set(body) == {"number", "status", "status_label", "events", "steps", "letters", "appeals",
                         "windows", "allowed_actions", "merged_into", "supervised"}  # fmt: skip
    assert body["merged_into"] == ""  # only a merged petition names the one it went into
    assert sorted(body["allowed_actions"]) == ["evaluate", "request_review"]
    assert body["windows"] == {
        "evaluation_status": "pending",
        "evaluation_due_on": appeals.evaluation_window(petition).due_on.isoformat(),
        "review_request_due_on": appeals.review_request_window(petition).due_on.isoformat(),
        "recheck_request_due_on": None,
    }
    assert [s["key"] for s in body["steps"] if s["state"] == "current"] == ["reply"]
    (letter,) = body["letters"]
    assert (letter["outcome"], letter["opinion"]) == ("support", REPLY["opinion"])
    assert set(letter) == {
        "organisation",
        "issued_on",
        "outcome",
        "outcome_label",
        "facts",
        "basis",
        "opinion",
        "review_notice",
    }
    assert (letter["facts"], letter["basis"]) == (REPLY["facts"], REPLY["basis"])
    assert_nothing_internal(response.content.decode(), petition)


def test_tracking_a_concluded_matter_shows_both_opinions_and_nothing_internal(world, api):
    petition, code = rechecked(world)
    response = api.get(track_url(petition.number), code=code)
    body = response.json()
    assert [(a["kind"], a["outcome"]) for a in body["appeals"]] == [
        ("review", "uphold"),
        ("recheck", "change"),
    ]
    assert body["status"] == "concluded"
    assert_nothing_internal(response.content.decode(), petition)


# --- the four actions, allowed -------------------------------------------------------------------------


def test_evaluate_with_the_code(world, api):
    # given
    petition, code = replied(world)
    # when
    response = api.post(
        action_url(petition.number, "evaluate"),
        {"code": code, "office_rating": "satisfied", "unit_rating": "dissatisfied", "reasons": "补发不足额"},
    )
    # then
    assert response.status_code == 200, response.json()
    body = response.json()
    assert body["windows"]["evaluation_status"] == "evaluated"
    assert "evaluate" not in body["allowed_actions"]
    evaluation = Evaluation.objects.get(petition=petition)
    assert (evaluation.unit_rating, evaluation.reason, evaluation.source) == (
        "dissatisfied",
        "补发不足额",
        "portal",
    )
    # the reason is the petitioner's own note to the office: not echoed on the public timeline
    assert "补发不足额" not in response.content.decode()


def test_request_review_and_recheck_with_the_code(world, api):
    petition, code = replied(world)
    response = api.post(action_url(petition.number, "request_review"), {"code": code, "reasons": "请求复查"})
    assert response.status_code == 200, response.json()
    assert response.json()["status"] == "under_review"
    assert Appeal.objects.get(petition=petition).body == world.a.government
    appeals.review(user=world.supervisor_a, number=petition.number, **REVIEW)
    response = api.post(action_url(petition.number, "request_recheck"), {"code": code, "reasons": "请求复核"})
    assert response.status_code == 200, response.json()
    assert response.json()["status"] == "under_recheck"
    assert [a["kind"] for a in response.json()["appeals"]] == ["review", "recheck"]


def test_withdraw_with_the_code_needs_no_reason(world, api):
    petition, code = accepted(world)
    response = api.post(action_url(petition.number, "withdraw"), {"code": code})
    assert response.status_code == 200, response.json()
    assert response.json()["status"] == "withdrawn"
    assert response.json()["allowed_actions"] == []


def test_code_in_any_case_and_number_in_any_case(world, api):
    petition, code = registered(world)
    response = api.post(
        action_url(petition.number.lower(), "withdraw"), {"code": code.replace("-", "").lower()}
    )
    assert response.status_code == 200, response.json()


# --- refused ------------------------------------------------------------------------------------------


def test_wrong_code_unknown_number_and_another_petitions_number_are_the_same_404(world, api):
    # given
    petition, code = replied(world)
    other, _ = replied(world)
    before = (snapshot(petition), snapshot(other))
    body = {"code": code, "office_rating": "satisfied", "unit_rating": "satisfied"}
    # when
    wrong = api.post(action_url(petition.number, "evaluate"), {**body, "code": "AAAA-BBBB-CCCC"})
    unknown = api.post(action_url("XF-990101-2026-424242", "evaluate"), body)
    someone_elses = api.post(action_url(other.number, "evaluate"), body)
    # then
    assert wrong.status_code == unknown.status_code == someone_elses.status_code == 404
    assert wrong.content == unknown.content == someone_elses.content
    assert wrong.json()["error"]["code"] == "not_found"
    assert (snapshot(petition), snapshot(other)) == before


@override_settings(XINFANG_PORTAL_TRACK_FAILURE_RATE="3/900")
def test_wrong_codes_on_actions_and_tracking_share_one_throttle(world, api):
    # given two failures on the action endpoint and one on tracking
    petition, code = replied(world)
    before = snapshot(petition)
    for _ in range(2):
        assert (
            api.post(action_url(petition.number, "request_review"), {"code": "X", "reasons": "r"}).status_code
            == 404
        )
    assert api.get(track_url(petition.number), code="X").status_code == 404
    # when the right code comes next
    response = api.post(action_url(petition.number, "request_review"), {"code": code, "reasons": "r"})
    # then it is throttled too, and nothing changed
    assert response.status_code == 429
    assert response.json()["error"]["code"] == "throttled"
    assert api.get(track_url(petition.number), code=code).status_code == 429
    assert snapshot(petition) == before


def test_missing_code_is_a_validation_error(world, api):
    petition, _code = replied(world)
    response = api.post(action_url(petition.number, "request_review"), {"reasons": "r"})
    assert response.status_code == 422
    assert "code" in response.json()["error"]["fields"]


def test_unknown_or_staff_action_is_not_found(world, api):
    petition, code = replied(world)
    before = snapshot(petition)
    for action in ("reply", "conclude", "nope"):
        response = api.post(action_url(petition.number, action), {"code": code})
        assert response.status_code == 404
        assert response.json()["error"]["code"] == "unknown_action"
    assert snapshot(petition) == before


def test_a_field_the_action_does_not_take_is_refused(world, api):
    petition, code = replied(world)
    before = snapshot(petition)
    response = api.post(action_url(petition.number, "request_review"),
                        {"code": code, "reasons": "r", "office_rating": "satisfied"})  # fmt: skip
    assert response.status_code == 422
    assert set(response.json()["error"]["fields"]) == {"office_rating"}
    assert snapshot(petition) == before


@pytest.mark.parametrize(
    ("action", "body", "field"),
    [
        ("evaluate", {"office_rating": "satisfied", "unit_rating": "dissatisfied"}, "reasons"),
        ("evaluate", {"office_rating": "satisfied"}, "unit_rating"),
        ("request_review", {"reasons": "  "}, "reasons"),
        ("request_review", {}, "reasons"),
    ],
)
def test_missing_input_is_refused_with_the_field(world, api, action, body, field):
    petition, code = replied(world)
    before = snapshot(petition)
    response = api.post(action_url(petition.number, action), {"code": code, **body})
    assert response.status_code == 422, response.json()
    error = response.json()["error"]
    assert error["code"] in {"missing_reason", "missing_rating"}
    assert set(error["fields"]) == {field}
    assert snapshot(petition) == before


@pytest.mark.parametrize(
    ("build", "action", "body", "code"),
    [
        (accepted, "evaluate", {"office_rating": "satisfied", "unit_rating": "satisfied"}, "wrong_state"),
        (accepted, "request_review", {"reasons": "r"}, "wrong_state"),
        (replied, "request_recheck", {"reasons": "r"}, "wrong_state"),
        (replied, "withdraw", {}, "wrong_state"),
        (reviewed, "request_review", {"reasons": "r"}, "wrong_state"),
    ],
)
def test_wrong_state_is_a_conflict(world, api, build, action, body, code):
    petition, query_code = build(world)
    before = snapshot(petition)
    response = api.post(action_url(petition.number, action), {"code": query_code, **body})
    assert response.status_code == 409, response.json()
    assert response.json()["error"]["code"] == code
    assert snapshot(petition) == before


def test_evaluating_twice_is_a_conflict(world, api):
    petition, code = replied(world)
    body = {"code": code, "office_rating": "satisfied", "unit_rating": "satisfied"}
    assert api.post(action_url(petition.number, "evaluate"), body).status_code == 200
    before = snapshot(petition)
    response = api.post(action_url(petition.number, "evaluate"), body)
    assert response.status_code == 409
    assert response.json()["error"]["code"] == "already_evaluated"
    assert snapshot(petition) == before


@pytest.mark.parametrize(
    ("build", "window", "action", "body"),
    [
        (
            replied,
            appeals.evaluation_window,
            "evaluate",
            {"office_rating": "satisfied", "unit_rating": "satisfied"},
        ),
        (replied, appeals.review_request_window, "request_review", {"reasons": "r"}),
        (reviewed, appeals.recheck_request_window, "request_recheck", {"reasons": "r"}),
    ],
)
def test_after_the_window_is_refused(world, api, build, window, action, body):
    # given
    petition, code = build(world)
    late = day_after(window(petition).due_on)
    before = snapshot(petition)
    # when
    with freeze_time(late):
        tracked = api.get(track_url(petition.number), code=code).json()
        response = api.post(action_url(petition.number, action), {"code": code, **body})
    # then
    assert action not in tracked["allowed_actions"]
    assert response.status_code == 409, response.json()
    assert response.json()["error"]["code"] == "out_of_window"
    assert "届满" in response.json()["error"]["message"]
    assert snapshot(petition) == before


def test_actions_need_no_csrf_token(world):
    """Like submit: JSON without cookies, proved by the code in the body."""
    petition, code = replied(world)
    client = Client(enforce_csrf_checks=True)
    response = client.post(
        action_url(petition.number, "request_review"),
        {"code": code, "reasons": "r"},
        content_type="application/json",
    )
    assert response.status_code == 200
