"""What the security administrator sees on every staff page: accounts locked now (point 19).

There is no notification app yet; the lock is also the audit event ``account.locked``.
"""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest

from xinfang.organisations.choices import RoleCode


def security_notices(request: HttpRequest) -> dict[str, Any]:
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated or not user.has_role(RoleCode.SECADMIN):
        return {}
    from .services import locked_accounts  # not at import time: settings load this module

    return {"locked_accounts": locked_accounts()}
