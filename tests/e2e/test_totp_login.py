"""Two-factor login in a real browser (issue #7 point 17, "Done when"): the password step sends a
supervisor without an authenticator to enrolment; the test reads the secret the page shows (as a
phone reads the QR code), enrols with the code it computes, keeps the recovery codes, logs out,
logs in again with password and TOTP code, and sees a wrong code refused."""

from __future__ import annotations

import base64
import time

import pytest
from django_otp.oath import TOTP

from xinfang.accounts.services import mark_password_current

from ..factories import PASSWORD

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def _code(secret: str, *, steps_ahead: int = 0) -> str:
    """What an authenticator app shows for ``secret`` now (or ``steps_ahead`` periods later)."""
    key = base64.b32decode(secret + "=" * (-len(secret) % 8))
    totp = TOTP(key, step=30, digits=6)
    totp.time = time.time() + 30 * steps_ahead
    return f"{totp.token():06d}"


def _password_step(page, base: str, username: str) -> None:
    page.goto(base + "/staff/login/")
    page.fill("#id_username", username)
    page.fill("#id_password", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_load_state()


def test_enrol_then_log_in_with_password_and_totp(live_server, page, shot, world, settings):
    # given the production policy: two factors for every casework role
    settings.XINFANG_2FA_ENFORCED = True
    mark_password_current(user=world.supervisor_a)  # the password policy is tested elsewhere
    base = live_server.url

    # when the supervisor logs in for the first time: enrolment, and nothing else
    _password_step(page, base, "supervisor_a")
    assert "/staff/accounts/enrol/" in page.url
    assert page.locator("#totp-qr svg").count() == 1  # drawn by the server, no image service
    secret = page.inner_text("#totp-secret").strip()
    shot(page, "totp-enrol")
    page.goto(base + "/staff/")  # any other page sends them back
    assert "/staff/accounts/enrol/" in page.url

    # enrol with the code the authenticator shows
    page.fill("#id_code", _code(secret))
    page.click("#enrol-submit")
    page.wait_for_selector("#recovery-codes")
    assert page.locator("#recovery-codes li").count() == 10
    page.click("#recovery-continue")
    page.wait_for_selector("#queue")

    # log out
    page.click("header form button[type=submit]")
    page.wait_for_selector("#id_username")

    # log in again: after the password, the code is asked for
    _password_step(page, base, "supervisor_a")
    assert "/staff/accounts/verify/" in page.url
    page.goto(base + "/staff/")
    assert "/staff/accounts/verify/" in page.url

    # a wrong code is refused
    near = {_code(secret, steps_ahead=n) for n in range(-2, 3)}
    wrong = next(c for c in ("000000", "111111", "222222") if c not in near)
    page.fill("#id_code", wrong)
    page.click("#verify-submit")
    page.wait_for_load_state()
    assert "验证码不正确" in page.inner_text("main")
    assert "/staff/accounts/verify/" in page.url

    # the right one opens the work queue (the enrolment's code cannot be replayed: the next period's)
    time.sleep(1.2)  # django-otp's back-off after the wrong code
    page.fill("#id_code", _code(secret, steps_ahead=1))
    page.click("#verify-submit")
    page.wait_for_selector("#queue")
    shot(page, "totp-logged-in")
