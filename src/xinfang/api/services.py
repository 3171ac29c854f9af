"""API credentials: issuing, checking and revoking bearer tokens.

A token is ``xf_`` followed by 43 random URL-safe characters (256 bits).  Only a keyed hash of it
is stored (``core.crypto.secret_hash``, HMAC under SECRET_KEY), with its first 8 characters as a
prefix so people can tell their tokens apart; the clear token exists only in the value returned
when it is issued.  Every issue, revocation and failed login is written to the audit log in the
same transaction.

Two ways to get a token:

* ``obtain_token`` — a person logs in with user name and password (``POST /api/v1/auth/token``);
  the token lives ``XINFANG_API_TOKEN_TTL_HOURS``.  Failed logins are throttled per user name and
  client address.
* ``request_token`` — the security administrator (安全管理员, 三员分立) asks for a token for a
  system account such as the 12345 platform's, with an expiry or none; a second administrator
  approves it (``organisations.grants``, four-eyes) and the token is issued then, shown once to
  the approver.  ``issue_token`` without an actor is the operator's path on the command line.
"""

from __future__ import annotations

import datetime as dt
import secrets
from dataclasses import dataclass

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from xinfang.accounts.services import LoginFailed, login_with_password, password_change_due
from xinfang.audit.services import record_event
from xinfang.core.crypto import secret_hash
from xinfang.organisations.choices import GrantKind, RoleCode
from xinfang.organisations.grants import open_request, register_executor
from xinfang.organisations.models import GrantRequest, User, role_codes_of

from .models import ApiToken

__all__ = [
    "IssuedToken",
    "LoginFailed",
    "authenticate_token",
    "issue_token",
    "obtain_token",
    "PasswordTokenRefused",
    "request_token",
    "revoke_token",
]

TOKEN_PREFIX = "xf_"  # noqa: S105 - marks our tokens (for secret scanners), not a secret
PREFIX_LENGTH = 8  # ApiToken.prefix's max_length
_MAX_TOKEN_LENGTH = 200  # longer values are not ours; refused before hashing
# last_used_at is written at most this often per token: one UPDATE per request would turn every
# read into a write.
LAST_USED_RESOLUTION = dt.timedelta(minutes=5)


@dataclass(frozen=True)
class IssuedToken:
    """A freshly issued token: ``token`` is the clear value, shown once and never stored."""

    token: str
    record: ApiToken

    @property
    def expires_at(self) -> dt.datetime | None:
        return self.record.expires_at


def _token_hash(token: str) -> str:
    return secret_hash("api-token:" + token)


def _create_token(
    *, user: User, name: str, expires_at: dt.datetime | None, created_by: User | None
) -> IssuedToken:
    token = TOKEN_PREFIX + secrets.token_urlsafe(32)
    record = ApiToken.objects.create(
        user=user,
        name=name[:100],
        key_hash=_token_hash(token),
        prefix=token[:PREFIX_LENGTH],
        expires_at=expires_at,
        created_by=created_by,
    )
    return IssuedToken(token=token, record=record)


class PasswordTokenRefused(Exception):
    """No token for this password login: a person (not a system account), or a system account
    whose password an administrator set (or which expired) and its owner has not replaced."""

    def __init__(self, message: str) -> None:
        self.message = message
        super().__init__(message)


def obtain_token(*, username: str, password: str, ip: str) -> IssuedToken:
    """Log in with a password and issue a token valid for ``XINFANG_API_TOKEN_TTL_HOURS``.

    Raises :class:`LoginFailed` or :class:`xinfang.core.throttle.Throttled`; the same account lock
    and failure throttle guard the staff login page (``accounts.services.login_with_password``).
    Only system accounts get a token this way (:class:`PasswordTokenRefused` for a person, after
    the password check): a person's token would skip the second factor that the staff pages ask
    for (issue #7 point 17), unless ``XINFANG_API_PASSWORD_TOKENS_FOR_STAFF`` allows it.  Nor
    with a password the security administrator set and its owner has not replaced: that
    administrator would otherwise act as the system account alone (security.md §3).
    """
    user = login_with_password(username=username, password=password, ip=ip, channel="api")
    refusal = None
    if not user.is_system_account and not settings.XINFANG_API_PASSWORD_TOKENS_FOR_STAFF:
        refusal = "person", _("只有系统账号可以用密码换取接口令牌，工作人员请在业务系统中登录。")
    elif settings.XINFANG_PASSWORD_CHANGE_ENFORCED and password_change_due(user):
        refusal = "password_due", _("该账号的密码由管理员设置或已过期，请先登录业务系统修改密码。")
    if refusal is not None:
        record_event(
            actor=user,
            action="api.token.refused",
            obj=user,
            data={"via": "password", "why": refusal[0]},
            ip=ip,
        )
        raise PasswordTokenRefused(refusal[1])
    expires_at = timezone.now() + dt.timedelta(hours=settings.XINFANG_API_TOKEN_TTL_HOURS)
    with transaction.atomic():
        issued = _create_token(user=user, name=_("密码登录"), expires_at=expires_at, created_by=user)
        record_event(
            actor=user,
            action="api.token.issue",
            obj=issued.record,
            data={"via": "password", "prefix": issued.record.prefix, "expires_at": expires_at.isoformat()},
            ip=ip,
        )
    return issued


def issue_token(
    *, user: User, name: str, actor: User | None, expires_at: dt.datetime | None = None
) -> IssuedToken:
    """Issue a token to a system account (e.g. the 12345 platform) from the command line.

    ``actor=None`` stands for the server's operator running ``xinfang issue_token``, who holds the
    keys anyway.  A person in the staff system never issues a token alone: they call
    :func:`request_token` and a second administrator approves (三员分立, issue #7 point 16), so
    any ``actor`` is refused with PermissionError.  ``expires_at=None`` issues a token that does
    not expire: integrations cannot log in interactively, so such a token lives until it is
    revoked with :func:`revoke_token`.  Raises PermissionError or ValidationError; audited as
    ``api.token.issue``.
    """
    _check_token_target(user, name=name, expires_at=expires_at)
    if actor is not None:
        raise PermissionError(_("接口令牌须经另一名管理员审批后签发，请提交申请。"))
    with transaction.atomic():
        issued = _create_token(user=user, name=name.strip(), expires_at=expires_at, created_by=None)
        record_event(
            actor=None,
            action="api.token.issue",
            obj=issued.record,
            data={
                "via": "command",
                "user": user.get_username(),
                "prefix": issued.record.prefix,
                "expires_at": expires_at.isoformat() if expires_at else None,
            },
        )
    return issued


def request_token(*, user: User, name: str, days: int | None, actor: User, reason: str) -> GrantRequest:
    """The security administrator asks for a token for a system account; ``days=None`` for a
    token without expiry.  A second administrator approves (``grants.approve_request``), which
    issues the token and shows it once to the approver."""
    errors: dict[str, list[str]] = {}
    if days is not None and not 1 <= days <= 3650:
        errors["days"] = [_("有效天数应在1到3650之间。")]
    try:
        _check_token_target(user, name=name, expires_at=None)
    except ValidationError as exc:
        errors.update(exc.message_dict)
    if errors:
        raise ValidationError(errors)
    return open_request(
        kind=GrantKind.TOKEN,
        target=user,
        payload={"name": name.strip(), "days": days},
        actor=actor,
        reason=reason,
    )


def _issue_approved_token(grant: GrantRequest, approver: User) -> IssuedToken:
    """What approving a token request does (registered with ``organisations.grants``)."""
    user, name, days = grant.target, grant.payload["name"], grant.payload["days"]
    expires_at = timezone.now() + dt.timedelta(days=days) if days else None
    _check_token_target(user, name=name, expires_at=expires_at)
    issued = _create_token(user=user, name=name, expires_at=expires_at, created_by=approver)
    record_event(
        actor=approver,
        action="api.token.issue",
        obj=issued.record,
        data={
            "via": "approval",
            "grant_request": grant.pk,
            "requested_by": grant.requested_by.get_username(),
            "user": user.get_username(),
            "prefix": issued.record.prefix,
            "expires_at": expires_at.isoformat() if expires_at else None,
        },
    )
    return issued


register_executor(GrantKind.TOKEN, _issue_approved_token)


def _check_token_target(user: User, *, name: str, expires_at: dt.datetime | None) -> None:
    errors: dict[str, list[str]] = {}
    if not user.is_system_account:
        # A token for a person would let the administrator act as that person.
        errors["user"] = [_("只能为系统账号签发接口令牌。")]
    elif not user.is_active:
        errors["user"] = [_("该账号已停用。")]
    if not name.strip():
        errors["name"] = [_("请填写令牌用途。")]
    elif len(name.strip()) > 100:
        errors["name"] = [_("用途不能超过100字。")]
    if expires_at is not None and expires_at <= timezone.now():
        errors["expires_at"] = [_("到期时间应晚于现在。")]
    if errors:
        raise ValidationError(errors)


def revoke_token(*, token: ApiToken, actor: User | None) -> None:
    """Revoke a token at once.  Its owner may revoke it (logout); so may the security
    administrator, or the operator on the command line (``actor=None``)."""
    if actor is not None and actor.pk != token.user_id and not actor.has_role(RoleCode.SECADMIN):
        raise PermissionError(_("只有令牌所有人或安全管理员可以吊销令牌。"))
    if token.revoked_at is not None:
        return
    with transaction.atomic():
        token.revoked_at = timezone.now()
        token.save(update_fields=["revoked_at"])
        record_event(actor=actor, action="api.token.revoke", obj=token, data={"prefix": token.prefix})


def _idle_limit(record: ApiToken) -> dt.timedelta | None:
    """How long ``record`` may lie unused (issue #7 point 20), None for no limit.

    A token obtained with a password (its owner created it) is the API's session and ends after
    ``XINFANG_API_TOKEN_IDLE_MINUTES``; a token issued to an integration by approval or on the
    command line after ``XINFANG_API_ISSUED_TOKEN_IDLE_DAYS``.  Since ``last_used_at`` is written
    at most every tenth of the limit, a token ends between 90 and 100 % of it after its last use.
    """
    if record.created_by_id is not None and record.created_by_id == record.user_id:
        minutes = settings.XINFANG_API_TOKEN_IDLE_MINUTES
        return dt.timedelta(minutes=minutes) if minutes else None
    days = settings.XINFANG_API_ISSUED_TOKEN_IDLE_DAYS
    return dt.timedelta(days=days) if days else None


def authenticate_token(token: str) -> ApiToken | None:
    """The live token record for a bearer value (with its user, organisation and the organisation's
    parent — the scope's root — loaded), or None for an unknown, revoked or expired token or an
    inactive user."""
    if not token.startswith(TOKEN_PREFIX) or len(token) > _MAX_TOKEN_LENGTH:
        return None
    # The look-up is by keyed hash on a unique index: the clear token is never compared, so
    # there is no timing signal about how much of a guess was right.
    record = (
        ApiToken.objects.select_related("user", "user__organisation", "user__organisation__parent")
        .annotate(_role_codes=role_codes_of("user_id"))
        .filter(key_hash=_token_hash(token))
        .first()
    )
    if record is not None:
        record.user.set_role_codes(record.__dict__.pop("_role_codes"))
    now = timezone.now()
    if record is None or record.revoked_at is not None or not record.user.is_active:
        return None
    if record.expires_at is not None and record.expires_at <= now:
        return None
    idle_limit = _idle_limit(record)
    if idle_limit is not None and now - (record.last_used_at or record.created_at) > idle_limit:
        return None
    resolution = min(LAST_USED_RESOLUTION, idle_limit / 10) if idle_limit else LAST_USED_RESOLUTION
    if record.last_used_at is None or now - record.last_used_at > resolution:
        ApiToken.objects.filter(pk=record.pk).update(last_used_at=now)
        record.last_used_at = now
    return record
