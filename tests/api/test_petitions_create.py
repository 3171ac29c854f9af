"""``POST /api/v1/petitions``: registration through the service, errors, permissions, idempotency."""

from __future__ import annotations

import pytest

from xinfang.api.models import IdempotencyKey
from xinfang.audit.models import AuditEvent
from xinfang.petitions.models import Category, Petition, Petitioner, PetitionEvent
from xinfang.petitions.services import hash_query_code

from ..factories import make_id_number, make_staff, register
from .conftest import petition_payload

URL = "/api/v1/petitions"


def _counts() -> tuple[int, int, int, int, int]:
    return (
        Petition.objects.count(),
        Petitioner.objects.count(),
        PetitionEvent.objects.count(),
        AuditEvent.objects.count(),
        IdempotencyKey.objects.count(),
    )


def test_intake_clerk_registers_a_petition_for_their_office(world, api, token_of):
    """201 with the petition, the query code (hashed in the database) and a Location header."""
    # given
    token = token_of(world.intake_a)
    # when
    response = api.post(URL, petition_payload(world.a.township), token=token)
    # then
    assert response.status_code == 201
    body = response.json()
    petition = Petition.objects.get(number=body["number"])
    assert petition.office == world.a.office
    assert petition.registered_by == world.intake_a
    assert petition.query_code_hash == hash_query_code(body["query_code"])
    assert body["status"] == "registered"
    assert body["office"]["id"] == world.a.office.pk
    assert body["petitioners"][0]["id_number_mask"].startswith("3301")
    assert "id_number" not in body["petitioners"][0]
    assert response["Location"] == f"/api/v1/petitions/{body['number']}"
    assert AuditEvent.objects.filter(action="petition.register", object_id=str(petition.pk)).count() == 1


def test_category_and_locality_may_be_given_by_code(world, api, token_of):
    # given
    category = Category.objects.get(code="0201")
    payload = petition_payload(world.a.township, category="0201", locality=world.a.township.code)
    # when
    response = api.post(URL, payload, token=token_of(world.intake_a))
    # then
    assert response.status_code == 201, response.json()
    petition = Petition.objects.get(number=response.json()["number"])
    assert petition.category == category
    assert petition.locality == world.a.township


def test_unknown_codes_are_reported_on_their_fields(world, api, token_of):
    # when
    payload = petition_payload(world.a.township, category="nope", locality="000000")
    response = api.post(URL, payload, token=token_of(world.intake_a))
    # then
    assert response.status_code == 422
    assert set(response.json()["error"]["fields"]) == {"category", "locality"}


def test_service_validation_errors_come_back_keyed_by_field_and_nothing_is_stored(world, api, token_of):
    """The service's rules (not the API's) decide; every problem is listed; no row is written."""
    # given
    token = token_of(world.intake_a)
    bad_id = make_id_number()[:-1] + ("0" if make_id_number()[-1] != "0" else "1")
    payload = petition_payload(
        world.a.township,
        channel="fax",
        title="  ",
        received_on="2999-01-01",
        petitioners=[{"name": "张三", "id_number": bad_id[:17] + "Y"}, {"name": "李四", "phone": "12"}],
    )
    before = _counts()
    # when
    response = api.post(URL, payload, token=token, headers={"Idempotency-Key": "attempt-1"})
    # then
    assert response.status_code == 422
    error = response.json()["error"]
    assert error["code"] == "validation_error"
    assert error["message"]
    assert set(error["fields"]) == {
        "channel",
        "title",
        "received_on",
        "petitioners.0.id_number",
        "petitioners.1.phone",
        "headcount",
    }
    assert _counts() == before


def test_checksum_error_message_is_the_services(world, api, token_of):
    # given
    good = make_id_number()
    wrong = good[:17] + ("0" if good[17] != "0" else "1")
    # when
    payload = petition_payload(world.a.township, petitioners=[{"name": "张三", "id_number": wrong}])
    response = api.post(URL, payload, token=token_of(world.intake_a))
    # then
    assert response.json()["error"]["fields"] == {
        "petitioners.0.id_number": ["身份证号码校验位不正确，请核对。"]
    }


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"title": 5}, "title"),
        ({"received_on": "yesterday"}, "received_on"),
        ({"petitioners": [{"nmae": "张三"}]}, "petitioners.0.name"),
        ({"headcount": "many"}, "headcount"),
        ({"colour": "red"}, "colour"),
    ],
)
def test_schema_errors_use_the_same_shape(world, api, token_of, change, field):
    # given
    token = token_of(world.intake_a)
    before = _counts()
    # when
    response = api.post(URL, petition_payload(world.a.township, **change), token=token)
    # then
    assert response.status_code == 422
    error = response.json()["error"]
    assert error["code"] == "validation_error"
    assert field in error["fields"]
    assert all(isinstance(m, str) and m for messages in error["fields"].values() for m in messages)
    assert _counts() == before


def test_unparseable_json_is_400_in_the_error_shape(world, api, token_of):
    response = api.post(URL, "{not json", token=token_of(world.intake_a))
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "bad_request"


# --- permissions ----------------------------------------------------------------------------------


def test_anonymous_is_401(world, api):
    before = _counts()
    response = api.post(URL, petition_payload(world.a.township))
    assert response.status_code == 401
    assert response.json()["error"]["code"] == "unauthorized"
    assert _counts() == before


@pytest.mark.parametrize("who", ["handler_a", "supervisor_a", "leader_a", "secadmin", "sysadmin"])
def test_roles_other_than_intake_are_403(world, api, token_of, who):
    # given
    token = token_of(getattr(world, who))
    before = _counts()
    # when
    response = api.post(URL, petition_payload(world.a.township), token=token)
    # then
    assert response.status_code == 403
    assert response.json()["error"]["code"] == "forbidden"
    assert _counts() == before


def test_county_b_clerk_cannot_register_into_county_a(world, api, token_of):
    """The office is always the caller's own: county B's clerk registers into county B, and cannot
    even name a county-A petition as the original of a repeat (same error as a missing one)."""
    # given
    original = register(world.a.office, world.intake_a, world.a.township).petition
    token = token_of(world.intake_b)
    # when
    own = api.post(URL, petition_payload(world.a.township), token=token)
    linked = api.post(URL, petition_payload(world.a.township, repeat_of=original.number), token=token)
    missing = api.post(
        URL, petition_payload(world.a.township, repeat_of="XF-000000-2000-000001"), token=token
    )
    # then
    assert own.status_code == 201
    assert Petition.objects.get(number=own.json()["number"]).office == world.b.office
    assert linked.status_code == missing.status_code == 422
    assert linked.json() == missing.json()
    assert set(linked.json()["error"]["fields"]) == {"repeat_of"}


def test_repeat_of_within_scope_links_the_petition(world, api, token_of):
    # given
    original = register(world.a.office, world.intake_a, world.a.township).petition
    # when
    response = api.post(
        URL, petition_payload(world.a.township, repeat_of=original.number), token=token_of(world.intake_a)
    )
    # then
    assert response.status_code == 201
    assert response.json()["repeat_of"] == original.number
    assert response.json()["is_repeat"] is True


def test_possible_repeats_of_the_same_person_are_listed(world, api, token_of):
    # given
    id_number = make_id_number()
    person = [{"name": "张三", "id_number": id_number}]
    token = token_of(world.intake_a)
    first = api.post(URL, petition_payload(world.a.township, petitioners=person), token=token).json()
    # when
    second = api.post(URL, petition_payload(world.a.township, petitioners=person), token=token).json()
    # then
    assert first["possible_repeats"] == []
    assert [p["number"] for p in second["possible_repeats"]] == [first["number"]]


# --- idempotency ------------------------------------------------------------------------------------


def test_same_idempotency_key_twice_registers_once_and_replays_the_first_response(world, api, token_of):
    # given
    token = token_of(world.intake_a)
    payload = petition_payload(world.a.township)
    # when
    first = api.post(URL, payload, token=token, headers={"Idempotency-Key": "order-42"})
    second = api.post(URL, payload, token=token, headers={"Idempotency-Key": "order-42"})
    # then
    assert first.status_code == second.status_code == 201
    assert first.content == second.content
    assert second["Idempotent-Replayed"] == "true"
    assert "Idempotent-Replayed" not in first
    assert Petition.objects.count() == 1
    assert AuditEvent.objects.filter(action="petition.register").count() == 1


def test_stored_response_does_not_hold_the_query_code_in_clear(world, api, token_of):
    # when
    body = api.post(
        URL,
        petition_payload(world.a.township),
        token=token_of(world.intake_a),
        headers={"Idempotency-Key": "k"},
    ).json()
    # then
    stored = IdempotencyKey.objects.get()
    assert body["query_code"] not in str(stored.response)
    assert body["number"] not in str(stored.response)


def test_idempotency_keys_are_per_user(world, api, token_of):
    """Another clerk's identical key is another request: it registers, it never sees the first."""
    # given
    clerk2 = make_staff("intake_a2", world.a.office, "intake")
    payload = petition_payload(world.a.township)
    # when
    first = api.post(URL, payload, token=token_of(world.intake_a), headers={"Idempotency-Key": "same"})
    second = api.post(URL, payload, token=token_of(clerk2), headers={"Idempotency-Key": "same"})
    # then
    assert first.status_code == second.status_code == 201
    assert first.json()["number"] != second.json()["number"]


def test_reusing_a_key_with_a_different_body_is_refused(world, api, token_of):
    # given
    token = token_of(world.intake_a)
    api.post(URL, petition_payload(world.a.township), token=token, headers={"Idempotency-Key": "k1"})
    before = _counts()
    # when
    response = api.post(
        URL,
        petition_payload(world.a.township, title="另一件事"),
        token=token,
        headers={"Idempotency-Key": "k1"},
    )
    # then
    assert response.status_code == 422
    assert response.json()["error"]["code"] == "idempotency_conflict"
    assert _counts() == before


def test_a_failed_request_stores_no_key_and_its_retry_runs(world, api, token_of):
    # given
    token = token_of(world.intake_a)
    api.post(
        URL, petition_payload(world.a.township, title=""), token=token, headers={"Idempotency-Key": "k2"}
    )
    assert not IdempotencyKey.objects.exists()
    # when
    response = api.post(
        URL, petition_payload(world.a.township), token=token, headers={"Idempotency-Key": "k2"}
    )
    # then
    assert response.status_code == 201
    assert "Idempotent-Replayed" not in response


@pytest.mark.parametrize("key", ["with space", "x" * 101, "中文"])
def test_malformed_idempotency_key_is_a_validation_error(world, api, token_of, key):
    # when
    response = api.client.post(
        URL,
        petition_payload(world.a.township),
        content_type="application/json",
        HTTP_AUTHORIZATION=f"Bearer {token_of(world.intake_a)}",
        HTTP_IDEMPOTENCY_KEY=key,
    )
    # then
    assert response.status_code == 422
    assert "Idempotency-Key" in response.json()["error"]["fields"]
    assert not Petition.objects.exists()


def test_report_against_the_clerks_own_government_stays_with_the_registering_office(world, api, token_of):
    """A confidential report against the county government is kept by the office that registered
    it (it is in the handling chain) but hidden from the rest of the accused government."""
    # given
    payload = petition_payload(world.a.township, purpose="report", subject_organisation=world.a.government.pk)
    # when
    response = api.post(URL, payload, token=token_of(world.intake_a))
    # then
    assert response.status_code == 201
    number = response.json()["number"]
    assert api.get(f"{URL}/{number}", token=token_of(world.intake_a)).status_code == 200
    assert api.get(f"{URL}/{number}", token=token_of(world.leader_a)).status_code == 404
