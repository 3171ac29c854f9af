"""``/api/v1/portal/petitions``: public submission and tracking — only public fields, throttled."""

from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError
from django.test import Client, override_settings
from django.utils import timezone

from xinfang.audit.models import AuditEvent
from xinfang.petitions.choices import EventKind
from xinfang.petitions.models import Petition, Petitioner, PetitionEvent
from xinfang.portal.services import Throttled, TrackingFailed, submit_public_petition, track_petition

from ..factories import make_draft, register
from .conftest import public_payload

SUBMIT = "/api/v1/portal/petitions"


def track_url(number: str) -> str:
    return f"/api/v1/portal/petitions/{number}"


def _counts() -> tuple[int, int, int]:
    return Petition.objects.count(), Petitioner.objects.count(), AuditEvent.objects.count()


# --- submit -----------------------------------------------------------------------------------------


def test_citizen_submits_without_login_and_gets_number_and_code(world, api):
    """The channel is online, the date today, the office that of the locality (属地管理)."""
    # when
    response = api.post(SUBMIT, public_payload(world.a.township))
    # then
    assert response.status_code == 201
    body = response.json()
    assert set(body) == {"number", "query_code"}
    petition = Petition.objects.get(number=body["number"])
    assert petition.channel == "online"
    assert petition.received_on == timezone.localdate()
    assert petition.office == world.a.office
    assert petition.registered_by is None


def test_portal_post_needs_no_csrf_token(world):
    """Integrations post JSON without cookies; there is no session to forge a request with."""
    csrf_client = Client(enforce_csrf_checks=True)
    response = csrf_client.post(SUBMIT, public_payload(world.a.township), content_type="application/json")
    assert response.status_code == 201


@pytest.mark.parametrize("field", ["channel", "received_on", "repeat_of"])
def test_staff_only_fields_are_refused(world, api, field):
    # given
    before = _counts()
    # when
    response = api.post(SUBMIT, public_payload(world.a.township, **{field: "letter"}))
    # then
    assert response.status_code == 422
    assert field in response.json()["error"]["fields"]
    assert _counts() == before


def test_locality_without_a_petition_office_is_a_field_error(world, api):
    """The province has no petition office of its own in the test tree: nobody could receive it."""
    # given
    before = _counts()
    # when
    response = api.post(SUBMIT, public_payload(world.province, title=""))
    # then
    assert response.status_code == 422
    fields = response.json()["error"]["fields"]
    assert set(fields) == {"locality", "title"}  # the other problems are reported too
    assert _counts() == before


def test_invalid_submission_stores_nothing(world, api):
    # given
    before = _counts()
    bad = public_payload(world.a.township, petitioners=[{"name": "张三", "id_number": "110101199003071234"}])
    # when
    response = api.post(SUBMIT, bad)
    # then
    assert response.status_code == 422
    assert "petitioners.0.id_number" in response.json()["error"]["fields"]
    assert _counts() == before


@override_settings(XINFANG_PORTAL_SUBMIT_RATE="2/3600")
def test_submissions_are_rate_limited_per_address(world, api):
    # given
    assert api.post(SUBMIT, public_payload(world.a.township)).status_code == 201
    assert api.post(SUBMIT, public_payload(world.a.township)).status_code == 201
    # when
    response = api.post(SUBMIT, public_payload(world.a.township))
    # then
    assert response.status_code == 429
    assert response.json()["error"]["code"] == "throttled"
    assert int(response["Retry-After"]) > 0
    assert Petition.objects.count() == 2
    other = api.client.post(
        SUBMIT, public_payload(world.a.township), content_type="application/json", REMOTE_ADDR="10.9.9.9"
    )
    assert other.status_code == 201


# --- track ------------------------------------------------------------------------------------------


@pytest.fixture
def submitted(world, api):
    body = api.post(SUBMIT, public_payload(world.a.township)).json()
    petition = Petition.objects.get(number=body["number"])
    # staff work on it: an internal comment by a named clerk, and a public step
    PetitionEvent.objects.create(
        petition=petition,
        kind=EventKind.REPEAT_LINKED,
        actor=world.intake_a,
        organisation=world.a.office,
        comment="内部：此人多次上访，注意稳控",
        data={"repeat_of": "XF-990101-2026-999999"},
    )
    return body["number"], body["query_code"], petition


def test_tracking_shows_status_and_public_timeline_only(world, api, submitted):
    # given
    number, code, petition = submitted
    person = petition.petitioners.get()
    # when
    response = api.get(track_url(number), code=code)
    # then
    assert response.status_code == 200
    body = response.json()
    assert set(body) == {"number", "status", "status_label", "events", "steps", "letters", "appeals",
                         "windows", "allowed_actions", "merged_into", "supervised"}  # fmt: skip
    assert body["merged_into"] == ""  # only a merged petition names the one it went into
    assert body["supervised"] is False  # "上级机关已督办" only when an office published its supervision
    assert body["allowed_actions"] == ["withdraw"]
    assert body["letters"] == body["appeals"] == []
    assert body["status"] == "registered"
    assert [e["kind"] for e in body["events"]] == ["registered"]
    assert set(body["events"][0]) == {"at", "kind", "kind_label", "note"}
    text = response.content.decode()
    for secret in ("内部", "稳控", "intake_a", person.name, person.id_number, person.phone, "999999"):
        assert secret not in text


def test_code_is_accepted_in_any_case_and_without_dashes(world, api, submitted):
    number, code, _petition = submitted
    assert api.get(track_url(number.lower()), code=code.replace("-", "").lower()).status_code == 200


def test_wrong_code_and_unknown_number_are_the_same_404(world, api, submitted):
    number, code, _petition = submitted
    other = register(world.b.office, world.intake_b, world.b.township)
    # when
    wrong = api.get(track_url(number), code="AAAA-BBBB-CCCC")
    unknown = api.get(track_url("XF-990101-2026-424242"), code=code)
    someone_elses = api.get(track_url(other.petition.number), code=code)
    # then
    assert wrong.status_code == unknown.status_code == someone_elses.status_code == 404
    assert wrong.content == unknown.content == someone_elses.content
    assert wrong.json()["error"]["code"] == "not_found"


@override_settings(XINFANG_PORTAL_TRACK_FAILURE_RATE="3/900")
def test_repeated_failures_are_throttled_even_for_the_right_code(world, api, submitted):
    # given
    number, code, _petition = submitted
    for _ in range(3):
        assert api.get(track_url(number), code="WRONG").status_code == 404
    # when
    response = api.get(track_url(number), code=code)
    # then
    assert response.status_code == 429
    assert response.json()["error"]["code"] == "throttled"
    assert api.client.get(track_url(number), {"code": code}, REMOTE_ADDR="10.8.8.8").status_code == 200


def test_successes_do_not_count_against_the_failure_limit(world, api, submitted):
    number, code, _petition = submitted
    with override_settings(XINFANG_PORTAL_TRACK_FAILURE_RATE="1/900"):
        for _ in range(5):
            assert api.get(track_url(number), code=code).status_code == 200


def test_missing_code_is_a_validation_error(world, api, submitted):
    number, _code, _petition = submitted
    response = api.get(track_url(number))
    assert response.status_code == 422
    assert "code" in response.json()["error"]["fields"]


# --- the shared services, as the portal pages call them -----------------------------------------------


def test_services_force_the_public_fields(world):
    # given: a draft that tries to pass as a letter from last year, linked to another petition
    earlier = register(world.a.office, world.intake_a, world.a.township).petition
    draft = make_draft(
        world.a.township,
        channel="letter",
        received_on=timezone.localdate().replace(year=timezone.localdate().year - 1),
        repeat_of_number=earlier.number,
    )
    # when
    registration = submit_public_petition(draft=draft, ip="10.0.0.1")
    # then
    petition = registration.petition
    assert (petition.channel, petition.received_on, petition.repeat_of) == (
        "online",
        timezone.localdate(),
        None,
    )
    view = track_petition(number=petition.number, code=registration.query_code, ip="10.0.0.1")
    assert view.number == petition.number
    assert [e.kind for e in view.events] == ["registered"]


def test_service_failures_raise_one_exception_type(world):
    reg = register(world.a.office, world.intake_a, world.a.township)
    with pytest.raises(TrackingFailed):
        track_petition(number=reg.petition.number, code="nope", ip="10.0.0.2")
    with pytest.raises(TrackingFailed):
        track_petition(number="nope", code=reg.query_code, ip="10.0.0.2")
    with pytest.raises(TrackingFailed):
        track_petition(number="X" * 500, code=reg.query_code, ip="10.0.0.2")
    with override_settings(XINFANG_PORTAL_TRACK_FAILURE_RATE="3/900"), pytest.raises(Throttled) as excinfo:
        track_petition(number=reg.petition.number, code=reg.query_code, ip="10.0.0.2")
    assert excinfo.value.retry_after > 0


def test_every_submission_attempt_counts_even_an_invalid_one(world):
    """The limit guards the database as well as the in-trays, so invalid attempts count too."""
    with override_settings(XINFANG_PORTAL_SUBMIT_RATE="1/60"):
        with pytest.raises(ValidationError):
            submit_public_petition(draft=make_draft(world.a.township, petitioners=[]), ip="10.0.0.3")
        with pytest.raises(Throttled):
            submit_public_petition(draft=make_draft(world.a.township), ip="10.0.0.3")
    assert Petition.objects.count() == 0


def test_tracking_by_post_keeps_the_code_out_of_the_url(world, api, submitted):
    number, code, _petition = submitted
    by_post = api.post(track_url(number) + "/track", {"code": code})
    assert by_post.status_code == 200
    assert by_post.json() == api.get(track_url(number), code=code).json()
    wrong = api.post(track_url(number) + "/track", {"code": "AAAA-BBBB-CCCC"})
    unknown = api.post(track_url("XF-990101-2026-424242") + "/track", {"code": code})
    assert wrong.status_code == unknown.status_code == 404 and wrong.content == unknown.content
    assert api.post(track_url(number) + "/track", {}).status_code == 422


@override_settings(XINFANG_PORTAL_TRACK_FAILURE_RATE="2/900")
def test_tracking_by_post_shares_the_failure_throttle(world, api, submitted):
    number, code, _petition = submitted
    api.post(track_url(number) + "/track", {"code": "AAAA-BBBB-CCCC"})
    api.get(track_url(number), code="AAAA-BBBB-CCCC")
    assert api.post(track_url(number) + "/track", {"code": code}).status_code == 429
