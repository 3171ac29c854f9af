"""``xinfang conclude_lapsed``: conclude the matters whose review or recheck window passed unused.

Run it once a day from the scheduler (cron, a systemd timer, the worker); see docs/deployment.md.
"""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand

from xinfang.workflow.appeals import conclude_lapsed


class Command(BaseCommand):
    help = "终结复查、复核请求期限届满而未请求的信访事项（可重复运行）。"

    def handle(self, *args: Any, **options: Any) -> None:
        concluded, skipped = conclude_lapsed()
        self.stdout.write(f"concluded {concluded}, skipped {skipped}")
