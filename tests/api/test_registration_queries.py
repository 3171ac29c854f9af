"""The SQL of one registration through the API stays fixed (issue #12 §3)."""

from __future__ import annotations

from .conftest import petition_payload

# One API registration (token, idempotency key, validation, repeat look-up, encryption, petition,
# petitioner, involvement, timeline, deadline record, the petitioner's SMS, the figures' dirty days,
# number, audit, stored response): 35 statements, 8 of them savepoints (the token comes with the
# user, its roles, the organisation and its parent: the scope costs no query).  A new petition's search
# row, deadline record and dirty days are written without reading first (they cannot exist yet).
# The petitioner's SMS (5: template, petitioners, outbox row, its phone copied) is written without
# looking for a duplicate: its key names the registration's own event, new in this transaction.
MAX_QUERIES = 35


def test_one_api_registration_runs_a_fixed_number_of_queries(
    world, api, token_of, django_assert_max_num_queries
):
    token = token_of(world.intake_a)
    api.post("/api/v1/petitions", petition_payload(world.a.township), token=token)  # warm caches
    with django_assert_max_num_queries(MAX_QUERIES):
        response = api.post(
            "/api/v1/petitions",
            petition_payload(world.a.township),
            token=token,
            headers={"Idempotency-Key": "k-1"},
        )
    assert response.status_code == 201
