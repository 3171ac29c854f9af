"""xinfang backfill_deadlines: deadline records for petitions registered before they existed."""

from __future__ import annotations

from typing import Any

from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandParser

from xinfang.workflow.backfill import backfill


class Command(BaseCommand):
    help = (
        "Derive the deadline records of petitions that have none from their timeline (a site upgraded "
        "from before issue #9), set missing evaluation due dates, then rebuild the statistics.  "
        "Petitions that already have records are skipped, so it is safe to run again."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--batch-size", type=int, default=2000, help="petitions per transaction")
        parser.add_argument("--no-rebuild", action="store_true", help="do not run rebuild_stats afterwards")

    def handle(self, *args: Any, **options: Any) -> None:
        def progress(done: int, total: int) -> None:
            self.stdout.write(f"  {done:,} / {total:,} petitions")

        petitions, records = backfill(batch_size=max(1, options["batch_size"]), progress=progress)
        self.stdout.write(f"Deadline records: {records:,} derived for {petitions:,} petitions.")
        if not options["no_rebuild"]:
            # By name: the statistics app sits above workflow, which does not import it.
            call_command("rebuild_stats", stdout=self.stdout)
