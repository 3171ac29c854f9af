"""What an imported batch triggers in the apps beside this one (signals.petitions_imported).

``search`` and ``stats`` sit on the same floor and the import does not import them: their bulk
entry points are looked up by name (as ``xinfang backfill_deadlines`` calls ``rebuild_stats`` by
name), only when the app is installed.  A site without one of them imports all the same.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from django.apps import apps
from django.utils.module_loading import import_string

SEARCH_INDEX_MANY = "xinfang.search.indexer.index_many"  # (petition_ids) → rows written
STATS_MARK_DAYS = "xinfang.stats.rollup.mark_days"  # (days) → the worker recomputes them


def index_for_search(sender: Any, *, petition_ids: list[int], **kwargs: Any) -> None:
    """The full-text index rows of the batch, in its transaction (search indexes on ``post_save``,
    which ``bulk_create`` does not send)."""
    if apps.is_installed("xinfang.search"):
        import_string(SEARCH_INDEX_MANY)(petition_ids)


def mark_statistics_days(sender: Any, *, days: Iterable[Any], **kwargs: Any) -> None:
    """The days the batch's petitions count on, for the every-minute roll-up to recompute."""
    if apps.is_installed("xinfang.stats"):
        import_string(STATS_MARK_DAYS)(days)
