"""``xinfang exchange_peer``: the operator configures a peer (the staff page is the system
administrator's ``/staff/referrals/peers/``).  The token is read from ``--token`` and stored
encrypted; it is never printed."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import transaction

from xinfang.audit.services import record_event
from xinfang.exchange.models import Peer
from xinfang.organisations.models import User


class Command(BaseCommand):
    help = "Create or update a peer (another installation): URL, token to use there, local account it uses."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("name")
        parser.add_argument("--url", default="")
        parser.add_argument("--token", default="")
        parser.add_argument("--account", default="", help="local system account the peer calls us with")
        parser.add_argument("--remote-office-code", default="")
        parser.add_argument("--disabled", action="store_true")

    def handle(self, *args: Any, **options: Any) -> None:
        account = None
        if options["account"]:
            account = User.objects.filter(username=options["account"], is_system_account=True).first()
            if account is None:
                raise CommandError(f"No system account {options['account']!r}.")
        with transaction.atomic():
            peer, _created = Peer.objects.get_or_create(name=options["name"])
            peer.base_url = options["url"].rstrip("/")
            if options["token"]:
                peer.token, peer.token_hint = options["token"], options["token"][:6]
            peer.account, peer.remote_office_code = account, options["remote_office_code"]
            peer.is_enabled = not options["disabled"]
            peer.save()
            record_event(
                actor=None, action="exchange.peer", obj=peer, data={"via": "command", "url": peer.base_url}
            )
        self.stdout.write(str(peer.pk))
