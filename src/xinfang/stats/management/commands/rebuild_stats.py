"""xinfang rebuild_stats: recompute every statistics count from the facts."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand

from xinfang.stats.rollup import rebuild


class Command(BaseCommand):
    help = "Recompute every statistics count (daily and monthly) from petitions and their records."

    def handle(self, *args: Any, **options: Any) -> None:
        days = rebuild()
        self.stdout.write(f"rebuilt the counts of {days} days")
