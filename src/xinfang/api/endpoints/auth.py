"""``/api/v1/auth``: obtaining and revoking bearer tokens."""

from __future__ import annotations

from django.http import HttpRequest
from django.utils.translation import gettext as _
from ninja import Router
from ninja.responses import Status

from xinfang.core.net import client_ip

from ..auth import auth_token, auth_user, token_auth
from ..errors import ApiError, ErrorCode
from ..schemas import ErrorOut, TokenIn, TokenOut
from ..services import LoginFailed, PasswordTokenRefused, obtain_token, revoke_token

router = Router(tags=["auth"])


@router.post(
    "/token",
    auth=None,
    response={200: TokenOut, 401: ErrorOut, 403: ErrorOut, 422: ErrorOut, 429: ErrorOut},
    summary="用户名和密码换取访问令牌",
)
def obtain_access_token(request: HttpRequest, payload: TokenIn) -> dict[str, object]:
    """Log in and receive a bearer token valid for ``XINFANG_API_TOKEN_TTL_HOURS`` hours.

    Repeated failures for one user name from one address, or for one account from any
    addresses, are refused with 429 for a while, even with the right password.  Only system
    accounts get a token this way, and only with a password their owner chose; otherwise 403
    ``token_not_allowed`` (staff log in on the staff pages, with their second factor).
    """
    try:
        issued = obtain_token(username=payload.username, password=payload.password, ip=client_ip(request))
    except LoginFailed:
        raise ApiError(401, ErrorCode.UNAUTHORIZED, _("用户名或密码错误，或账号已停用。")) from None
    except PasswordTokenRefused as exc:
        raise ApiError(403, ErrorCode.TOKEN_NOT_ALLOWED, exc.message) from None
    return {"token": issued.token, "token_type": "Bearer", "expires_at": issued.expires_at}


@router.delete("/token", auth=token_auth, response={204: None, 401: ErrorOut}, summary="吊销当前令牌（退出）")
def revoke_access_token(request: HttpRequest) -> Status:
    """Revoke the token this request was made with."""
    revoke_token(token=auth_token(request), actor=auth_user(request))
    return Status(204, None)
