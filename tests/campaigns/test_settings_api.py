"""``/api/v1/campaigns/backlog/rule`` and ``/api/v1/campaigns/categories``: the settings page's rule
(own, inherited or default) and resolution categories — allowed, refused (403), bad input (422),
audited, and not taken for a campaign id."""

from __future__ import annotations

import pytest

from xinfang.audit.models import AuditEvent
from xinfang.campaigns.models import DEFAULT_CATEGORIES, ResolutionCategory

from ..api.conftest import ApiClient
from .test_api import token

pytestmark = pytest.mark.django_db

RULE = "/api/v1/campaigns/backlog/rule"
CATEGORIES = "/api/v1/campaigns/categories"
STRICT = {"overdue_enabled": True, "overdue_days": 10, "repeat_enabled": False, "repeat_count": 2,
          "concluded_enabled": True}  # fmt: skip


@pytest.fixture
def api(client):
    return ApiClient(client)


def put(client, body, user):
    import json

    return client.put(
        RULE, json.dumps(body), content_type="application/json", HTTP_AUTHORIZATION=f"Bearer {token(user)}"
    )


def test_rule_default_inherited_own(client, api, world):
    clerk = token(world.intake_a)
    default = api.get(RULE, token=clerk)
    assert default.status_code == 200, default.content
    assert default.json()["source"] == "default" and default.json()["overdue_days"] == 30
    assert default.json()["area"]["id"] == world.a.government.pk and default.json()["updated_by"] is None
    # a clerk may read the rule but not set it
    refused = put(client, STRICT, world.intake_a)
    assert refused.status_code == 403 and refused.json()["error"]["code"] == "forbidden"
    # the city sets its rule: county A inherits it
    city = put(client, STRICT, world.city_supervisor)
    assert (
        city.status_code == 200
        and city.json()["source"] == "own"
        and city.json()["area"]["id"] == world.city.pk
    )
    inherited = api.get(RULE, token=clerk).json()
    assert inherited["source"] == "inherited" and inherited["inherited_from"]["id"] == world.city.pk
    assert inherited["overdue_days"] == 10 and not inherited["repeat_enabled"]
    # county A sets its own
    own = put(client, {**STRICT, "overdue_days": 60}, world.supervisor_a).json()
    assert (
        own["source"] == "own"
        and own["overdue_days"] == 60
        and own["updated_by"]["id"] == world.supervisor_a.pk
    )
    assert "超过办理时限60天以上" in own["text"]
    assert AuditEvent.objects.filter(action="campaigns.rule_saved").count() == 2


def test_rule_refusals(client, api, world):
    too_big = put(client, {**STRICT, "overdue_days": 5000}, world.supervisor_a)
    assert too_big.status_code == 422 and too_big.json()["error"]["fields"]["overdue_days"] == ["数值过大。"]
    missing = put(client, {"overdue_enabled": True}, world.supervisor_a)
    assert missing.status_code == 422 and "repeat_count" in missing.json()["error"]["fields"]
    assert put(client, {**STRICT, "extra": 1}, world.supervisor_a).status_code == 422
    assert api.get(RULE, token=token(world.auditor)).status_code == 403  # not casework
    assert not AuditEvent.objects.filter(action="campaigns.rule_saved").exists()


def test_categories(api, world):
    clerk = token(world.intake_a)
    listed = api.get(CATEGORIES, token=clerk)
    assert listed.status_code == 200, listed.content
    assert [c["name"] for c in listed.json()["results"]] == list(DEFAULT_CATEGORIES)
    refused = api.post(CATEGORIES, {"name": "督查一批"}, token=clerk)
    assert refused.status_code == 403
    sup = token(world.supervisor_a)
    key = {"Idempotency-Key": "c-1"}
    added = api.post(CATEGORIES, {"name": "督查一批"}, token=sup, headers=key)
    assert added.status_code == 201 and added.json()["name"] == "督查一批"
    replay = api.post(CATEGORIES, {"name": "督查一批"}, token=sup, headers=key)
    assert replay.status_code == 201 and replay["Idempotent-Replayed"] == "true"
    assert ResolutionCategory.objects.filter(name="督查一批").count() == 1
    twice = api.post(CATEGORIES, {"name": "督查一批"}, token=sup)
    assert twice.status_code == 422 and twice.json()["error"]["fields"]["name"] == ["已有同名的化解类别。"]
    blank = api.post(CATEGORIES, {"name": " "}, token=sup)
    assert blank.status_code == 422 and "name" in blank.json()["error"]["fields"]
    assert api.post(CATEGORIES, {"name": "x" * 31}, token=sup).status_code == 422
    assert AuditEvent.objects.filter(action="campaigns.category_added").count() == 1
    names = [c["name"] for c in api.get(CATEGORIES, token=clerk).json()["results"]]
    assert names[-1] == "督查一批" and len(names) == 6
    # another county has its own set
    other = api.get(CATEGORIES, token=token(world.intake_b)).json()
    assert other["area"]["id"] == world.b.government.pk and "督查一批" not in [
        c["name"] for c in other["results"]
    ]
