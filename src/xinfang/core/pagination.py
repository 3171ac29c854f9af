"""Counting and paging long lists without counting a million rows per request.

A staff list shows "共 N 件" and page links.  An exact ``COUNT(*)`` over a scope of hundreds of
thousands of petitions costs a scan of all of them on every page view, however fast the page
itself is.  Nobody pages through more than a few thousand rows, so counts stop at ``COUNT_CAP``:
below it they are exact, above it the list says "more than N" and asks to narrow the filters.
"""

from __future__ import annotations

from django.core.paginator import Paginator
from django.db.models import QuerySet
from django.utils.functional import cached_property

COUNT_CAP = 10_000
# A full-text search's count stops sooner: its matches are read from the search index and checked
# one by one, so counting to 10,000 costs ten times the page; nobody reads past a thousand hits
# of a search — they add a word instead.
SEARCH_COUNT_CAP = 1_000


def capped_count(qs: QuerySet, cap: int | None = None) -> tuple[int, bool]:
    """``(count, exact)``: the number of rows, counted no further than ``cap``.

    The ordering is dropped (a count does not need it) so the database may take the cheapest
    path; ``LIMIT cap + 1`` lets it stop early instead of visiting every row in scope.
    """
    cap = COUNT_CAP if cap is None else cap
    n = qs.order_by()[: cap + 1].count()
    return (n, True) if n <= cap else (cap, False)


class CappedPaginator(Paginator):
    """A Paginator whose count stops at ``cap`` (``count_exact`` tells whether it did)."""

    def __init__(
        self, object_list: QuerySet, per_page: int, cap: int | None = None, **kwargs: object
    ) -> None:
        super().__init__(object_list, per_page, **kwargs)
        self.cap = COUNT_CAP if cap is None else cap
        self.count_exact = True

    @cached_property
    def count(self) -> int:  # type: ignore[override]
        n, self.count_exact = capped_count(self.object_list, self.cap)
        return n
