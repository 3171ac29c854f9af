"""``xinfang purge_idempotency_keys``: delete stored idempotent responses past their retention.

Run it daily (cron or the job runner); the logic is ``xinfang.api.idempotency.purge_idempotency_keys``.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from xinfang.api.idempotency import RETENTION, purge_idempotency_keys


class Command(BaseCommand):
    help = "Delete stored Idempotency-Key responses older than the retention period (default 24 hours)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--hours", type=int, default=int(RETENTION.total_seconds() // 3600))

    def handle(self, *args: Any, **options: Any) -> None:
        deleted = purge_idempotency_keys(older_than=dt.timedelta(hours=max(1, options["hours"])))
        self.stdout.write(f"Deleted {deleted} idempotency record(s).")
