"""Issue #7 point 17: two-factor login with TOTP, enrolment with a QR code and recovery codes, the
gate that lets a half-logged-in user reach nothing else, the security administrator's reset, and
the API's token endpoint that must not become a way around the second factor."""

from __future__ import annotations

import pytest
from django.urls import reverse
from django_otp.plugins.otp_static.models import StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice

from xinfang.accounts.services import (
    mark_password_current,
    reset_second_factor,
    second_factor_required,
)
from xinfang.audit.models import AuditEvent
from xinfang.organisations.services import create_staff

from ..factories import PASSWORD
from .conftest import totp_code

pytestmark = pytest.mark.django_db


def _password_step(client, user) -> None:
    mark_password_current(user=user)  # this file tests the second factor, not the password policy
    response = client.post(reverse("login"), {"username": user.username, "password": PASSWORD})
    assert response.status_code == 302, response.content.decode()[:500]


def _enrolled(user) -> TOTPDevice:
    return TOTPDevice.objects.create(user=user, name="phone", confirmed=True)


@pytest.mark.parametrize("who", ["sysadmin", "secadmin", "auditor", "intake_a", "handler_a", "leader_a"])
def test_every_administrator_and_every_role_that_reveals_personal_data_needs_a_second_factor(
    world, strict, who
):
    assert second_factor_required(getattr(world, who))


def test_staff_without_a_role_need_it_unless_configured_otherwise(world, strict):
    nobody = create_staff(username="newcomer", password=PASSWORD, organisation=world.a.office, roles=[])
    assert second_factor_required(nobody)
    strict.XINFANG_2FA_FOR_ALL_STAFF = False
    assert not second_factor_required(nobody)
    _enrolled(nobody)  # a factor one has is always asked for
    assert second_factor_required(nobody)
    strict.XINFANG_2FA_FOR_ALL_STAFF = True
    assert second_factor_required(world.secadmin)


def test_after_the_password_a_user_without_device_reaches_only_enrolment(client, world, strict):
    """Regression #7/17: the password alone opened every page."""
    # when
    _password_step(client, world.secadmin)
    # then every staff page sends them to enrolment, with where they were going
    for url in (reverse("organisations:staff"), reverse("petitions:queue"), reverse("accounts:password")):
        response = client.get(url)
        assert response.status_code == 302
        assert response["Location"].startswith(reverse("accounts:enrol"))
    page = client.get(reverse("accounts:enrol")).content.decode()
    assert "<svg" in page and 'id="totp-secret"' in page  # the QR code drawn inline, offline


def test_enrolment_confirms_the_device_and_shows_recovery_codes_once(client, world, strict):
    _password_step(client, world.secadmin)
    client.get(reverse("accounts:enrol"))
    device = TOTPDevice.objects.get(user=world.secadmin, confirmed=False)
    # a wrong code confirms nothing
    response = client.post(reverse("accounts:enrol"), {"code": "000000"})
    assert response.status_code == 200 and "验证码不正确" in response.content.decode()
    # when the right code is given (past django-otp's own one-second back-off after the wrong one)
    device.refresh_from_db()
    device.throttling_failure_count = 0
    device.save()
    response = client.post(reverse("accounts:enrol"), {"code": totp_code(device)})
    # then
    assert response.status_code == 200
    codes = response.context["codes"]
    assert len(codes) == 10 and all(c in response.content.decode() for c in codes)
    device.refresh_from_db()
    assert device.confirmed
    assert StaticToken.objects.filter(device__user=world.secadmin).count() == 10
    assert client.get(reverse("organisations:staff")).status_code == 200
    assert AuditEvent.objects.filter(action="2fa.enrol", actor=world.secadmin).count() == 1
    # the enrolment page is closed now (no second device, no second look at the codes)
    assert client.get(reverse("accounts:enrol"))["Location"].startswith(reverse("accounts:verify"))


def test_an_enrolled_user_gives_a_code_after_the_password(client, world, strict):
    device = _enrolled(world.intake_a)
    _password_step(client, world.intake_a)
    assert client.get(reverse("petitions:queue"))["Location"].startswith(reverse("accounts:verify"))
    # a wrong code is refused and audited
    response = client.post(reverse("accounts:verify"), {"code": "123456"})
    assert response.status_code == 200 and "验证码不正确" in response.content.decode()
    assert client.get(reverse("petitions:queue")).status_code == 302
    assert AuditEvent.objects.filter(action="login.2fa_failed", actor=world.intake_a).count() == 1
    # the right one opens the pages
    device.refresh_from_db()
    device.throttling_failure_count = 0  # django-otp's own back-off after the wrong code
    device.save()
    response = client.post(reverse("accounts:verify"), {"code": totp_code(device), "next": "/staff/"})
    assert response.status_code == 302 and response["Location"] == "/staff/"
    assert client.get(reverse("petitions:queue")).status_code == 200


def test_during_the_back_off_a_code_is_not_compared_and_the_user_is_told_to_wait(client, world, strict):
    """A right code a second after a wrong one was refused as 'wrong' (django-otp's back-off)."""
    device = _enrolled(world.intake_a)
    _password_step(client, world.intake_a)
    client.post(reverse("accounts:verify"), {"code": "123456"})
    response = client.post(reverse("accounts:verify"), {"code": totp_code(device)})
    assert response.status_code == 200 and "秒后再输入验证码" in response.content.decode()
    assert AuditEvent.objects.filter(action="login.2fa_failed").count() == 1  # the wait is no failure


def test_a_recovery_code_works_once_in_place_of_a_totp_code(client, world, strict):
    from django_otp.plugins.otp_static.models import StaticDevice

    _enrolled(world.intake_a)
    static = StaticDevice.objects.create(user=world.intake_a, name="recovery", confirmed=True)
    static.token_set.create(token="abcd2345")
    _password_step(client, world.intake_a)
    assert client.post(reverse("accounts:verify"), {"code": "ABCD 2345"}).status_code == 302
    client.post(reverse("logout"))
    _password_step(client, world.intake_a)
    assert client.post(reverse("accounts:verify"), {"code": "abcd2345"}).status_code == 200


def test_secadmin_resets_a_lost_authenticator_audited_and_the_user_enrols_again(client, world, strict):
    _enrolled(world.intake_a)
    # nobody else may, and not on their own account
    for actor in (world.sysadmin, world.auditor, world.supervisor_a):
        with pytest.raises(PermissionError):
            reset_second_factor(user=world.intake_a, actor=actor)
    with pytest.raises(PermissionError):
        reset_second_factor(user=world.secadmin, actor=world.secadmin)
    # when, through the security administrator's page (whose session passed its own second factor)
    _enrolled(world.secadmin)
    client.force_login(world.secadmin)
    session = client.session
    session["otp_device_id"] = TOTPDevice.objects.get(user=world.secadmin).persistent_id
    session.save()
    mark_password_current(user=world.secadmin)
    assert client.get(reverse("accounts:member", args=[world.intake_a.pk])).status_code == 200
    response = client.post(reverse("accounts:member_action", args=[world.intake_a.pk, "reset-2fa"]))
    # then
    assert response.status_code == 302
    assert not TOTPDevice.objects.filter(user=world.intake_a).exists()
    event = AuditEvent.objects.get(action="2fa.reset")
    assert event.actor == world.secadmin and event.object_id == str(world.intake_a.pk)
    page = client.get(reverse("accounts:member", args=[world.intake_a.pk])).content.decode()
    assert "由 secadmin 重置，待本人重新绑定" in page  # what a second administrator needs to know
    client.post(reverse("logout"))
    _password_step(client, world.intake_a)
    assert client.get(reverse("petitions:queue"))["Location"].startswith(reverse("accounts:enrol"))


def test_the_token_endpoint_is_no_way_around_the_second_factor(client, world, strict):
    """Only system accounts obtain a token with a password; a person gets 403 token_not_allowed."""
    # when a person asks
    response = client.post(
        "/api/v1/auth/token",
        {"username": "intake_a", "password": PASSWORD},
        content_type="application/json",
    )
    # then
    assert response.status_code == 403
    assert response.json()["error"]["code"] == "token_not_allowed"
    assert AuditEvent.objects.filter(action="api.token.refused", actor=world.intake_a).exists()
    # a system account with the password an administrator gave it is refused too: whoever set it
    # would act as the account alone
    platform = create_staff(
        username="platform",
        password=PASSWORD,
        organisation=world.a.office,
        roles=["intake"],
        is_system_account=True,
        bootstrap=True,
    )
    body = {"username": "platform", "password": PASSWORD}
    response = client.post("/api/v1/auth/token", body, content_type="application/json")
    assert response.status_code == 403 and response.json()["error"]["code"] == "token_not_allowed"
    assert "修改密码" in response.json()["error"]["message"]
    # once its owner has chosen the password, it gets one
    mark_password_current(user=platform)
    response = client.post("/api/v1/auth/token", body, content_type="application/json")
    assert response.status_code == 200 and response.json()["token"].startswith("xf_")


def test_one_administrator_cannot_reset_both_credentials_of_an_account(world, strict):
    """Password and second factor reset by the same person would let them sign in as the owner."""
    from xinfang.accounts.services import confirm_enrolment, set_password_by_admin, start_enrolment

    from ..factories import make_staff
    from .conftest import totp_code as code_of

    other_secadmin = make_staff("secadmin_2", world.province, "secadmin")
    _enrolled(world.intake_a)
    # given the security administrator reset the second factor (a lost phone)
    reset_second_factor(user=world.intake_a, actor=world.secadmin)
    # then the same person may not also set the password
    with pytest.raises(PermissionError):
        set_password_by_admin(user=world.intake_a, new_password="Reset-Pw-2026", actor=world.secadmin)
    # another security administrator may (a forgotten password as well: four-eyes)
    set_password_by_admin(user=world.intake_a, new_password="Reset-Pw-2026", actor=other_secadmin)
    # nor may that other one now reset the second factor: it set the password the owner has not
    # replaced yet
    with pytest.raises(PermissionError):
        reset_second_factor(user=world.intake_a, actor=other_secadmin)
    # once the owner has enrolled a new device, the first may reset the password again
    device = start_enrolment(user=world.intake_a)
    confirm_enrolment(user=world.intake_a, device=device, code=code_of(device), ip="10.3.0.1")
    set_password_by_admin(user=world.intake_a, new_password="Reset-Pw-2027", actor=world.secadmin)


def test_check_deploy_warns_when_the_login_policy_is_off(settings):
    from xinfang.accounts.checks import check_login_policy

    settings.XINFANG_2FA_ENFORCED = True
    settings.XINFANG_PASSWORD_CHANGE_ENFORCED = True
    settings.XINFANG_API_PASSWORD_TOKENS_FOR_STAFF = False
    assert check_login_policy() == []
    settings.XINFANG_2FA_ENFORCED = False
    settings.XINFANG_PASSWORD_CHANGE_ENFORCED = False
    settings.XINFANG_API_PASSWORD_TOKENS_FOR_STAFF = True
    ids = [w.id for w in check_login_policy()]
    assert ids == ["xinfang.accounts.W001", "xinfang.accounts.W002", "xinfang.accounts.W003"]
