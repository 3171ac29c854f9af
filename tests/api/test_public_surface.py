"""The public API's doors (issue #7, point 28): the submission proof, JSON only, CORS only for
configured origins; and the refusals every operation documents (point 26)."""

from __future__ import annotations

import base64

import pytest
from captcha.models import CaptchaStore
from django.test import Client, override_settings

from xinfang.api.services import issue_token
from xinfang.organisations.services import create_staff
from xinfang.petitions.models import Petition

from ..factories import PASSWORD, register
from .conftest import petition_payload, public_payload

SUBMIT = "/api/v1/portal/petitions"
CAPTCHA = "/api/v1/portal/captcha"
PARTNER_ORIGIN = "https://rexian12345.example.gov.cn"


def _without_proof(area):
    body = public_payload(area)
    body.pop("captcha_key")
    body.pop("captcha")
    return body


# --- the submission proof -------------------------------------------------------------------------


def test_submission_without_a_captcha_is_refused(world, api):
    """Regression: the API skipped the portal's CAPTCHA entirely."""
    # when
    response = api.post(SUBMIT, _without_proof(world.a.township))
    # then
    assert response.status_code == 422
    error = response.json()["error"]
    assert error["code"] == "captcha_invalid" and "captcha" in error["fields"]
    assert not Petition.objects.exists()


@override_settings(CAPTCHA_TEST_MODE=False)
def test_a_solved_challenge_admits_one_submission(world, api):
    # given
    challenge = api.post(CAPTCHA, {}).json()
    assert challenge["image"].startswith("data:image/png;base64,")
    assert base64.b64decode(challenge["image"].split(",", 1)[1]).startswith(b"\x89PNG")
    assert challenge["expires_in"] > 0 and challenge["image_url"].endswith(f"/{challenge['key']}/")
    answer = CaptchaStore.objects.get(hashkey=challenge["key"]).response
    body = {**_without_proof(world.a.township), "captcha_key": challenge["key"], "captcha": answer}
    # when
    first = api.post(SUBMIT, body)
    second = api.post(SUBMIT, body)
    # then: the challenge is used up
    assert first.status_code == 201, first.content[:300]
    assert second.status_code == 422 and second.json()["error"]["code"] == "captcha_invalid"
    assert Petition.objects.count() == 1


@override_settings(CAPTCHA_TEST_MODE=False)
def test_a_wrong_answer_uses_the_challenge_up(world, api):
    # given
    key = api.post(CAPTCHA, {}).json()["key"]
    answer = CaptchaStore.objects.get(hashkey=key).response
    # when
    wrong = api.post(
        SUBMIT, {**_without_proof(world.a.township), "captcha_key": key, "captcha": answer + "9"}
    )
    right = api.post(SUBMIT, {**_without_proof(world.a.township), "captcha_key": key, "captcha": answer})
    # then: one guess per challenge
    assert wrong.status_code == 422 and right.status_code == 422
    assert not Petition.objects.exists()


@override_settings(XINFANG_PORTAL_CAPTCHA_RATE="2/3600")
def test_challenges_per_address_are_limited(world, api):
    # when
    statuses = [api.post(CAPTCHA, {}).status_code for _ in range(3)]
    # then
    assert statuses == [201, 201, 429]


def test_a_partner_platform_submits_with_its_system_account_token(world, api):
    # given: a 12345 platform's system account and its token
    platform = create_staff(
        username="platform12345",
        password=PASSWORD,
        organisation=world.a.office,
        roles=["intake"],
        is_system_account=True,
        bootstrap=True,
    )
    token = issue_token(user=platform, name="12345热线", actor=None).token
    # when
    response = api.post(SUBMIT, _without_proof(world.a.township), token=token)
    # then
    assert response.status_code == 201, response.content[:300]


def test_a_persons_token_or_a_bad_token_does_not_replace_the_captcha(world, api, token_of):
    # when
    person = api.post(SUBMIT, _without_proof(world.a.township), token=token_of(world.intake_a))
    garbage = api.post(SUBMIT, _without_proof(world.a.township), token="xf_not-a-token")
    # then
    assert person.status_code == 401 and garbage.status_code == 401
    assert person.json()["error"]["code"] == "unauthorized"
    assert not Petition.objects.exists()


# --- JSON only --------------------------------------------------------------------------------------


@pytest.fixture
def petition(world):
    return register(world.a.office, world.intake_a, world.a.township).petition


def _json_endpoints(world, petition):
    return {
        "token": ("/api/v1/auth/token", {"username": "intake_a", "password": PASSWORD}, False),
        "create": ("/api/v1/petitions", petition_payload(world.a.township), True),
        "action": (f"/api/v1/petitions/{petition.number}/actions/accept", {}, True),
        "portal submit": (SUBMIT, public_payload(world.a.township), False),
        "portal track": (f"/api/v1/portal/petitions/{petition.number}/track", {"code": "X"}, False),
        "portal action": (
            f"/api/v1/portal/petitions/{petition.number}/actions/withdraw",
            {"code": "X"},
            False,
        ),
    }


@pytest.mark.parametrize(
    "endpoint", ["token", "create", "action", "portal submit", "portal track", "portal action"]
)
@pytest.mark.parametrize("content_type", ["text/plain", "application/x-www-form-urlencoded"])
def test_every_json_endpoint_refuses_other_content_types_with_415(
    world, petition, token_of, endpoint, content_type
):
    """Regression: ``text/plain`` from a foreign page (no CORS preflight) was parsed as JSON."""
    # given
    import json

    path, body, needs_token = _json_endpoints(world, petition)[endpoint]
    extra = {"HTTP_AUTHORIZATION": f"Bearer {token_of(world.intake_a)}"} if needs_token else {}
    # when
    response = Client().post(
        path, json.dumps(body), content_type=content_type, HTTP_ORIGIN="https://evil.example", **extra
    )
    # then
    assert response.status_code == 415, (endpoint, response.status_code, response.content[:200])
    assert response.json()["error"]["code"] == "unsupported_media_type"
    assert "Access-Control-Allow-Origin" not in response
    assert not Petition.objects.exclude(pk=petition.pk).exists()


def test_json_with_a_charset_and_problem_json_are_accepted(world, api):
    # when
    import json

    response = api.client.post(
        SUBMIT, json.dumps(public_payload(world.a.township)), content_type="application/json; charset=utf-8"
    )
    # then
    assert response.status_code == 201


# --- CORS -------------------------------------------------------------------------------------------


def test_no_cors_headers_unless_the_origin_is_configured(world, api):
    # when
    response = api.get("/api/v1/openapi.json", headers={"Origin": "https://evil.example"})
    preflight = api.client.options(
        SUBMIT, HTTP_ORIGIN="https://evil.example", HTTP_ACCESS_CONTROL_REQUEST_METHOD="POST"
    )
    # then
    assert "Access-Control-Allow-Origin" not in response
    assert preflight.status_code == 403 and "Access-Control-Allow-Origin" not in preflight


@override_settings(XINFANG_CORS_ORIGINS=[PARTNER_ORIGIN])
def test_a_configured_origin_gets_cors_headers_and_its_preflight_answered(world, api):
    # when
    preflight = api.client.options(
        SUBMIT,
        HTTP_ORIGIN=PARTNER_ORIGIN,
        HTTP_ACCESS_CONTROL_REQUEST_METHOD="POST",
        HTTP_ACCESS_CONTROL_REQUEST_HEADERS="content-type",
    )
    response = api.post(SUBMIT, public_payload(world.a.township), headers={"Origin": PARTNER_ORIGIN})
    other = api.post(SUBMIT, public_payload(world.a.township), headers={"Origin": "https://evil.example"})
    # then
    assert preflight.status_code == 204
    assert preflight["Access-Control-Allow-Origin"] == PARTNER_ORIGIN
    assert "POST" in preflight["Access-Control-Allow-Methods"]
    assert "Content-Type" in preflight["Access-Control-Allow-Headers"]
    assert response.status_code == 201 and response["Access-Control-Allow-Origin"] == PARTNER_ORIGIN
    assert "Origin" in response["Vary"]
    assert "Access-Control-Allow-Origin" not in other


def test_cors_is_never_added_to_staff_pages(client):
    with override_settings(XINFANG_CORS_ORIGINS=[PARTNER_ORIGIN]):
        response = client.get("/staff/login/", HTTP_ORIGIN=PARTNER_ORIGIN)
    assert "Access-Control-Allow-Origin" not in response


# --- every refusal documented ------------------------------------------------------------------------


def test_every_operation_documents_400_and_every_body_413_and_415(client):
    """Regression: the 400 ``bad_request`` (and now 413, 415) were missing from the schema."""
    # when
    schema = client.get("/api/v1/openapi.json").json()
    # then
    for path, item in schema["paths"].items():
        for method, operation in item.items():
            responses = operation["responses"]
            assert "400" in responses, (path, method)
            if "requestBody" in operation and "application/json" in operation["requestBody"]["content"]:
                assert {"413", "415"} <= set(responses), (path, method)
    assert "/api/v1/portal/captcha" in schema["paths"]
