"""Issue #7 point 19: the account's lock after failures from any mix of addresses, its notice to the
security administrator, second-factor failures counted, and the lock taken atomically."""

from __future__ import annotations

import datetime as dt

import pytest
from django.urls import reverse
from django.utils import timezone
from freezegun import freeze_time

from xinfang.accounts.models import LoginState
from xinfang.accounts.services import (
    AccountLocked,
    LoginFailed,
    login_with_password,
    record_login_failure,
    unlock_account,
    verify_second_factor,
)
from xinfang.audit.models import AuditEvent
from xinfang.core.throttle import Throttled

from ..factories import PASSWORD
from ..petitions.test_concurrency import database_for_threads, in_a_thread, run_in_threads

pytestmark = pytest.mark.django_db


def _fail(username: str, ip: str) -> None:
    with pytest.raises(LoginFailed):
        login_with_password(username=username, password="wrong-Password-1", ip=ip, channel="web")


def test_five_failures_from_five_addresses_lock_the_account_even_for_the_right_password(world):
    """The per-address throttle alone let an attacker rotate addresses for ever (regression #7/19)."""
    # given five failures, each from another address
    for n in range(5):
        _fail("intake_a", f"10.0.0.{n}")
    # when the right password comes from a sixth address
    with pytest.raises(AccountLocked) as exc:
        login_with_password(username="intake_a", password=PASSWORD, ip="10.0.0.99", channel="web")
    # then it is refused for the rest of the 15 minutes, and the security administrator is told
    assert 14 * 60 < exc.value.retry_after <= 15 * 60
    event = AuditEvent.objects.get(action="account.locked")
    assert event.object_id == str(world.intake_a.pk)
    assert event.data["failures"] == 5
    # another account behind the same addresses (a shared NAT) is not affected
    assert login_with_password(username="handler_a", password=PASSWORD, ip="10.0.0.1", channel="web")


def test_the_lock_ends_after_the_configured_time_and_success_resets_the_count(world, settings):
    settings.XINFANG_ACCOUNT_LOCK_MINUTES = 30
    for n in range(5):
        _fail("intake_a", f"10.0.1.{n}")
    with freeze_time(timezone.now() + dt.timedelta(minutes=29)), pytest.raises(AccountLocked):
        login_with_password(username="intake_a", password=PASSWORD, ip="10.9.9.9", channel="web")
    with freeze_time(timezone.now() + dt.timedelta(minutes=31)):
        assert login_with_password(username="intake_a", password=PASSWORD, ip="10.9.9.9", channel="web")
        assert LoginState.objects.get(user=world.intake_a).failures == 0
        # four more failures after a success do not lock
        for n in range(4):
            _fail("intake_a", f"10.0.2.{n}")
        assert login_with_password(username="intake_a", password=PASSWORD, ip="10.9.9.9", channel="web")


def test_an_unknown_user_name_behaves_as_an_account_would(world):
    """No enumeration: a name that does not exist is 'locked' after the same number of failures."""
    for n in range(5):
        _fail("nobody", f"10.0.3.{n}")
    with pytest.raises(Throttled):
        login_with_password(username="nobody", password="x", ip="10.0.3.99", channel="web")


def test_wrong_second_factor_codes_count_towards_the_lock(world):
    """TOTP failures count like password failures (point 19)."""
    from django_otp.plugins.otp_totp.models import TOTPDevice

    TOTPDevice.objects.create(user=world.intake_a, name="phone", confirmed=True)
    for n in range(3):
        _fail("intake_a", f"10.0.4.{n}")
    with freeze_time(timezone.now()) as clock:
        for _ in range(2):
            assert verify_second_factor(user=world.intake_a, code="000000", ip="10.0.4.9") is None
            clock.tick(dt.timedelta(seconds=3))  # past django-otp's own back-off
    with pytest.raises(AccountLocked):
        login_with_password(username="intake_a", password=PASSWORD, ip="10.0.4.10", channel="web")
    assert AuditEvent.objects.filter(action="login.2fa_failed").count() == 2


def test_secadmin_sees_locked_accounts_on_every_page_and_unlocks_one(client, world):
    for n in range(5):
        _fail("intake_a", f"10.0.5.{n}")
    client.force_login(world.secadmin)
    page = client.get(reverse("organisations:staff")).content.decode()
    assert 'id="locked-accounts"' in page and "intake_a" in page
    # the casework staff see no such notice
    client.force_login(world.supervisor_a)
    assert 'id="locked-accounts"' not in client.get(reverse("petitions:queue")).content.decode()
    # when the security administrator unlocks it
    client.force_login(world.secadmin)
    response = client.post(reverse("accounts:member_action", args=[world.intake_a.pk, "unlock"]))
    assert response.status_code == 302
    assert login_with_password(username="intake_a", password=PASSWORD, ip="10.0.5.9", channel="web")
    assert AuditEvent.objects.filter(action="account.unlock", actor=world.secadmin).count() == 1


def test_nobody_but_the_security_administrator_unlocks_and_not_their_own_account(world):
    for actor in (world.sysadmin, world.auditor, world.supervisor_a):
        with pytest.raises(PermissionError):
            unlock_account(user=world.intake_a, actor=actor)
    with pytest.raises(PermissionError):
        unlock_account(user=world.secadmin, actor=world.secadmin)


def test_login_page_shows_the_lock_as_a_plain_chinese_message(client, world):
    url = reverse("login")
    for n in range(5):
        client.post(url, {"username": "intake_a", "password": "wrong"}, REMOTE_ADDR=f"10.0.6.{n}")
    response = client.post(url, {"username": "intake_a", "password": PASSWORD}, REMOTE_ADDR="10.0.6.77")
    assert response.status_code == 200
    assert "登录失败次数过多，请15分钟后再试。" in response.content.decode()


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_simultaneous_failures_are_all_counted_and_lock_exactly_once(world, tmp_path):
    """Twelve failures at the same instant: the count is twelve, one lock, one notice (atomic)."""
    user_id = world.intake_a.pk
    with database_for_threads(tmp_path):

        def fail(index: int) -> bool:
            from xinfang.organisations.models import User

            return record_login_failure(
                user=User.objects.get(pk=user_id), ip=f"10.7.0.{index}", channel="web"
            )

        results, errors = run_in_threads(fail, 12)
        assert not errors, errors
        assert results.count(True) == 1
        state = in_a_thread(lambda: LoginState.objects.get(user_id=user_id))
        assert state.failures == 12 and state.locked_until is not None
        assert in_a_thread(lambda: AuditEvent.objects.filter(action="account.locked").count()) == 1
