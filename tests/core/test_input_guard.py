"""Bad input gets a clear 4xx, never a 500 (issue #7, point 26): NUL characters on every kind of
route, integers beyond the database's range, oversized bodies.

The NUL cases matter on PostgreSQL, which cannot hold ``\\x00`` in text (on SQLite most of them
passed by accident); they run on both databases and must answer 400 on both.
"""

from __future__ import annotations

import json

import pytest
from django.test import Client
from django.urls import reverse

from xinfang.api.services import obtain_token

from ..factories import PASSWORD, leaf_category, register

NUL = "\x00"
BIG = str(2**64)


@pytest.fixture
def petition(world):
    return register(world.a.office, world.intake_a, world.a.township).petition


@pytest.fixture
def token(world):
    return obtain_token(username=world.intake_a.username, password=PASSWORD, ip="127.0.0.9").token


def _json(client: Client, path: str, body: object, token: str | None = None, method: str = "post"):
    extra = {"HTTP_AUTHORIZATION": f"Bearer {token}"} if token else {}
    return getattr(client, method)(path, json.dumps(body), content_type="application/json", **extra)


def _petition_body(world, **overrides):
    body = {
        "channel": "letter",
        "purpose": "complaint",
        "title": "拖欠工资",
        "content": "某建筑工地拖欠我们二十多名农民工工资，多次讨要未果。",
        "category": leaf_category().pk,
        "locality": world.a.township.pk,
        "received_on": "2026-01-05",
        "petitioners": [{"name": "张三", "phone": "13812345678"}],
    }
    body.update(overrides)
    return body


# Each route: (name, function(client, world, petition, token) -> response).  Ten routes of the
# trial's report plus the other doors of the same kinds.
NUL_ROUTES = {
    "api create: title": lambda c, w, p, t: _json(
        c, "/api/v1/petitions", _petition_body(w, title="a" + NUL), t
    ),
    "api create: petitioner name": lambda c, w, p, t: _json(
        c, "/api/v1/petitions", _petition_body(w, petitioners=[{"name": "张" + NUL}]), t
    ),
    "api create: category code": lambda c, w, p, t: _json(
        c, "/api/v1/petitions", _petition_body(w, category="02" + NUL), t
    ),
    "api create: locality code": lambda c, w, p, t: _json(
        c, "/api/v1/petitions", _petition_body(w, locality="99" + NUL), t
    ),
    "api create: repeat_of": lambda c, w, p, t: _json(
        c, "/api/v1/petitions", _petition_body(w, repeat_of="XF" + NUL), t
    ),
    "api create: idempotency key": lambda c, w, p, t: c.post(
        "/api/v1/petitions",
        json.dumps(_petition_body(w)),
        content_type="application/json",
        HTTP_AUTHORIZATION=f"Bearer {t}",
        HTTP_IDEMPOTENCY_KEY="k" + NUL,
    ),
    "api list: q": lambda c, w, p, t: c.get(
        "/api/v1/petitions", {"q": "a" + NUL}, HTTP_AUTHORIZATION=f"Bearer {t}"
    ),
    "api list: category_code": lambda c, w, p, t: c.get(
        "/api/v1/petitions", {"category_code": "0" + NUL}, HTTP_AUTHORIZATION=f"Bearer {t}"
    ),
    "api detail: number": lambda c, w, p, t: c.get(
        "/api/v1/petitions/XF%00", HTTP_AUTHORIZATION=f"Bearer {t}"
    ),
    "api action: unit": lambda c, w, p, t: _json(
        c, f"/api/v1/petitions/{p.number}/actions/forward", {"unit": "x" + NUL}, t
    ),
    "api action: merge into": lambda c, w, p, t: _json(
        c, f"/api/v1/petitions/{p.number}/actions/merge", {"into": "XF" + NUL}, t
    ),
    "api token: username": lambda c, w, p, t: _json(
        c, "/api/v1/auth/token", {"username": "intake_a" + NUL, "password": "x"}
    ),
    "api portal track: code": lambda c, w, p, t: _json(
        c, f"/api/v1/portal/petitions/{p.number}/track", {"code": "AB" + NUL}
    ),
    "api portal track: number": lambda c, w, p, t: _json(
        c, "/api/v1/portal/petitions/XF%00/track", {"code": "AB"}
    ),
    "api portal get: code": lambda c, w, p, t: c.get(f"/api/v1/portal/petitions/{p.number}", {"code": NUL}),
    "api portal submit: title": lambda c, w, p, t: _json(
        c, "/api/v1/portal/petitions", {**_petition_body(w, title=NUL), "channel": None}
    ),
    "staff login: username": lambda c, w, p, t: c.post(
        reverse("login"), {"username": "intake_a" + NUL, "password": PASSWORD}
    ),
    "staff queue: q": lambda c, w, p, t: _logged_in(c, w).get(reverse("petitions:queue"), {"q": "a" + NUL}),
    "staff queue: category": lambda c, w, p, t: _logged_in(c, w).get(
        reverse("petitions:queue"), {"category_code": NUL}
    ),
    "staff detail: number": lambda c, w, p, t: _logged_in(c, w).get("/staff/petitions/XF%00/"),
    "portal track: code": lambda c, w, p, t: c.post(
        reverse("portal:track"), {"number": p.number, "code": NUL}
    ),
    "portal track: number": lambda c, w, p, t: c.post(reverse("portal:track"), {"number": NUL, "code": "x"}),
    "portal petition: number": lambda c, w, p, t: c.get("/portal/track/XF%00/"),
}


def _logged_in(client: Client, world) -> Client:
    client.force_login(world.intake_a)
    return client


@pytest.mark.parametrize("route", sorted(NUL_ROUTES))
def test_nul_character_is_refused_with_400_on_every_route(client, world, petition, token, route):
    """Regression, issue #7 point 26: a NUL anywhere is a 400 with a Chinese message, not a 500."""
    # when
    response = NUL_ROUTES[route](client, world, petition, token)
    # then
    assert response.status_code == 400, (route, response.status_code, response.content[:300])
    text = response.content.decode()
    assert "空字符" in text
    if route.startswith("api"):
        assert response.json()["error"]["code"] == "bad_request"


def test_escaped_backslash_before_u0000_is_not_a_nul(client, world, token):
    """``\\\\u0000`` in JSON is the text "\\u0000" (six characters), which is allowed."""
    # when
    body = json.dumps(_petition_body(world, title="路径 \\u0000 说明"))
    response = client.post(
        "/api/v1/petitions", body, content_type="application/json", HTTP_AUTHORIZATION=f"Bearer {token}"
    )
    # then
    assert response.status_code == 201, response.content[:300]


@pytest.mark.parametrize(
    "params",
    [
        {"offset": BIG},
        {"category": BIG},
        {"offset": str(2**63)},
        {"category": str(-(2**63) - 1)},
        {"limit": BIG},
    ],
)
def test_integers_beyond_the_database_range_are_a_422(client, world, token, params):
    """Regression, issue #7 point 26: integers above 2^63 in list filters gave a 500."""
    # when
    response = client.get("/api/v1/petitions", params, HTTP_AUTHORIZATION=f"Bearer {token}")
    # then
    assert response.status_code == 422, response.content[:300]
    error = response.json()["error"]
    assert error["code"] == "validation_error"
    assert set(error["fields"]) == set(params)


@pytest.mark.parametrize(
    "overrides",
    [
        {"category": 2**64},
        {"locality": 2**64},
        {"headcount": 2**64},
        {"subject_organisation": 2**64},
    ],
)
def test_integers_beyond_the_database_range_in_a_body_are_a_422(client, world, token, overrides):
    # when
    response = _json(client, "/api/v1/petitions", _petition_body(world, **overrides), token)
    # then
    assert response.status_code == 422, response.content[:300]
    assert set(response.json()["error"]["fields"]) == set(overrides)


def test_huge_unit_id_in_an_action_is_a_422(client, world, petition, token):
    # when
    response = _json(client, f"/api/v1/petitions/{petition.number}/actions/forward", {"unit": 2**70}, token)
    # then
    assert response.status_code == 422, response.content[:300]


def test_a_50_megabyte_json_body_gets_413(client, world, token):
    """Regression, issue #7 point 26: a 50 MB JSON body gave a 500 (RequestDataTooBig)."""
    # given
    body = json.dumps(_petition_body(world, content="长" * (50 * 1024 * 1024 // 3)))
    # when
    response = client.post(
        "/api/v1/petitions", body, content_type="application/json", HTTP_AUTHORIZATION=f"Bearer {token}"
    )
    # then
    assert response.status_code == 413
    assert response.json()["error"]["code"] == "payload_too_large"


def test_an_oversized_form_body_gets_413(client, world):
    # when
    response = client.post(
        reverse("portal:track"),
        "number=" + "x" * (31 * 1024 * 1024),
        content_type="application/x-www-form-urlencoded",
    )
    # then
    assert response.status_code == 413
