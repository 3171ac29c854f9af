"""Fixtures for the login tests: the login policy switched on as in production, and TOTP codes."""

from __future__ import annotations

import time

import pytest
from django_otp.oath import TOTP
from django_otp.plugins.otp_totp.models import TOTPDevice

from ..api.conftest import ApiClient


@pytest.fixture
def strict(settings):
    """Production's login policy: the test settings switch the second factor and the forced
    password change off for the rest of the suite."""
    settings.XINFANG_2FA_ENFORCED = True
    settings.XINFANG_PASSWORD_CHANGE_ENFORCED = True
    settings.XINFANG_API_PASSWORD_TOKENS_FOR_STAFF = False
    return settings


def totp_code(device: TOTPDevice, *, steps_ahead: int = 0) -> str:
    """The code ``device``'s authenticator shows now (or ``steps_ahead`` periods later)."""
    totp = TOTP(device.bin_key, device.step, device.t0, device.digits, device.drift)
    totp.time = time.time() + steps_ahead * device.step
    return f"{totp.token():0{device.digits}d}"


@pytest.fixture
def api(client) -> ApiClient:
    return ApiClient(client)
