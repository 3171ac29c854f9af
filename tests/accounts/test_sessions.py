"""Issue #7 point 20: a session ends 12 hours after login however active; tokens end when unused."""

from __future__ import annotations

import datetime as dt

import pytest
from django.urls import reverse
from django.utils import timezone
from freezegun import freeze_time

from xinfang.api.services import obtain_token
from xinfang.organisations.services import create_staff

from ..factories import PASSWORD

pytestmark = pytest.mark.django_db
LIST_URL = "/api/v1/petitions"


def test_an_active_session_ends_twelve_hours_after_login(client, world):
    """Regression #7/20: a request every 25 minutes kept a session alive for ever."""
    start = timezone.now()
    with freeze_time(start) as clock:
        client.post(reverse("login"), {"username": "intake_a", "password": PASSWORD})
        # a request every 25 minutes for 11 h 40 min: the idle limit never ends it
        for _ in range(28):
            clock.tick(dt.timedelta(minutes=25))
            assert client.get(reverse("petitions:queue")).status_code == 200
        # when twelve hours have passed since the login (21 minutes after the last request)
        clock.move_to(start + dt.timedelta(hours=12, minutes=1))
        response = client.get(reverse("petitions:queue"))
    # then the session is over
    assert response.status_code == 302 and response["Location"].startswith(reverse("login"))
    assert client.get(reverse("petitions:queue")).status_code == 302


def test_the_absolute_limit_is_configurable_and_the_idle_limit_still_holds(client, world, settings):
    settings.XINFANG_SESSION_MAX_AGE_HOURS = 2
    start = timezone.now()
    with freeze_time(start) as clock:
        client.force_login(world.intake_a)
        clock.tick(dt.timedelta(minutes=31))  # idle: Django's SESSION_COOKIE_AGE
        assert client.get(reverse("petitions:queue")).status_code == 302
        client.force_login(world.intake_a)
        for _ in range(4):
            clock.tick(dt.timedelta(minutes=29))
            assert client.get(reverse("petitions:queue")).status_code == 200
        clock.tick(dt.timedelta(minutes=5))  # 2 h 1 min after the second login
        assert client.get(reverse("petitions:queue")).status_code == 302


def _system_account(world):
    return create_staff(
        username="platform",
        password=PASSWORD,
        organisation=world.a.office,
        roles=["intake"],
        is_system_account=True,
        bootstrap=True,
    )


def test_a_password_token_ends_after_thirty_idle_minutes(api, world):
    """Regression #7/20: a token lived its whole 12 hours however long it lay unused."""
    _system_account(world)
    start = timezone.now()
    with freeze_time(start) as clock:
        token = obtain_token(username="platform", password=PASSWORD, ip="10.2.0.1").token
        for _ in range(10):  # used every 20 minutes: stays alive
            clock.tick(dt.timedelta(minutes=20))
            assert api.get(LIST_URL, token=token).status_code == 200
        clock.tick(dt.timedelta(minutes=31))
        response = api.get(LIST_URL, token=token)
    assert response.status_code == 401 and response.json()["error"]["code"] == "unauthorized"


def test_token_idle_limits_are_configurable(api, world, settings):
    settings.XINFANG_API_TOKEN_IDLE_MINUTES = 90
    _system_account(world)
    start = timezone.now()
    with freeze_time(start) as clock:
        token = obtain_token(username="platform", password=PASSWORD, ip="10.2.0.2").token
        clock.tick(dt.timedelta(minutes=80))
        assert api.get(LIST_URL, token=token).status_code == 200
        clock.tick(dt.timedelta(minutes=91))
        assert api.get(LIST_URL, token=token).status_code == 401


def test_an_integration_token_ends_after_thirty_unused_days(api, world):
    from xinfang.api.services import issue_token

    platform = _system_account(world)
    start = timezone.now()
    with freeze_time(start) as clock:
        issued = issue_token(user=platform, name="12345", actor=None)  # the operator's command, no expiry
        clock.tick(dt.timedelta(days=29))
        assert api.get(LIST_URL, token=issued.token).status_code == 200
        clock.tick(dt.timedelta(days=29))
        assert api.get(LIST_URL, token=issued.token).status_code == 200
        clock.tick(dt.timedelta(days=31))
        assert api.get(LIST_URL, token=issued.token).status_code == 401


def test_the_idle_expiry_is_renewed_at_most_once_a_minute(client, world):
    """Issue #12 §3: the session row is not written on every page view, only when its expiry is
    more than a minute old (accounts.middleware.IdleRenewalMiddleware)."""
    from django.contrib.sessions.models import Session

    start = timezone.now()
    with freeze_time(start) as clock:
        client.force_login(world.intake_a)
        assert client.get(reverse("petitions:queue")).status_code == 200
        renewed = Session.objects.get().expire_date
        clock.tick(dt.timedelta(seconds=30))
        assert client.get(reverse("petitions:queue")).status_code == 200
        assert Session.objects.get().expire_date == renewed  # not written
        clock.tick(dt.timedelta(seconds=31))
        assert client.get(reverse("petitions:queue")).status_code == 200
        assert Session.objects.get().expire_date == renewed + dt.timedelta(seconds=61)
        # 29 minutes after the last renewal the session still stands; idle for 30 it ends
        clock.tick(dt.timedelta(minutes=29))
        assert client.get(reverse("petitions:queue")).status_code == 200
        clock.tick(dt.timedelta(minutes=30, seconds=1))
        assert client.get(reverse("petitions:queue")).status_code == 302


def test_the_user_of_a_request_comes_with_the_organisation(client, world, django_assert_num_queries):
    """accounts.backends.StaffBackend: the scope's organisation, its parent and the user's roles
    cost no query."""
    from django.contrib.auth import get_user
    from django.test import RequestFactory

    client.force_login(world.intake_a)
    request = RequestFactory().get("/")
    request.session = client.session
    user = get_user(request)
    with django_assert_num_queries(0):
        assert user.organisation.parent is not None
        assert user.role_codes == {"intake"}
    # roles changed since: the next request's user has the new ones
    world.intake_a.roles.add("supervisor")
    assert get_user(request).role_codes == {"intake", "supervisor"}
