"""Counting and paging long lists without counting a million rows per request.

A staff list shows "共 N 件" and page links.  An exact ``COUNT(*)`` over a scope of hundreds of
thousands of petitions costs a scan of all of them on every page view, however fast the page
itself is.  Nobody pages through more than a few thousand rows, so counts stop at ``COUNT_CAP``:
below it they are exact, above it the list says "more than N" and asks to narrow the filters.
"""

from __future__ import annotations

from django.core.paginator import Page, Paginator
from django.db.models import QuerySet
from django.utils.functional import cached_property

COUNT_CAP = 10_000
# The staff work queue's count, and a full-text search's (queue and API), stop sooner: counting a
# county's 12,000 open petitions to 10,000 cost 240 ms of a 310 ms queue page at a million
# petitions, counting to 1,000 about 30 ms; nobody pages through a thousand petitions — the
# page says "超过 1000 件，请缩小筛选范围" and they filter or add a word instead.
QUEUE_COUNT_CAP = 1_000
SEARCH_COUNT_CAP = QUEUE_COUNT_CAP


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

    def read_page(self, number: object) -> Page:
        """``get_page(number)`` with its rows as a list.  The first page reads one row more than
        it shows: when the list fits on it, that one query is also the count (a person's history,
        a search for a rare word), and the count query is not made; when more follow, they are
        counted and the rows already read are the page."""
        if "count" not in self.__dict__ and str(number or "1") == "1":
            rows = list(self.object_list[: self.per_page + 1])
            if len(rows) <= min(self.per_page, self.cap):
                self.__dict__["count"] = len(rows)  # the cached_property's value, exact
            page = self.page(1)  # counted when more follow; its own slice is never read
            page.object_list = rows[: min(self.per_page, self.count)]  # as Paginator.page slices
            return page
        page = self.get_page(number)
        page.object_list = list(page.object_list)
        return page
