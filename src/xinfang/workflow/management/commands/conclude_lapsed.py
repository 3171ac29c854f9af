"""``xinfang conclude_lapsed``: conclude the matters whose review or recheck window passed unused.

The background worker runs it every night (``xinfang.workflow.tasks.conclude_lapsed``, 01:15 in
core/schedule.py), so no site installs a cron line for it.  This command is the same job by hand
(after restoring a backup, or to see the figures at once); it is safe beside the worker's run: each
petition is concluded under its row lock, once.  See docs/deployment.md.
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
