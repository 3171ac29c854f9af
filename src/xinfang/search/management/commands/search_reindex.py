"""``xinfang search_reindex [--batch N] [--since DATE] [--after-id ID]``: rebuild the full-text
index, batch by batch in ascending id order, printing progress.  Each batch is one transaction,
so an interrupted run is resumed with ``--after-id`` (the last id it printed).  Run it after
adding dictionary terms: a new term affects only petitions indexed after it."""

from __future__ import annotations

import datetime as dt
import time

from django.core.management.base import BaseCommand, CommandError

from xinfang.petitions.models import Petition
from xinfang.search import indexer


class Command(BaseCommand):
    help = "Rebuild the full-text search index of petitions (batched, resumable)."

    def add_arguments(self, parser) -> None:  # noqa: ANN001
        parser.add_argument("--batch", type=int, default=1000, help="petitions per transaction")
        parser.add_argument("--since", default="", help="only petitions registered on or after YYYY-MM-DD")
        parser.add_argument("--after-id", type=int, default=0, help="resume after this petition id")
        parser.add_argument("--until-id", type=int, default=None, help="stop at this petition id (ranges)")

    def handle(self, *args, batch: int, since: str, after_id: int, until_id: int | None, **options) -> None:  # noqa: ANN002, ANN003
        if batch < 1:
            raise CommandError("--batch must be at least 1")
        since_date = None
        if since:
            try:
                since_date = dt.date.fromisoformat(since)
            except ValueError:
                raise CommandError("--since must be YYYY-MM-DD") from None
        total_qs = Petition.objects.filter(pk__gt=after_id)
        if until_id is not None:
            total_qs = total_qs.filter(pk__lte=until_id)
        if since_date:
            total_qs = total_qs.filter(registered_at__date__gte=since_date)
        total = total_qs.count()
        done, started = 0, time.monotonic()
        for ids in indexer.batches(batch=batch, since=since_date, after_id=after_id, until_id=until_id):
            done += indexer.index_many(ids)
            rate = done / max(time.monotonic() - started, 1e-6)
            self.stdout.write(f"{done}/{total} indexed, last id {ids[-1]} ({rate:.0f}/s)")
        self.stdout.write(self.style.SUCCESS(f"search index: {done} petitions indexed"))
