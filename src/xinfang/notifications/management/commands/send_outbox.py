"""``xinfang send_outbox``: send the due outbox messages now (what the worker's every-minute
``deliver_outbox`` job does; safe beside it)."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand

from xinfang.notifications.tasks import deliver_pending


class Command(BaseCommand):
    help = "Send the due e-mail and SMS of the outbox now (safe beside the worker)."

    def handle(self, *args: Any, **options: Any) -> None:
        sent = deliver_pending()
        self.stdout.write(f"sent {sent}")
