"""Issue #8 §7: what the walk through a working day found (favicon, menu, labels, selects, audit page,
merge candidates, extension approval form, portal CAPTCHA and receipt)."""

from __future__ import annotations

import pytest
from django.contrib.staticfiles import finders
from django.urls import reverse

pytestmark = pytest.mark.django_db


def test_favicon_is_served(client):
    """/favicon.ico answers (a redirect to the static icon), and the icon file exists."""
    # when the browser asks for the icon
    response = client.get("/favicon.ico")
    # then it is sent to the static file, which is a real icon
    assert response.status_code == 302
    assert response["Location"].endswith("xinfang/favicon.ico")
    path = finders.find("xinfang/favicon.ico")
    with open(path, "rb") as icon:
        assert icon.read(4) == b"\x00\x00\x01\x00"  # the ICO header


def test_routing_rules_in_the_administrators_menu(client, world):
    """The system administrator's menu links to 分办规则; other roles see no such link."""
    client.force_login(world.sysadmin)
    page = client.get(reverse("workflow:rules")).content.decode()
    assert reverse("workflow:routing_rules") in page
    client.force_login(world.intake_a)
    page = client.get(reverse("petitions:queue")).content.decode()
    assert reverse("workflow:routing_rules") not in page
