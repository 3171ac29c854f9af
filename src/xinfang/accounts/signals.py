"""The one signal receiver of the app: stamp the moment of login into the session.

``django.contrib.auth.login`` sends ``user_logged_in`` on every login (the staff login page,
``Client.force_login`` in tests); the absolute session lifetime (point 20) counts from this stamp,
however often the idle timeout is renewed by later requests.
"""

from __future__ import annotations

import time
from typing import Any

from django.contrib.auth.signals import user_logged_in
from django.dispatch import receiver
from django.http import HttpRequest

LOGIN_AT_SESSION_KEY = "xf_login_at"


@receiver(user_logged_in, dispatch_uid="xinfang.accounts.stamp_login_time")
def stamp_login_time(sender: Any, request: HttpRequest | None, user: Any, **kwargs: Any) -> None:
    if request is not None and hasattr(request, "session"):
        request.session[LOGIN_AT_SESSION_KEY] = int(time.time())
