"""Deploy check: say when messages would not really leave the machine (docs/deployment.md,
"Notifications").  Information only: a site may choose to run without SMS or e-mail."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.checks import CheckMessage, Info, register
from django.utils.module_loading import import_string


@register(deploy=True)
def check_delivery(app_configs: Any = None, **kwargs: Any) -> list[CheckMessage]:
    found: list[CheckMessage] = []
    try:
        backend = import_string(settings.XINFANG_SMS_BACKEND)
    except ImportError:
        backend = None
        found.append(
            Info(
                f"XINFANG_SMS_BACKEND {settings.XINFANG_SMS_BACKEND!r} cannot be imported: SMS will fail.",
                id="xinfang.notifications.I003",
            )
        )
    if backend is not None and getattr(backend, "demo", False):
        found.append(
            Info(
                "SMS to petitioners are not sent: XINFANG_SMS_BACKEND is the console (demo) backend.",
                hint="Set XINFANG_SMS_BACKEND, XINFANG_SMS_URL, XINFANG_SMS_ACCOUNT, XINFANG_SMS_PASSWORD.",
                id="xinfang.notifications.I001",
            )
        )
    if not settings.EMAIL_HOST and settings.EMAIL_BACKEND.endswith("smtp.EmailBackend"):
        found.append(
            Info(
                "EMAIL_HOST is not set: e-mail to staff will fail and be retried.",
                id="xinfang.notifications.I002",
            )
        )
    return found
