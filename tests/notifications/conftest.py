"""Fixtures of the notification tests."""

from __future__ import annotations

import pytest

from xinfang.workflow import calendar, deadlines

from ..api.conftest import ApiClient, token_of  # noqa: F401 - the API tests' token fixture


@pytest.fixture
def api(client) -> ApiClient:
    return ApiClient(client)


@pytest.fixture(autouse=True)
def _fresh_workflow_caches():
    calendar.clear_cache()
    deadlines.clear_cache()
    yield
    calendar.clear_cache()
    deadlines.clear_cache()


@pytest.fixture(autouse=True)
def _demo_sms(settings):
    settings.XINFANG_SMS_BACKEND = "xinfang.notifications.sms.ConsoleBackend"
    settings.XINFANG_SMS_SIGN = "【甲县信访局】"
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
