"""The gate every signed-in staff request passes (issue #7 points 17, 18 and 20), in this order:

1. the absolute session lifetime: ``XINFANG_SESSION_MAX_AGE_HOURS`` after login the session ends,
   however active it was (the 30-minute idle limit is ``SESSION_COOKIE_AGE``);
2. the second factor: a user who needs one and has not passed it this session reaches only the
   verification page, or, with no device yet, the enrolment page;
3. the password: a user whose password was set by someone else or has expired reaches only the
   password change page.

The public portal, the API (bearer tokens, no session), static files, the CAPTCHA and the language
switch are outside the gate.
"""

from __future__ import annotations

import time
from collections.abc import Callable

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import logout
from django.contrib.auth.views import redirect_to_login
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, resolve_url
from django.utils.http import urlencode
from django.utils.translation import gettext as _
from django_otp import user_has_device

from .services import password_change_due, second_factor_required
from .signals import LOGIN_AT_SESSION_KEY

OUTSIDE_THE_GATE = ("/portal/", "/api/", "/captcha/", "/i18n/")  # and STATIC_URL
# Set once the password step is passed in a session, so the check costs no query per request; a
# password set by an administrator invalidates the session anyway (Django's session auth hash).
PASSWORD_OK_SESSION_KEY = "xf_password_ok"  # noqa: S105 - a session key, not a password


class LoginPolicyMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response
        # Settings are read when the middleware is built, not at import (STYLE.md rule 23).
        self.outside = (*OUTSIDE_THE_GATE, "/" + settings.STATIC_URL.lstrip("/"))

    def __call__(self, request: HttpRequest) -> HttpResponse:
        user = getattr(request, "user", None)
        if user is None or not user.is_authenticated or request.path.startswith(self.outside):
            return self.get_response(request)
        return self._gate(request) or self.get_response(request)

    def _gate(self, request: HttpRequest) -> HttpResponse | None:
        login_at = request.session.get(LOGIN_AT_SESSION_KEY)
        if login_at is None or time.time() - login_at > settings.XINFANG_SESSION_MAX_AGE_HOURS * 3600:
            logout(request)
            messages.info(request, _("登录已超过最长时限，请重新登录。"))
            return redirect_to_login(request.get_full_path())
        user = request.user
        always_open = {resolve_url("logout"), resolve_url("login")}
        if not user.is_verified() and second_factor_required(user):
            target = resolve_url("accounts:verify" if user_has_device(user) else "accounts:enrol")
            return None if request.path in always_open | {target} else _redirect(request, target)
        if settings.XINFANG_PASSWORD_CHANGE_ENFORCED and not request.session.get(PASSWORD_OK_SESSION_KEY):
            if not password_change_due(user):
                request.session[PASSWORD_OK_SESSION_KEY] = True
                return None
            target = resolve_url("accounts:password")
            return None if request.path in always_open | {target} else _redirect(request, target)
        return None


def _redirect(request: HttpRequest, target: str) -> HttpResponse:
    """To ``target``, remembering where the user was going (only a path of this site)."""
    wanted = request.get_full_path() if request.method == "GET" else ""
    return redirect(f"{target}?{urlencode({'next': wanted})}" if wanted else target)


# The idle limit slides with activity, but writing the session on every request (Django's
# SESSION_SAVE_EVERY_REQUEST) cost a database write per page view (issue #12 §3).  The expiry is
# renewed at most once a minute instead: a session then ends between SESSION_COOKIE_AGE minus one
# minute and SESSION_COOKIE_AGE after the last request, never later.
SEEN_SESSION_KEY = "xf_seen"
RENEW_AFTER_SECONDS = 60


class IdleRenewalMiddleware:
    """Renew a session's expiry (database row and cookie) when it was last renewed more than
    ``RENEW_AFTER_SECONDS`` ago; a session changed by the view is saved anyway."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        session = getattr(request, "session", None)
        # An empty session has nothing to keep alive (and must not be created by this).
        if session is not None and not session.is_empty():
            now = int(time.time())
            # the login saved the session with a fresh expiry: that counts as a renewal
            seen = session.get(SEEN_SESSION_KEY) or session.get(LOGIN_AT_SESSION_KEY, 0)
            if session.modified or now - seen >= RENEW_AFTER_SECONDS:
                session[SEEN_SESSION_KEY] = now
        return response
