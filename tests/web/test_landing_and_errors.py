"""After login every role lands on a page it may see; 403/404/500 and the CSRF failure are Chinese
pages that say what to do (issue #7 point 21)."""

from __future__ import annotations

import pytest
from django.test import Client, RequestFactory
from django.urls import reverse
from django.views.defaults import server_error

from xinfang.organisations.models import User

from ..factories import PASSWORD, make_staff

LANDINGS = [
    ("sysadmin", "organisations:tree"),
    ("secadmin", "organisations:staff"),
    ("auditor", "audit:log"),
    ("intake_a", "workbench:home"),
    ("handler_a", "workbench:home"),
    ("supervisor_a", "workbench:home"),
    ("leader_a", "workbench:home"),
]


@pytest.mark.parametrize(("who", "page"), LANDINGS, ids=[w for w, _ in LANDINGS])
def test_every_role_lands_on_a_page_it_may_see(client, world, who, page):
    """The login sends each role to its own first page (the three administrators got a bare
    English 403 from the work queue before)."""
    # when the member logs in with the login form
    response = client.post(reverse("login"), {"username": getattr(world, who).username, "password": PASSWORD})
    # then they are sent home and from there to their page, which opens
    assert response.status_code == 302
    response = client.get(response.url, follow=True)
    assert response.status_code == 200
    assert response.redirect_chain[-1][0] == reverse(page)


def test_an_account_without_a_role_is_told_whom_to_ask(client, world):
    """An account whose roles wait for approval lands on an explanation, not on a 403."""
    member = make_staff("waiting", world.a.office)
    client.force_login(member)
    response = client.get(reverse("home"))
    assert response.status_code == 200
    html = response.content.decode()
    assert 'id="no-role"' in html and "安全管理员" in html


def test_403_page_is_chinese_and_leads_home(client, world):
    client.force_login(world.secadmin)
    response = client.get(reverse("petitions:queue"))
    assert response.status_code == 403
    html = response.content.decode()
    assert "没有访问权限" in html and "安全管理员" in html
    assert f'href="{reverse("home")}"' in html
    assert "403 Forbidden" not in html


@pytest.mark.parametrize("signed_in", [False, True], ids=["public", "staff"])
def test_404_page_is_chinese(client, world, signed_in):
    """A missing page and a petition out of scope read the same; each says where to go next."""
    if signed_in:
        client.force_login(world.intake_a)
    url = "/staff/petitions/XF-000000-2026-000001/" if signed_in else "/portal/no/such/page/"
    response = client.get(url)
    assert response.status_code == 404
    html = response.content.decode()
    assert "页面不存在" in html and "信访编号" in html
    assert "Not Found" not in html
    assert (reverse("home") if signed_in else reverse("portal:track")) in html


def test_500_page_is_chinese_and_needs_neither_database_nor_request():
    """No django_db mark: any query would fail the test.  The page is rendered without context."""
    response = server_error(RequestFactory().get("/"))
    assert response.status_code == 500
    html = response.content.decode()
    assert "系统出错了" in html and "系统管理员" in html
    assert "Server Error" not in html


def test_csrf_failure_page_is_chinese(world):
    """A form posted without its CSRF token (e.g. a page left open past the session)."""
    client = Client(enforce_csrf_checks=True)
    response = client.post(reverse("login"), {"username": "intake_a", "password": PASSWORD})
    assert response.status_code == 403
    html = response.content.decode()
    assert "页面已过期" in html and "刷新" in html
    assert "CSRF verification failed" not in html


def test_staff_brand_link_goes_home(client, world):
    client.force_login(world.auditor)
    html = client.get(reverse("audit:log")).content.decode()
    assert f'class="brand" href="{reverse("home")}"' in html
    assert User.objects.filter(username="auditor").exists()
