"""Panels of work that is not a petition (core.worklists): a provider registered by an app shows
its count, rows and links on the workbench of the user it concerns, and nothing for others."""

from __future__ import annotations

import datetime as dt

import pytest
from django.urls import reverse

from xinfang.core import worklists

pytestmark = pytest.mark.django_db


@pytest.fixture
def provider(world):
    def panels(user, today):
        if user != world.leader_a:
            return [worklists.WorkPanel(key="empty", label="空", reason="", count=0)]
        items = [
            worklists.WorkItem(
                "拖欠工资案",
                "/x/1/",
                reason="包案领导",
                reference="BA-1",
                due_on=today - dt.timedelta(days=2),
            ),
            worklists.WorkItem("征地补偿", "/x/2/", reference="BA-2", due_on=today + dt.timedelta(days=3)),
        ]
        return [
            worklists.WorkPanel(
                "contracts-test",
                "我包案的",
                "您是这些案件的包案领导。",
                7,
                items,
                "/x/",
                "/x.xlsx",
                alert=True,
            )
        ]

    worklists.register("test", panels)
    yield
    worklists._PROVIDERS.pop("test")


def test_a_panel_shows_its_rows_and_links(client, world, provider):
    client.force_login(world.leader_a)
    html = client.get(reverse("workbench:home")).content.decode()
    assert 'id="panel-contracts-test"' in html and 'id="count-panel-contracts-test"' in html
    assert "拖欠工资案" in html and "超期2天" in html and "剩3天" in html
    assert "查看全部 7 项" in html and 'href="/x.xlsx"' in html


def test_empty_panels_and_other_users_show_nothing(client, world, provider):
    client.force_login(world.handler_a)
    html = client.get(reverse("workbench:home")).content.decode()
    assert "panel-" not in html


def test_the_worklist_api_lists_the_panels(client, world, provider):
    from xinfang.api.services import obtain_token

    from ..factories import PASSWORD

    token = obtain_token(username=world.leader_a.username, password=PASSWORD, ip="127.0.0.9").token
    response = client.get("/api/v1/worklist", {"limit": 1}, HTTP_AUTHORIZATION=f"Bearer {token}")
    assert response.status_code == 200
    [panel] = response.json()["panels"]
    assert panel["key"] == "contracts-test" and panel["count"] == 7 and panel["alert"] is True
    assert [i["reference"] for i in panel["items"]] == ["BA-1"] and panel["items"][0]["days_left"] == -2


def test_the_panel_helper_reads_a_count_and_the_first_rows(world, django_assert_num_queries):
    from django.contrib.auth import get_user_model

    users = get_user_model().objects.order_by("pk")
    total = users.count()
    assert total > worklists.PANEL_ROWS
    seen = []

    def late(rows):
        seen.extend(rows)
        return True

    with django_assert_num_queries(2):
        panel = worklists.panel(
            users,
            lambda u: worklists.WorkItem(u.username, f"/u/{u.pk}/", reference=str(u.pk)),
            key="users",
            label="用户",
            reason="测试",
            list_url="/u/",
            export_url="/u/?format=xlsx",
            alert=late,
        )
    assert panel is not None and panel.count == total and panel.alert is True
    assert [i.reference for i in panel.items] == [str(u.pk) for u in users[: worklists.PANEL_ROWS]]
    assert seen == list(users[: worklists.PANEL_ROWS])
    assert (panel.key, panel.label, panel.list_url, panel.export_url) == (
        "users",
        "用户",
        "/u/",
        "/u/?format=xlsx",
    )
    with django_assert_num_queries(1):
        assert (
            worklists.panel(users.filter(pk=-1), lambda u: None, key="k", label="l", reason="r", alert=True)
            is None
        )
    flat = worklists.panel(
        users, lambda u: worklists.WorkItem(u.username, "/"), key="k", label="l", reason="r"
    )
    assert flat is not None and flat.alert is False and flat.list_url == ""
