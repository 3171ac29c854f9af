"""Fixtures for the API tests: a JSON client and bearer tokens."""

from __future__ import annotations

import json
from typing import Any

import pytest
from django.test import Client

from xinfang.api.services import obtain_token
from xinfang.organisations.models import User
from xinfang.petitions.models import Category

from ..factories import PASSWORD, make_id_number


class ApiClient:
    """A thin JSON wrapper around Django's test client."""

    def __init__(self, client: Client) -> None:
        self.client = client

    @staticmethod
    def _headers(token: str | None, headers: dict[str, str] | None) -> dict[str, str]:
        extra = {f"HTTP_{k.upper().replace('-', '_')}": v for k, v in (headers or {}).items()}
        if token:
            extra["HTTP_AUTHORIZATION"] = f"Bearer {token}"
        return extra

    def get(
        self, path: str, *, token: str | None = None, headers: dict[str, str] | None = None, **params: Any
    ):
        return self.client.get(path, params, **self._headers(token, headers))

    def post(self, path: str, body: Any, *, token: str | None = None, headers: dict[str, str] | None = None):
        data = body if isinstance(body, str | bytes) else json.dumps(body)
        return self.client.post(path, data, content_type="application/json", **self._headers(token, headers))

    def delete(self, path: str, *, token: str | None = None):
        return self.client.delete(path, **self._headers(token, None))


@pytest.fixture
def api(client) -> ApiClient:
    return ApiClient(client)


@pytest.fixture
def token_of(db):
    """``token_of(user)``: a bearer token for a staff member, obtained by password as a person would."""
    cache_: dict[int, str] = {}

    def make(user: User) -> str:
        if user.pk not in cache_:
            cache_[user.pk] = obtain_token(username=user.username, password=PASSWORD, ip="127.0.0.9").token
        return cache_[user.pk]

    return make


def petition_payload(area: Any, /, **overrides: Any) -> dict[str, Any]:
    """A valid JSON body for ``POST /api/v1/petitions``."""
    from django.utils import timezone

    category = Category.objects.filter(parent__isnull=False).order_by("code").first()
    body: dict[str, Any] = {
        "channel": "letter",
        "purpose": "complaint",
        "title": "拖欠农民工工资",
        "content": "某建筑工地拖欠我们二十多名农民工工资共计三十万元，多次讨要未果，请求协调解决。",
        "category": category.pk,
        "locality": area.pk,
        "received_on": timezone.localdate().isoformat(),
        "petitioners": [
            {
                "name": "张三",
                "id_number": make_id_number(),
                "phone": "13812345678",
                "address": "城关镇幸福路1号",
            }
        ],
    }
    body.update(overrides)
    return body


def public_payload(area: Any, /, **overrides: Any) -> dict[str, Any]:
    """A valid JSON body for ``POST /api/v1/portal/petitions``, with the CAPTCHA answer that the
    test settings' CAPTCHA_TEST_MODE accepts (tests/api/test_public_surface.py solves real ones)."""
    body = petition_payload(area)
    for staff_only in ("channel", "received_on"):
        body.pop(staff_only)
    body.update({"captcha_key": "test", "captcha": "PASSED"})
    body.update(overrides)
    return body


@pytest.fixture
def no_document_approval(world):
    """Every organisation issues its decision letters and review and recheck opinions without a
    leader's approval (``KindSetting``), so the ``reply``/``review``/``recheck`` actions issue the
    document at once and answer 200 as before issue #10; without this fixture they answer 202."""
    from xinfang.documents.kinds import default_prefix
    from xinfang.documents.models import KindSetting
    from xinfang.organisations.models import Organisation

    for organisation in Organisation.objects.all():
        for kind in ("decision_letter", "review_opinion", "recheck_opinion"):
            KindSetting.objects.update_or_create(
                organisation=organisation, kind=kind,
                defaults={"prefix": default_prefix(organisation, kind), "requires_approval": False},
            )  # fmt: skip
