"""``xinfang issue_token <username> --name …``: issue an API token to a system account.

A thin wrapper around ``xinfang.api.services.issue_token``; the token is printed once and is not
stored anywhere in clear.  This is the server operator's path (audited as ``via: command``); in the
staff system a token needs a request and a second administrator's approval (docs/security.md §2).
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils import timezone

from xinfang.api.services import issue_token
from xinfang.organisations.models import User


class Command(BaseCommand):
    help = "Issue an API token to a system account (e.g. the 12345 platform) and print it once."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("username", help="the system account (User.is_system_account) to issue for")
        parser.add_argument("--name", required=True, help="what the token is for, e.g. '12345 平台对接'")
        parser.add_argument(
            "--days", type=int, default=None, help="expire after this many days (default: never)"
        )

    def handle(self, *args: Any, **options: Any) -> None:
        user = self._user(options["username"])
        days = options["days"]
        if days is not None and days < 1:
            raise CommandError("--days must be at least 1")
        expires_at = timezone.now() + dt.timedelta(days=days) if days else None
        try:
            issued = issue_token(user=user, name=options["name"], actor=None, expires_at=expires_at)
        except ValidationError as exc:
            raise CommandError("; ".join(exc.messages)) from None
        except PermissionError as exc:
            raise CommandError(str(exc)) from None
        expiry = issued.expires_at.isoformat() if issued.expires_at else "never"
        self.stderr.write(f"Token {issued.record.prefix}… for {user.get_username()}, expires {expiry}.")
        self.stderr.write("It is shown once; store it in the integration's secret store now.")
        self.stdout.write(issued.token)

    def _user(self, username: str) -> User:
        try:
            return User.objects.get(username=username)
        except User.DoesNotExist:
            raise CommandError(f"No user named {username!r}.") from None
