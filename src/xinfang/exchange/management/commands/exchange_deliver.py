"""``xinfang exchange_deliver``: send the calls to peers that are waiting, now (what the periodic
job ``exchange_deliver`` does every minute; ``--now`` also sends those waiting for a retry)."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from xinfang.exchange.tasks import deliver_pending


class Command(BaseCommand):
    help = "Deliver pending referrals, reports and decisions to the peers."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--now", action="store_true", help="ignore the retry backoff")

    def handle(self, *args: Any, **options: Any) -> None:
        self.stdout.write(str(deliver_pending(force=options["now"])))
