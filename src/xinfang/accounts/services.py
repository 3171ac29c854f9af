"""The staff login sequence and the security administrator's account actions (issue #7 points 17-19).

A staff login is: the per-account lock (:func:`check_not_locked`), the password with its
per-address throttle (``organisations.services.authenticate_staff``), then, for everyone who needs
it, a second factor (:func:`verify_second_factor`) or, the first time, enrolment of a TOTP
authenticator (:func:`start_enrolment`, :func:`confirm_enrolment`).  Every failure of either
factor, from any address, counts towards the account's lock (:func:`record_login_failure`).  The
staff pages, the API's token endpoint and the tests all call these functions.
"""

from __future__ import annotations

import base64
import datetime as dt
import math

from django.conf import settings
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django_otp import user_has_device
from django_otp.models import Device
from django_otp.plugins.otp_static.models import StaticDevice, StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice

from xinfang.audit.services import record_event
from xinfang.core import throttle
from xinfang.core.throttle import Throttled
from xinfang.organisations.choices import ADMIN_ROLES, CASEWORK_ROLES, RoleCode
from xinfang.organisations.models import User
from xinfang.organisations.services import LoginFailed, authenticate_staff

from .models import LoginState

__all__ = [
    "AccountLocked",
    "LoginFailed",
    "change_own_password",
    "check_not_locked",
    "confirm_enrolment",
    "login_with_password",
    "mark_password_current",
    "password_change_due",
    "record_login_failure",
    "SecondFactorWait",
    "reset_second_factor",
    "second_factor_required",
    "set_password_by_admin",
    "start_enrolment",
    "totp_secret",
    "unlock_account",
    "verify_second_factor",
]

# Point 17: two factors for the three administrators and for every role that can reveal personal
# data: petitions.views.reveal (and the API's reveal) are open to every casework role.
MANDATORY_2FA_ROLES = ADMIN_ROLES | CASEWORK_ROLES
RECOVERY_CODES = 10
UNKNOWN_ACCOUNT_SCOPE = "login-unknown-account"


class AccountLocked(Throttled):
    """The account is locked after repeated failures; ``retry_after`` is the seconds left.

    A subclass of :class:`Throttled` so every caller answers it as it answers the per-address
    throttle (the login page's message, the API's 429): the two cannot be told apart, and neither
    can an unknown user name, which has a lock of its own in the cache (no enumeration).
    """

    default_message = gettext_lazy("登录失败次数过多，请稍后再试。")


class SecondFactorWait(Exception):
    """django-otp's back-off after a wrong code (1, 2, 4 … seconds) has not passed yet: the code
    was not even compared, so this is no failure; the user is asked to wait ``retry_after``."""

    def __init__(self, retry_after: int) -> None:
        self.retry_after = max(1, retry_after)
        self.message = _("请{seconds}秒后再输入验证码。").format(seconds=self.retry_after)
        super().__init__(self.message)


def _check_back_off(devices: list[Device]) -> None:
    """Raise :class:`SecondFactorWait` when every device is still in its back-off."""
    waits = [data for allowed, data in (d.verify_is_allowed() for d in devices) if not allowed]
    if devices and len(waits) == len(devices):
        until = min(w.get("locked_until") or timezone.now() for w in waits)
        raise SecondFactorWait(math.ceil((until - timezone.now()).total_seconds()))


def _lock_period() -> dt.timedelta:
    return dt.timedelta(minutes=settings.XINFANG_ACCOUNT_LOCK_MINUTES)


def _unknown_rate() -> throttle.Rate:
    return throttle.Rate(settings.XINFANG_ACCOUNT_LOCK_THRESHOLD, settings.XINFANG_ACCOUNT_LOCK_MINUTES * 60)


def _find_user(username: str) -> User | None:
    # The same exact match as Django's ModelBackend; a NUL byte matches nobody (and PostgreSQL
    # refuses it in a query).
    if "\x00" in username:
        return None
    return User.objects.filter(username=username).first()


# --- the per-account lock (point 19) --------------------------------------------------------------


def check_not_locked(*, user: User | None, username: str = "") -> None:
    """Raise :class:`AccountLocked` while ``user``'s account (or, for no user, the name) is locked."""
    if user is None:
        throttle.check(UNKNOWN_ACCOUNT_SCOPE, username.strip().lower(), _unknown_rate())
        return
    now = timezone.now()
    locked_until = LoginState.objects.filter(user=user).values_list("locked_until", flat=True).first()
    if locked_until is not None and locked_until > now:
        raise AccountLocked(math.ceil((locked_until - now).total_seconds()))


def record_login_failure(*, user: User, ip: str, channel: str) -> bool:
    """Count one failed password or second factor of ``user``, from whatever address.

    The ``XINFANG_ACCOUNT_LOCK_THRESHOLD``-th consecutive failure locks the account for
    ``XINFANG_ACCOUNT_LOCK_MINUTES`` and writes ``account.locked`` to the audit log, which the
    security administrator sees on every staff page (context_processors.security_notices).
    Failures older than the lock period, or before a lock that has ended, are forgotten.

    Atomic under concurrency: the counter is read and written under the row lock
    (``SELECT … FOR UPDATE`` on PostgreSQL, the write lock of an immediate transaction on SQLite),
    so simultaneous failures are all counted and exactly one of them locks.  Returns True for that one.
    """
    LoginState.objects.get_or_create(user=user)
    now = timezone.now()
    with transaction.atomic():
        state = LoginState.objects.select_for_update().get(user=user)
        lock_ended = state.locked_until is not None and state.locked_until <= now
        stale = state.last_failure_at is None or now - state.last_failure_at > _lock_period()
        if lock_ended or stale:
            state.failures, state.locked_until = 0, None
        state.failures += 1
        state.last_failure_at = now
        locks_now = state.failures >= settings.XINFANG_ACCOUNT_LOCK_THRESHOLD and state.locked_until is None
        if locks_now:
            state.locked_until = now + _lock_period()
        state.save(update_fields=["failures", "last_failure_at", "locked_until"])
        if locks_now:
            record_event(
                actor=None,
                action="account.locked",
                obj=user,
                data={
                    "username": user.get_username(),
                    "failures": state.failures,
                    "locked_until": state.locked_until.isoformat(),
                    "channel": channel,
                },
                ip=ip,
            )
    return locks_now


def _clear_failures(user: User) -> None:
    LoginState.objects.filter(user=user, failures__gt=0).update(failures=0, last_failure_at=None)


def unlock_account(*, user: User, actor: User) -> None:
    """The security administrator ends a lock before its time (audited ``account.unlock``)."""
    _require_secadmin(actor, user)
    with transaction.atomic():
        LoginState.objects.filter(user=user).update(failures=0, last_failure_at=None, locked_until=None)
        record_event(actor=actor, action="account.unlock", obj=user, data={"username": user.get_username()})


def locked_accounts(limit: int = 20) -> list[LoginState]:
    """Accounts locked now, the most recent first (for the security administrator's notice)."""
    return list(
        LoginState.objects.filter(locked_until__gt=timezone.now())
        .select_related("user")
        .order_by("-locked_until")[:limit]
    )


# --- the password step --------------------------------------------------------------------------


def login_with_password(*, username: str, password: str, ip: str, channel: str) -> User:
    """The first step of every staff login, on the login page and the API's token endpoint.

    Raises :class:`AccountLocked` (also with the right password: guessing must not go on),
    :class:`Throttled` (the per-address throttle of ``authenticate_staff``) or :class:`LoginFailed`.
    """
    user = _find_user(username)
    check_not_locked(user=user, username=username)
    try:
        authenticated = authenticate_staff(username=username, password=password, ip=ip, channel=channel)
    except LoginFailed:
        if user is not None:
            record_login_failure(user=user, ip=ip, channel=channel)
        else:  # nobody to lock, but the name behaves as an account would
            throttle.hit(UNKNOWN_ACCOUNT_SCOPE, username.strip().lower(), _unknown_rate())
        raise
    _clear_failures(authenticated)
    return authenticated


# --- the second factor (point 17) ---------------------------------------------------------------


def second_factor_required(user: User) -> bool:
    """Whether ``user`` must pass a second factor to use the staff pages.

    Always required of the roles in :data:`MANDATORY_2FA_ROLES`; of everyone else when
    ``XINFANG_2FA_FOR_ALL_STAFF`` is on (the default) or when they have enrolled a device anyway
    (a factor one has is always asked for).
    """
    if not settings.XINFANG_2FA_ENFORCED:
        return False
    if settings.XINFANG_2FA_FOR_ALL_STAFF or user.has_role(*MANDATORY_2FA_ROLES):
        return True
    return user_has_device(user)


def start_enrolment(*, user: User) -> TOTPDevice:
    """The TOTP device being enrolled: an unconfirmed one, kept across page reloads so the QR code
    stays the same until it is confirmed."""
    device = TOTPDevice.objects.filter(user=user, confirmed=False).order_by("pk").first()
    if device is None:
        device = TOTPDevice.objects.create(user=user, name=_("手机验证器"), confirmed=False)
    return device


def totp_secret(device: TOTPDevice) -> str:
    """The device's key as the base32 text authenticators accept when typed instead of scanned."""
    return base64.b32encode(device.bin_key).decode("ascii").rstrip("=")


def confirm_enrolment(*, user: User, device: TOTPDevice, code: str, ip: str) -> list[str]:
    """Confirm ``device`` with a code from the authenticator and return new recovery codes.

    The recovery codes are shown once (the page that calls this); each works once, in place of a
    TOTP code.  Earlier devices of the user are removed.  A wrong code at enrolment does not count
    towards the lock: whoever is enrolling has just passed the password step.
    """
    if device.user_id != user.pk or device.confirmed:
        raise ValidationError({"code": [_("请重新开始绑定。")]}, code="enrolment_stale")
    try:
        _check_back_off([device])
    except SecondFactorWait as exc:
        raise ValidationError({"code": [exc.message]}, code="otp_wait") from None
    if not device.verify_token(_normalise(code)):
        raise ValidationError({"code": [_("验证码不正确，请核对手机时间后重试。")]}, code="invalid_otp")
    with transaction.atomic():
        device.confirmed = True
        device.save(update_fields=["confirmed"])
        TOTPDevice.objects.filter(user=user).exclude(pk=device.pk).delete()
        StaticDevice.objects.filter(user=user).delete()
        LoginState.objects.filter(user=user).update(second_factor_reset_by=None)  # the owner's own now
        recovery = StaticDevice.objects.create(user=user, name=_("恢复码"), confirmed=True)
        codes = [StaticToken.random_token() for _i in range(RECOVERY_CODES)]
        StaticToken.objects.bulk_create([StaticToken(device=recovery, token=c) for c in codes])
        record_event(actor=user, action="2fa.enrol", obj=user, data={"recovery_codes": len(codes)}, ip=ip)
    return codes


def _normalise(code: str) -> str:
    return "".join(code.split()).lower()


def verify_second_factor(*, user: User, code: str, ip: str) -> Device | None:
    """The device that accepts ``code`` (a TOTP code or an unused recovery code), or None.

    Raises :class:`AccountLocked` while the account is locked and :class:`SecondFactorWait` during
    django-otp's back-off after a wrong code.  A wrong code counts towards the lock like a wrong
    password; both outcomes are audited.
    """
    check_not_locked(user=user)
    code = _normalise(code)
    # Six digits is a TOTP code, anything else a recovery code: trying each code on every device
    # would also step up the other device's own back-off (django-otp's ThrottlingMixin).
    kind = TOTPDevice if code.isdigit() and len(code) == 6 else StaticDevice
    devices = list(kind.objects.filter(user=user, confirmed=True))
    _check_back_off(devices)
    for device in devices:
        if device.verify_token(code):
            _clear_failures(user)
            record_event(actor=user, action="login.2fa", obj=user, data={"factor": kind.__name__}, ip=ip)
            return device
    record_event(actor=user, action="login.2fa_failed", obj=user, data={"factor": kind.__name__}, ip=ip)
    record_login_failure(user=user, ip=ip, channel="2fa")
    return None


def reset_second_factor(*, user: User, actor: User) -> None:
    """The security administrator removes a user's authenticator and recovery codes (a lost phone);
    the user enrols again at the next login.  Audited ``2fa.reset``."""
    _require_secadmin(actor, user)
    _check_not_both_credentials(actor=actor, user=user, resetting="second_factor")
    with transaction.atomic():
        totp, _n = TOTPDevice.objects.filter(user=user).delete()
        static, _n = StaticDevice.objects.filter(user=user).delete()
        LoginState.objects.update_or_create(user=user, defaults={"second_factor_reset_by": actor})
        record_event(
            actor=actor,
            action="2fa.reset",
            obj=user,
            data={"username": user.get_username(), "devices": totp + static},
        )


def _check_not_both_credentials(*, actor: User, user: User, resetting: str) -> None:
    """One administrator may reset an account's password or its second factor, not both before
    the owner has replaced the first (set their own password, enrolled a device): holding a new
    password and no device to pass, they could sign in as the owner alone.  Both at once (a
    forgotten password and a lost phone) take two security administrators — four-eyes, as for
    grants (security.md §2, §3)."""
    state = LoginState.objects.filter(user=user).first()
    if state is None:
        return
    other = state.password_reset_by_id if resetting == "second_factor" else state.second_factor_reset_by_id
    if other == actor.pk:
        raise PermissionError(
            _("您已重置该账号的另一项登录凭据，本人尚未重新设置；此项须由另一名安全管理员重置。")
        )


def _require_secadmin(actor: User | None, user: User) -> None:
    if actor is None or not actor.has_role(RoleCode.SECADMIN):
        raise PermissionError(_("只有安全管理员可以执行此操作。"))
    if actor.pk == user.pk:  # 三员分立: no administrator acts on their own account
        raise PermissionError(_("不能对自己的账号执行此操作。"))


# --- passwords (point 18) ------------------------------------------------------------------------


def password_change_due(user: User) -> bool:
    """Whether ``user`` must choose a new password before working: it was set by someone else, an
    administrator asked for a change, or it is older than ``XINFANG_PASSWORD_MAX_AGE_DAYS``."""
    state = LoginState.objects.filter(user=user).first()
    if state is None or state.must_change_password or state.password_changed_at is None:
        return True
    max_age = settings.XINFANG_PASSWORD_MAX_AGE_DAYS
    return bool(max_age) and timezone.now() - state.password_changed_at > dt.timedelta(days=max_age)


def change_own_password(*, user: User, old_password: str, new_password: str, ip: str) -> None:
    """A staff member replaces their own password, proving the old one.

    The new one must pass every validator of AUTH_PASSWORD_VALIDATORS (length, character classes,
    none of the last five).  A wrong old password counts towards the lock: a stolen session must not
    become a way to guess the password.  Audited ``password.change``.
    """
    if not user.check_password(old_password):
        record_login_failure(user=user, ip=ip, channel="password_change")
        raise ValidationError({"old_password": [_("原密码不正确。")]}, code="wrong_password")
    try:
        validate_password(new_password, user)
    except ValidationError as exc:
        raise ValidationError({"new_password": exc.messages}, code="weak_password") from None
    with transaction.atomic():
        user.set_password(new_password)
        user.save(update_fields=["password"])
        _set_password_state(user, must_change=False)
        record_event(actor=user, action="password.change", obj=user, ip=ip)


def set_password_by_admin(*, user: User, new_password: str, actor: User) -> None:
    """The security administrator sets a password (a forgotten one); its owner must change it at
    the next login.  Audited ``password.reset`` (without the password)."""
    _require_secadmin(actor, user)
    _check_not_both_credentials(actor=actor, user=user, resetting="password")
    try:
        validate_password(new_password, user)
    except ValidationError as exc:
        raise ValidationError({"password": exc.messages}, code="weak_password") from None
    with transaction.atomic():
        user.set_password(new_password)
        user.save(update_fields=["password"])
        _set_password_state(user, must_change=True, reset_by=actor)
        record_event(actor=actor, action="password.reset", obj=user, data={"username": user.get_username()})


def mark_password_current(*, user: User) -> None:
    """Record the present password as chosen by its owner: for the demo accounts only, whose
    password is published and must stay as the README prints it."""
    _set_password_state(user, must_change=False)


def _set_password_state(user: User, *, must_change: bool, reset_by: User | None = None) -> None:
    LoginState.objects.update_or_create(
        user=user,
        defaults={
            "must_change_password": must_change,
            "password_changed_at": timezone.now(),
            "password_reset_by": reset_by,  # None: the owner's own password now
        },
    )
