"""Deploy checks: a production configuration must not switch the login policy off."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.checks import Tags, Warning, register


@register(Tags.security, deploy=True)
def check_login_policy(app_configs: Any = None, **kwargs: Any) -> list[Warning]:
    """``check --deploy`` warns when two-factor login or forced password changes are off, or staff
    may obtain API tokens with a password: the test settings do so, a deployment must not
    (docs/security.md §3)."""
    warnings = []
    if not settings.XINFANG_2FA_ENFORCED:
        warnings.append(
            Warning(
                "XINFANG_2FA_ENFORCED is off: staff log in without a second factor.",
                id="xinfang.accounts.W001",
            )
        )
    if not settings.XINFANG_PASSWORD_CHANGE_ENFORCED:
        warnings.append(
            Warning(
                "XINFANG_PASSWORD_CHANGE_ENFORCED is off: initial and expired passwords stay in use.",
                id="xinfang.accounts.W002",
            )
        )
    if settings.XINFANG_API_PASSWORD_TOKENS_FOR_STAFF:
        warnings.append(
            Warning(
                "XINFANG_API_PASSWORD_TOKENS_FOR_STAFF is on: staff obtain API tokens with a password "
                "alone, around the second factor.",
                id="xinfang.accounts.W003",
            )
        )
    return warnings
