"""``/api/v1/notifications``: the caller's own notifications only; anonymous callers get 401."""

from __future__ import annotations

import pytest

from xinfang.notifications.models import Notification
from xinfang.notifications.services import notify

pytestmark = pytest.mark.django_db


def test_list_only_own_with_unread_filter_and_pagination(api, world, token_of):
    for i in range(3):
        notify([world.handler_a], kind="assign", title=f"新交办件{i}")
    notify([world.intake_a], kind="returned", title="别人的消息")
    first = Notification.objects.filter(user=world.handler_a).order_by("pk").first()
    Notification.objects.filter(pk=first.pk).update(read_at=first.created_at)
    token = token_of(world.handler_a)
    body = api.get("/api/v1/notifications", token=token, limit=2).json()
    assert body["count"] == 3 and body["unread"] == 2 and len(body["results"]) == 2
    assert all(r["read_at"] is None for r in body["results"])  # unread first
    assert "别人的消息" not in str(body)
    body = api.get("/api/v1/notifications", token=token, unread="true").json()
    assert body["count"] == 2
    body = api.get("/api/v1/notifications", token=token, offset=2).json()
    assert [r["title"] for r in body["results"]] == ["新交办件0"]


def test_mark_read_ids_and_all_never_anothers(api, world, token_of):
    notify([world.handler_a], kind="k", title="一")
    notify([world.handler_a], kind="k", title="二")
    notify([world.intake_a], kind="k", title="三")
    mine = list(Notification.objects.filter(user=world.handler_a).values_list("pk", flat=True))
    theirs = Notification.objects.get(user=world.intake_a).pk
    token = token_of(world.handler_a)
    response = api.post("/api/v1/notifications/read", {"ids": [mine[0], theirs]}, token=token)
    assert response.status_code == 200 and response.json() == {"marked": 1, "unread": 1}
    assert Notification.objects.get(pk=theirs).read_at is None
    response = api.post("/api/v1/notifications/read", {"all": True}, token=token)
    assert response.json() == {"marked": 1, "unread": 0}
    assert Notification.objects.get(pk=theirs).read_at is None


def test_refusals(api, world, token_of):
    response = api.get("/api/v1/notifications")
    assert response.status_code == 401 and response.json()["error"]["code"]
    response = api.post("/api/v1/notifications/read", {"all": True})
    assert response.status_code == 401
    token = token_of(world.handler_a)
    for bad in ({}, {"ids": [1], "all": True}, {"ids": [1], "extra": 1}, {"ids": [2**63]}):
        response = api.post("/api/v1/notifications/read", bad, token=token)
        assert response.status_code == 422, bad
        assert response.json()["error"]["code"] == "validation_error"
    assert api.get("/api/v1/notifications", token=token, limit=0).status_code == 422
