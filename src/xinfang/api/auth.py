"""Bearer-token authentication for API v1.

The API ignores the staff session cookie on purpose: a cookie-authenticated JSON API would need
CSRF protection, and integrations have no session anyway.
"""

from __future__ import annotations

from django.http import HttpRequest
from django.utils.translation import gettext as _
from ninja.security import HttpBearer

from xinfang.organisations.models import User

from .models import ApiToken
from .services import authenticate_token


class TokenAuth(HttpBearer):
    """``Authorization: Bearer xf_…``.  On success the request carries ``auth_user`` (the user
    acting) and ``auth_token`` (the token record); ninja also sets ``request.auth``."""

    def authenticate(self, request: HttpRequest, token: str) -> User | None:
        record = authenticate_token(token.strip())
        if record is None:
            return None
        request.auth_user = record.user  # type: ignore[attr-defined]
        request.auth_token = record  # type: ignore[attr-defined]
        return record.user


token_auth = TokenAuth()


def auth_user(request: HttpRequest) -> User:
    """The authenticated user of a request that passed :class:`TokenAuth`."""
    return request.auth_user  # type: ignore[attr-defined,no-any-return]


def auth_token(request: HttpRequest) -> ApiToken:
    """The token record a request authenticated with."""
    return request.auth_token  # type: ignore[attr-defined,no-any-return]


def require_role(request: HttpRequest, role: str) -> User:
    """The caller, if they hold ``role``; PermissionError (403) otherwise.

    This is the endpoint's door check, like a view's permission decorator; the service checks
    its own rules again (an intake clerk registers only for their own office, for example).
    """
    user = auth_user(request)
    if not user.has_role(role) or user.organisation_id is None:
        raise PermissionError(_("您的账号没有此操作的权限。"))
    return user
