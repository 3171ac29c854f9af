"""core.pagination.CappedPaginator.read_page: a first page that holds the whole list is also its
count (issue #12 §3: a person's history, a rare word's search)."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from xinfang.core.pagination import CappedPaginator
from xinfang.organisations.models import Organisation

pytestmark = pytest.mark.django_db


def _read(per_page: int, number: object) -> tuple[list[int], int, bool, int]:
    rows = Organisation.objects.order_by("pk")
    paginator = CappedPaginator(rows, per_page)
    with CaptureQueriesContext(connection) as ctx:
        page = paginator.read_page(number)
        count = paginator.count
    return [o.pk for o in page.object_list], count, paginator.count_exact, len(ctx)


def test_a_first_page_holding_everything_costs_one_query(world):
    everything = list(Organisation.objects.order_by("pk").values_list("pk", flat=True))
    assert _read(len(everything), None) == (everything, len(everything), True, 1)
    assert _read(len(everything), "1") == (everything, len(everything), True, 1)


def test_a_longer_list_is_counted_and_paged_as_before(world):
    everything = list(Organisation.objects.order_by("pk").values_list("pk", flat=True))
    first, count, exact, queries = _read(2, 1)
    assert (first, count, exact, queries) == (everything[:2], len(everything), True, 2)
    second, *_ = _read(2, "2")
    assert second == everything[2:4]
    last, *_ = _read(2, "999")  # out of range: the last page, as get_page
    assert last == everything[-2:] or last == everything[-1:]
