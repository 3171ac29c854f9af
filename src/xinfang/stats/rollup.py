"""Keeping the counts: mark the days an action touched, recompute them from the facts.

An action marks the days whose figures it may change (``mark_days``, in its own transaction); the
worker's ``refresh`` takes each marked day in a transaction of its own: it removes the mark, then
recomputes that day's ``DailyCount`` rows from the facts and moves the month's ``MonthlyCount``
rows by the difference.  Why this is exact under concurrency (docs/statistics.md §4):

* the mark and the facts commit together, so a refresh that sees the mark sees the facts;
* a refresh deletes the day's marks *before* it reads the facts, each in its own statement (READ
  COMMITTED: each statement sees what was committed when it began).  A mark the delete did not see
  belongs to an action that committed after the delete began: it survives, and the next refresh
  recomputes the day.  A mark it deleted was committed before, with its facts, which the later
  reading statements therefore see;
* marks are append-only rows without a unique key, so marking never waits on anyone;
* two refreshes of one day queue on the marks' row locks: the second deletes nothing new and skips
  the day (or recomputes it again, harmlessly, if new marks arrived).

``rebuild`` recomputes every day from the facts (``xinfang rebuild_stats``).
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Iterable
from typing import Any

from django.db import connection, transaction
from django.db.models import CharField, Count, F, Max, Min, Q, Sum, Value
from django.db.models.functions import Cast, Coalesce, TruncDate, TruncMonth
from django.utils import timezone

from xinfang.core.statistics import analyze

from .metrics import DIMENSIONS, METRICS, SOURCES, Metric, Source
from .models import DailyCount, DirtyDay, MonthlyCount, RefreshState

Key = tuple[str, int, str, str, str]  # metric, organisation, path, dimension, key


def mark_days(days: Iterable[dt.date | None]) -> None:
    """Mark ``days`` for recomputation (inside the caller's transaction)."""
    rows = [DirtyDay(day=d) for d in {d for d in days if d is not None}]
    if rows:
        DirtyDay.objects.bulk_create(rows)


def _metrics_of(source: Source) -> list[Metric]:
    return [m for m in METRICS.values() if m.source is source]


def _aggregates(source: Source, metrics: list[Metric]) -> dict[str, Any]:
    """Each metric of ``source`` as a filtered aggregate: rows counted, or persons summed."""
    aggregates: dict[str, Any] = {}
    for m in metrics:
        where = m.where()
        aggregates[m.name] = (
            Sum(source.lookup("headcount"), filter=where) if m.persons else Count("pk", filter=where)
        )
    return aggregates


def _source_counts(source: Source, day: dt.date) -> dict[Key, int]:
    """One day of ``source``, counted for each of its metrics along every dimension."""
    metrics = _metrics_of(source)
    aggregates = _aggregates(source, metrics)
    dims = {d: source.lookup(d if d in ("channel", "purpose") else f"{d}_id") for d in DIMENSIONS}
    grouped = (
        source.model.objects.filter(source.on_days(day, day))
        .values(
            org=F(f"{source.organisation}_id"),
            path=F(f"{source.organisation}__path"),
            **{f"d_{k}": F(v) for k, v in dims.items()},
        )
        .annotate(**aggregates)
        .order_by()
    )
    counts: dict[Key, int] = defaultdict(int)
    for row in grouped:
        for m in metrics:
            value = row[m.name] or 0
            if not value:
                continue
            counts[(m.name, row["org"], row["path"], "", "")] += value
            for d in DIMENSIONS:
                counts[(m.name, row["org"], row["path"], d, str(row[f"d_{d}"]))] += value
    return counts


def compute_day(day: dt.date) -> dict[Key, int]:
    """Every count of ``day``, from the facts."""
    counts: dict[Key, int] = {}
    for source in SOURCES:
        counts.update(_source_counts(source, day))
    return counts


def _stored_day(day: dt.date) -> dict[Key, int]:
    rows = DailyCount.objects.filter(day=day).values_list(
        "metric", "organisation_id", "organisation_path", "dimension", "key", "value"
    )
    return {(m, o, p, d, k): v for m, o, p, d, k, v in rows}


def _daily_rows(day: dt.date, counts: dict[Key, int]) -> list[DailyCount]:
    return [
        DailyCount(day=day, metric=m, organisation_id=o, organisation_path=p, dimension=d, key=k, value=v)
        for (m, o, p, d, k), v in counts.items()
    ]


def _apply_to_month(month: dt.date, delta: dict[Key, int]) -> None:
    """Move the month's counts by ``delta``: one upsert per batch of keys (an UPDATE and maybe an
    INSERT per key cost ~2 ms each, seconds per refresh at a million petitions), in key order so
    two refreshes of days of one month lock the rows in the same order.  The increment is applied
    to the row's current value, so concurrent refreshes add up (docs/statistics.md §4)."""
    changes = sorted((key, change) for key, change in delta.items() if change)
    table = connection.ops.quote_name(MonthlyCount._meta.db_table)
    columns = "month, metric, organisation_id, organisation_path, dimension, key, value"
    for start in range(0, len(changes), _UPSERT_BATCH):
        batch = changes[start : start + _UPSERT_BATCH]
        values = ", ".join(["(%s, %s, %s, %s, %s, %s, %s)"] * len(batch))
        params = [v for (m, o, p, d, k), change in batch for v in (month, m, o, p, d, k, change)]
        with connection.cursor() as cursor:
            cursor.execute(
                f"INSERT INTO {table} ({columns}) VALUES {values}"  # noqa: S608 - names from code
                " ON CONFLICT (month, metric, organisation_id, dimension, key) DO UPDATE"
                f" SET value = {table}.value + excluded.value,"
                " organisation_path = excluded.organisation_path",
                params,
            )


_UPSERT_BATCH = 100  # rows per statement: 700 parameters, under SQLite's limit


def recompute_day(day: dt.date) -> None:
    """Bring ``day``'s counts and its month's in line with the facts (inside a transaction)."""
    old = _stored_day(day)
    new = compute_day(day)
    DailyCount.objects.filter(day=day).delete()
    DailyCount.objects.bulk_create(_daily_rows(day, new), batch_size=2000)
    delta = {key: new.get(key, 0) - old.get(key, 0) for key in old.keys() | new.keys()}
    _apply_to_month(day.replace(day=1), delta)
    MonthlyCount.objects.filter(month=day.replace(day=1), value=0).delete()


def refresh(limit: int = 10_000) -> int:
    """Recompute the marked days (the worker runs this every minute).  Returns how many."""
    done = 0
    days = list(DirtyDay.objects.order_by("day").values_list("day", flat=True).distinct()[:limit])
    for day in days:
        with transaction.atomic():
            if not DirtyDay.objects.filter(day=day).delete()[0]:
                continue  # another refresh took it
            recompute_day(day)
            done += 1
    RefreshState.objects.update_or_create(pk=1, defaults={"refreshed_at": timezone.now()})
    return done


def fact_days() -> list[dt.date]:
    """Every day any fact is placed on."""
    days: set[dt.date] = set()
    for source in SOURCES:
        field = source.date
        first = source.model.objects.aggregate(first=Min(field))["first"]
        if first is None:
            continue
        if source.is_datetime:
            first = timezone.localtime(first).date()
            days.update(_datetime_days(source, first))
        else:
            days.update(
                source.model.objects.filter(~Q(**{field: None}))
                .values_list(field, flat=True)
                .order_by()  # a model's default ordering would join the DISTINCT: every row, not every day
                .distinct()
            )
    return sorted(days)


def _datetime_days(source: Source, first: dt.date) -> set[dt.date]:
    dated = source.model.objects.annotate(d=TruncDate(source.date))
    values = dated.values_list("d", flat=True).order_by().distinct()
    return {d for d in values if d is not None}


def rebuild() -> int:
    """Recompute every count from the facts; returns the number of days.  The tables are replaced
    in one transaction, so readers see the old counts or the new ones, never half of each.

    Set-based: per source and dimension one ``INSERT … SELECT`` grouped by day, so the database
    counts every day at once instead of a query per day and source and a Python object per count
    row (docs/performance.md, statistics); the months are then summed from the days in one more
    statement.  ``compute_day`` (the refresh) reads the same definitions, and a test checks that
    both give the same rows (tests/stats/test_rebuild.py)."""
    days = fact_days()
    with transaction.atomic():
        DirtyDay.objects.all().delete()
        DailyCount.objects.all().delete()
        MonthlyCount.objects.all().delete()
        with connection.cursor() as cursor:
            for source in SOURCES:
                for dimension in ("", *DIMENSIONS):
                    cursor.execute(*_insert_daily_sql(source, dimension))
            cursor.execute(*_insert_monthly_sql())
        now = timezone.now()
        RefreshState.objects.update_or_create(pk=1, defaults={"refreshed_at": now, "rebuilt_at": now})
    analyze(DailyCount, MonthlyCount)  # every row is new: plan the pages' sums from true figures
    return len(days)


def _insert_daily_sql(source: Source, dimension: str) -> tuple[str, list[Any]]:
    """``INSERT … SELECT`` of every day's counts of ``source`` along ``dimension`` ("" for the
    totals): the metrics of one GROUP BY unpivoted into one row per non-zero count, the key
    written as ``_source_counts`` writes it (``str()`` of the value, "None" for no value)."""
    metrics = _metrics_of(source)
    day = TruncDate(source.date) if source.is_datetime else F(source.date)
    if dimension:
        field = source.lookup(dimension if dimension in ("channel", "purpose") else f"{dimension}_id")
        key: Any = Coalesce(Cast(F(field), CharField()), Value("None"))
    else:
        key = Value("")
    grouped = (
        source.model.objects.filter(**{f"{source.date}__isnull": False})
        .values(d=day, org=F(f"{source.organisation}_id"), path=F(f"{source.organisation}__path"), k=key)
        .annotate(**_aggregates(source, metrics))
        .order_by()
    )
    inner, params = grouped.query.sql_with_params()
    qn = connection.ops.quote_name
    rows = " UNION ALL ".join(
        f"SELECT d, %s, org, path, %s, k, {qn(m.name)} FROM g WHERE {qn(m.name)} <> 0"  # noqa: S608
        for m in metrics
    )
    table = qn(DailyCount._meta.db_table)
    columns = "day, metric, organisation_id, organisation_path, dimension, key, value"
    sql = f"WITH g AS ({inner}) INSERT INTO {table} ({columns}) {rows}"  # noqa: S608 - names from code
    return sql, [*params, *(v for m in metrics for v in (m.name, dimension))]


def _insert_monthly_sql() -> tuple[str, list[Any]]:
    """``INSERT … SELECT`` of the months, each the sum of its days."""
    summed = (
        DailyCount.objects.values(
            m=TruncMonth("day"), mt=F("metric"), org=F("organisation_id"), dim=F("dimension"), k=F("key")
        )
        .annotate(path=Max("organisation_path"), v=Sum("value"))
        .order_by()
    )
    inner, params = summed.query.sql_with_params()
    table = connection.ops.quote_name(MonthlyCount._meta.db_table)
    columns = "month, metric, organisation_id, organisation_path, dimension, key, value"
    sql = f"INSERT INTO {table} ({columns}) SELECT m, mt, org, path, dim, k, v FROM ({inner}) s"  # noqa: S608
    return sql, list(params)
