"""The set-based rebuild (one INSERT … SELECT per source and dimension) writes exactly the rows the
per-day recomputation of the refresh computes, and the months are the sums of their days."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict

from django.utils import timezone

from xinfang.stats import rollup
from xinfang.stats.models import DailyCount, MonthlyCount
from xinfang.workflow import services

from ..factories import make_draft
from ..procedure import to_reviewed


def _register(world, county, clerk, **overrides):
    draft = make_draft(county.township, **overrides)
    return services.register(draft=draft, office=county.office, actor=clerk).petition


def _daily_rows() -> dict:
    rows = DailyCount.objects.values_list(
        "day", "metric", "organisation_id", "organisation_path", "dimension", "key", "value"
    )
    return {(str(d), m, o, p, dim, k): v for d, m, o, p, dim, k, v in rows}


def test_rebuild_equals_the_refresh_day_by_day_and_months_sum_their_days(world):
    today = timezone.localdate()
    # Two offices, several months, channels, purposes, headcounts; one petition through review.
    first = _register(world, world.a, world.intake_a, received_on=today - dt.timedelta(days=70), headcount=3)
    _register(world, world.a, world.intake_a, channel="visit", received_on=today - dt.timedelta(days=40))
    _register(world, world.b, world.intake_b, purpose="request", received_on=today - dt.timedelta(days=1))
    _register(world, world.b, world.intake_b, channel="online", headcount=7, received_on=today)
    to_reviewed(world, first.number)

    rollup.rebuild()
    rebuilt = _daily_rows()
    expected = {
        (str(day), m, o, p, dim, k): v
        for day in rollup.fact_days()
        for (m, o, p, dim, k), v in rollup.compute_day(day).items()
    }
    assert rebuilt == expected
    metrics = {key[1] for key in rebuilt}
    assert {"received", "persons", "replied", "review_requested", "review_decided"} <= metrics
    assert {key[4] for key in rebuilt} == {"", "category", "channel", "purpose", "locality"}

    months: dict = defaultdict(int)
    for (day, m, o, _p, dim, k), v in rebuilt.items():
        months[(day[:7], m, o, dim, k)] += v
    stored = {
        (f"{month:%Y-%m}", m, o, dim, k): v
        for month, m, o, dim, k, v in MonthlyCount.objects.values_list(
            "month", "metric", "organisation_id", "dimension", "key", "value"
        )
    }
    assert stored == dict(months)
    assert len({key[0] for key in stored}) >= 3  # the data span three months at least

    # The incremental path from empty tables arrives at the same rows.
    DailyCount.objects.all().delete()
    MonthlyCount.objects.all().delete()
    rollup.mark_days(rollup.fact_days())
    rollup.refresh()
    assert _daily_rows() == rebuilt
    assert sorted(
        MonthlyCount.objects.values_list("month", "metric", "organisation_id", "dimension", "key", "value")
    ) == sorted(
        (dt.date.fromisoformat(f"{m}-01"), mt, o, dim, k, v) for (m, mt, o, dim, k), v in months.items()
    )
