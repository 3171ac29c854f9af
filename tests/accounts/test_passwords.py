"""Issue #7 point 18: complexity, changing one's own password, the change forced after an
administrator sets one, expiry after 90 days, and no reuse of the last five."""

from __future__ import annotations

import datetime as dt

import pytest
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.urls import reverse
from django.utils import timezone
from freezegun import freeze_time

from xinfang.accounts.models import LoginState
from xinfang.accounts.services import (
    change_own_password,
    mark_password_current,
    password_change_due,
    set_password_by_admin,
)
from xinfang.audit.models import AuditEvent
from xinfang.organisations.services import create_staff

from ..factories import PASSWORD

pytestmark = pytest.mark.django_db


@pytest.fixture
def password_policy(strict):
    """The forced change on, the second factor out of the way (tested in test_two_factor)."""
    strict.XINFANG_2FA_ENFORCED = False
    return strict


@pytest.mark.parametrize(
    ("password", "ok"),
    [
        ("abcdefgh", False),  # one class
        ("abcdefg1", False),  # two
        ("ABCDEFG1", False),
        ("xinfang-demo", False),  # the published demo password: two classes
        ("Qwzxpvk7", True),  # three
        ("abcdef1!", True),
        ("信访Abc123", True),  # Chinese characters are the fourth class
        ("Ab1!", False),  # classes enough, too short
    ],
)
def test_a_password_needs_eight_characters_of_three_classes(password, ok):
    if ok:
        validate_password(password)
    else:
        with pytest.raises(ValidationError):
            validate_password(password)


def test_an_account_created_by_an_administrator_must_change_its_password_first(
    client, world, password_policy
):
    """Regression #7/18: the initial password, known to the administrator, stayed in use."""
    # given an account created by the security administrator
    member = create_staff(
        username="newcomer", password=PASSWORD, organisation=world.a.office, roles=[], actor=world.secadmin
    )
    assert password_change_due(member)
    # when its owner logs in, every page sends them to the password change
    assert client.post(reverse("login"), {"username": "newcomer", "password": PASSWORD}).status_code == 302
    response = client.get(reverse("home"))
    assert response.status_code == 302 and response["Location"].startswith(reverse("accounts:password"))
    assert 'id="password-due"' in client.get(reverse("accounts:password")).content.decode()
    # a new password that is too simple is refused, and what was typed is kept where it should be
    response = client.post(
        reverse("accounts:password"),
        {"old_password": PASSWORD, "new_password": "simplepass", "new_password2": "simplepass"},
    )
    assert response.status_code == 200 and "至少3类" in response.content.decode()
    # when a good one is chosen
    response = client.post(
        reverse("accounts:password"),
        {"old_password": PASSWORD, "new_password": "Neues-Pw-2026", "new_password2": "Neues-Pw-2026"},
    )
    # then the pages open, the session goes on and the change is audited
    assert response.status_code == 302
    assert client.get(reverse("home")).status_code == 200  # an account without roles: whom to ask
    assert not password_change_due(member)
    assert AuditEvent.objects.filter(action="password.change", actor=member).count() == 1


def test_a_password_reset_by_the_security_administrator_must_be_changed(world, password_policy):
    mark_password_current(user=world.intake_a)
    assert not password_change_due(world.intake_a)
    set_password_by_admin(user=world.intake_a, new_password="Reset-Pw-2026", actor=world.secadmin)
    assert password_change_due(world.intake_a)
    assert AuditEvent.objects.filter(action="password.reset", actor=world.secadmin).count() == 1
    with pytest.raises(PermissionError):
        set_password_by_admin(user=world.intake_a, new_password="Reset-Pw-2027", actor=world.sysadmin)
    with pytest.raises(PermissionError):
        set_password_by_admin(user=world.secadmin, new_password="Reset-Pw-2027", actor=world.secadmin)


def test_a_password_expires_after_the_configured_days(client, world, password_policy):
    change_own_password(user=world.intake_a, old_password=PASSWORD, new_password="Fresh-Pw-01", ip="10.1.1.1")
    with freeze_time(timezone.now() + dt.timedelta(days=89)):
        assert not password_change_due(world.intake_a)
    with freeze_time(timezone.now() + dt.timedelta(days=91)):
        assert password_change_due(world.intake_a)
        client.post(reverse("login"), {"username": "intake_a", "password": "Fresh-Pw-01"})
        assert client.get(reverse("petitions:queue"))["Location"].startswith(reverse("accounts:password"))
    password_policy.XINFANG_PASSWORD_MAX_AGE_DAYS = 365
    with freeze_time(timezone.now() + dt.timedelta(days=91)):
        assert not password_change_due(world.intake_a)


def test_none_of_the_last_five_passwords_can_be_chosen_again(world):
    user = world.intake_a
    chain = [PASSWORD] + [f"Second-Pw-{n}" for n in range(1, 6)]
    for old, new in zip(chain, chain[1:], strict=False):
        change_own_password(user=user, old_password=old, new_password=new, ip="10.1.1.2")
    # the current one and the four before it are refused
    for reused in chain[-5:]:
        with pytest.raises(ValidationError) as exc:
            change_own_password(user=user, old_password=chain[-1], new_password=reused, ip="10.1.1.2")
        assert "最近5次" in str(exc.value)
    # the sixth back may come back
    change_own_password(user=user, old_password=chain[-1], new_password=chain[0], ip="10.1.1.2")


def test_a_wrong_old_password_counts_towards_the_lock(world):
    """A stolen session must not become a way to guess the password."""
    with pytest.raises(ValidationError):
        change_own_password(
            user=world.intake_a, old_password="guess", new_password="Whatever-1", ip="10.1.1.3"
        )
    assert LoginState.objects.get(user=world.intake_a).failures == 1


def test_the_security_administrator_sets_a_password_on_the_account_page(client, world, password_policy):
    mark_password_current(user=world.secadmin)
    mark_password_current(user=world.intake_a)
    client.force_login(world.secadmin)
    url = reverse("accounts:member_action", args=[world.intake_a.pk, "password"])
    # a weak one is refused with the reason
    client.post(url, {"password": "weakpass"})
    page = client.get(reverse("accounts:member", args=[world.intake_a.pk])).content.decode()
    assert "至少3类" in page
    assert not password_change_due(world.intake_a)
    # a good one is set, and its owner must change it at the next login
    assert client.post(url, {"password": "Reset-Pw-2026"}).status_code == 302
    world.intake_a.refresh_from_db()
    assert world.intake_a.check_password("Reset-Pw-2026")
    assert password_change_due(world.intake_a)
    # other administrators may not
    mark_password_current(user=world.sysadmin)
    client.force_login(world.sysadmin)
    assert client.post(url, {"password": "Other-Pw-2026"}).status_code == 403
