"""Four-eyes approval of a role grant in real browsers (issue #7 point 16, "Done when").

A security administrator asks, in Chromium, for the intake role for a new clerk; the system
administrator, in another browser context, approves it under 授权审批; the clerk then logs in and
sees the county's petitions in the queue.  Everyone logs in with a password and a TOTP code, as
production requires of administrators and casework roles.  Screenshots go to test-artifacts/.
"""

from __future__ import annotations

import time

import pytest
from django_otp.oath import TOTP
from django_otp.plugins.otp_totp.models import TOTPDevice

from xinfang.organisations.models import User

from ..factories import PASSWORD, make_staff, register

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def _totp_device(user: User) -> TOTPDevice:
    return TOTPDevice.objects.create(user=user, name="手机", confirmed=True)


def _code(device: TOTPDevice) -> str:
    device.refresh_from_db()
    totp = TOTP(device.bin_key, device.step, device.t0, device.digits, device.drift)
    totp.time = time.time()
    return f"{totp.token():0{device.digits}d}"


def _sign_in(browser, base: str, user: User, device: TOTPDevice):
    """A new browser context, signed in with password and TOTP; returns its page on landing."""
    context = browser.new_context(locale="zh-CN", viewport={"width": 1280, "height": 900})
    context.set_default_timeout(15_000)
    page = context.new_page()
    page.goto(base + "/staff/login/")
    page.fill("#id_username", user.username)
    page.fill("#id_password", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_selector("#verify-submit")
    page.fill("#id_code", _code(device))
    page.click("#verify-submit")
    page.wait_for_load_state()
    return page


def test_security_administrator_requests_another_approves_grantee_sees_petitions(
    live_server, browser, shot, world, settings
):
    # given production's login policy (two factors for administrators and casework roles)
    settings.XINFANG_2FA_ENFORCED = True
    base = live_server.url
    petition = register(world.a.office, world.intake_a, world.a.township).petition
    clerk = make_staff("new_clerk", world.a.office)  # an account without any role yet
    devices = {u.username: _totp_device(u) for u in (world.secadmin, world.sysadmin, clerk)}

    # when the security administrator asks for the intake role for the clerk
    secadmin = _sign_in(browser, base, world.secadmin, devices["secadmin"])
    assert secadmin.url.endswith("/staff/organisations/staff/")  # the landing page of the duty
    secadmin.goto(f"{base}/staff/organisations/staff/{clerk.pk}/")
    secadmin.check("input[name=roles][value=intake]")
    secadmin.fill("#id_reason", "新到岗登记员")
    secadmin.click("button[type=submit].primary")
    # then the request says who acts next, and the role is not granted yet
    assert "等待另一名安全管理员或系统管理员审批" in secadmin.inner_text("#grant-next")
    assert secadmin.query_selector("#grant-decide") is None
    assert not clerk.roles.exists()
    shot(secadmin, "four-eyes-1-requested")

    # when the system administrator, in another browser context, approves it
    sysadmin = _sign_in(browser, base, world.sysadmin, devices["sysadmin"])
    sysadmin.click("#nav-grants")
    assert "new_clerk" in sysadmin.inner_text("#grants-to-approve")
    sysadmin.click("#grants-to-approve a")
    assert "登记员" in sysadmin.inner_text("#grant-changes")
    shot(sysadmin, "four-eyes-2-to-approve")
    sysadmin.fill("#id_reason", "同意")
    sysadmin.click("#grant-decide button[value=approve]")
    # then it is approved and in effect
    assert sysadmin.inner_text("#grant-status") == "已批准"
    assert "变更已生效" in sysadmin.inner_text("#grant-next")
    shot(sysadmin, "four-eyes-3-approved")

    # and the clerk, signing in, lands on the workbench (issue #8) and sees the county's petition
    # to dispose of there and in the queue
    clerk_page = _sign_in(browser, base, clerk, devices["new_clerk"])
    clerk_page.wait_for_selector("#workbench-counts")
    assert petition.number in clerk_page.inner_text("#section-dispose")
    clerk_page.click("#nav-queue")
    clerk_page.wait_for_selector("#queue")
    assert petition.number in clerk_page.inner_text("#queue")
    shot(clerk_page, "four-eyes-4-grantee-queue")

    # and the requester's list shows the request as approved
    secadmin.goto(base + "/staff/organisations/grants/")
    assert "已批准" in secadmin.inner_text("#grants-mine")
    for page in (secadmin, sysadmin, clerk_page):
        page.context.close()
