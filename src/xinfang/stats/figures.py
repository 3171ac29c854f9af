"""Reading the figures: sums of the pre-aggregated counts for a scope and a period, and the fact
rows behind each (the drill-down), from one definition (metrics.py).

A *scope* is a subtree of the government tree, given by its path: a figure counts what is
attributed to organisations inside it (the registering office for intake, the body that had the
deadline, the replying body …; docs/statistics.md §1).  A *period* is a range of days; whole
months inside it are read from ``MonthlyCount``, the days at its edges from ``DailyCount``, so a
year costs twelve month rows per organisation instead of 365 day rows.
"""

from __future__ import annotations

import calendar
import datetime as dt
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from django.db.models import F, Q, QuerySet, Sum
from django.db.models.functions import TruncMonth
from django.utils import timezone
from django.utils.translation import gettext as _

from xinfang.organisations.choices import OrganisationKind
from xinfang.organisations.models import Organisation

from .metrics import METRICS, RATES, Metric
from .models import DailyCount, MonthlyCount


@dataclass(frozen=True)
class Period:
    """The days from ``start`` to ``end``, both included."""

    start: dt.date
    end: dt.date

    def __post_init__(self) -> None:
        if self.end < self.start:
            raise ValueError("period ends before it starts")

    @classmethod
    def month(cls, year: int, month: int) -> Period:
        return cls(dt.date(year, month, 1), dt.date(year, month, calendar.monthrange(year, month)[1]))

    @classmethod
    def quarter(cls, year: int, quarter: int) -> Period:
        first = 3 * (quarter - 1) + 1
        return cls(dt.date(year, first, 1), Period.month(year, first + 2).end)

    @classmethod
    def year(cls, year: int) -> Period:
        return cls(dt.date(year, 1, 1), dt.date(year, 12, 31))

    @classmethod
    def week(cls, day: dt.date) -> Period:
        monday = day - dt.timedelta(days=day.weekday())
        return cls(monday, monday + dt.timedelta(days=6))

    @property
    def days(self) -> int:
        return (self.end - self.start).days + 1

    def previous(self) -> Period:
        """环比: the period of the same shape just before (the month before a month …)."""
        if self._is_months():
            months = self._months_long()
            start = _add_months(self.start, -months)
            return Period(start, _add_months(self.start, 0) - dt.timedelta(days=1))
        return Period(self.start - dt.timedelta(days=self.days), self.start - dt.timedelta(days=1))

    def year_before(self) -> Period:
        """同比: the same days one year earlier (29 February becomes the 28th)."""
        return Period(_minus_year(self.start), _minus_year(self.end))

    def _is_months(self) -> bool:
        return self.start.day == 1 and (self.end + dt.timedelta(days=1)).day == 1

    def _months_long(self) -> int:
        return (self.end.year - self.start.year) * 12 + self.end.month - self.start.month + 1

    def __str__(self) -> str:
        return f"{self.start:%Y-%m-%d}—{self.end:%Y-%m-%d}"


def _add_months(day: dt.date, months: int) -> dt.date:
    index = day.year * 12 + day.month - 1 + months
    return dt.date(index // 12, index % 12 + 1, 1)


def _minus_year(day: dt.date) -> dt.date:
    try:
        return day.replace(year=day.year - 1)
    except ValueError:
        return day.replace(year=day.year - 1, day=28)


def area_of(user: Any) -> Organisation | None:
    """The widest scope ``user`` sees figures for: the government a petition office belongs to (a
    county 信访局 sees its county), otherwise the user's own organisation and its subtree."""
    org = getattr(user, "organisation", None)
    if org is None:
        return None
    if org.kind == OrganisationKind.PETITION_OFFICE and org.parent_id:
        return org.parent
    return org


def _cap(metric: Metric, today: dt.date) -> dt.date | None:
    """The last day a metric may count: deadlines and evaluation windows only once they passed."""
    return today - dt.timedelta(days=1) if metric.source.elapsed_only else None


def _spans(period: Period, cap: dt.date | None) -> tuple[list[dt.date], list[tuple[dt.date, dt.date]]]:
    """Whole months inside the period (read monthly) and the day ranges at its edges (read daily)."""
    end = min(period.end, cap) if cap else period.end
    if end < period.start:
        return [], []
    months: list[dt.date] = []
    edges: list[tuple[dt.date, dt.date]] = []
    cursor = period.start
    while cursor <= end:
        month_end = Period.month(cursor.year, cursor.month).end
        if cursor.day == 1 and month_end <= end:
            months.append(cursor)
        else:
            edges.append((cursor, min(month_end, end)))
        cursor = month_end + dt.timedelta(days=1)
    return months, edges


@dataclass(frozen=True)
class Slice:
    """Which counts to read: a scope (tree path; "" for everything) and optionally one dimension's
    values (``dimension="category", keys=[…]`` keeps those categories)."""

    scope: str = ""
    dimension: str = ""
    keys: tuple[str, ...] = ()

    def filter(self) -> Q:
        q = Q(dimension=self.dimension)
        if self.scope:
            q &= Q(organisation_path__startswith=self.scope)
        if self.keys:
            q &= Q(key__in=self.keys)
        return q


def _querysets(names: Iterable[str], period: Period, where: Slice, today: dt.date) -> list[QuerySet]:
    """The monthly and daily count rows of ``names`` in ``period``, one queryset per span kind.
    Metrics whose cap cuts the period the same way (any period that ended before yesterday) are
    read together: half the statements for a past period."""
    by_cap: dict[dt.date | None, list[str]] = defaultdict(list)
    for name in names:
        by_cap[_cap(METRICS[name], today)].append(name)
    by_spans: dict[tuple[tuple, tuple], list[str]] = defaultdict(list)
    for cap, group in by_cap.items():
        months, edges = _spans(period, cap)
        by_spans[(tuple(months), tuple(edges))].extend(group)
    result = []
    for (months, edges), group in by_spans.items():
        base = where.filter() & Q(metric__in=group)
        if months:
            result.append(
                MonthlyCount.objects.filter(base, month__in=list(months)).annotate(period=F("month"))
            )
        if edges:
            days = Q()
            for low, high in edges:
                days |= Q(day__gte=low, day__lte=high)
            result.append(DailyCount.objects.filter(base & days).annotate(period=TruncMonth("day")))
    return result


def counts(
    names: Iterable[str],
    period: Period,
    where: Slice = Slice(),
    *,
    by: str = "",
    today: dt.date | None = None,
) -> dict[Any, dict[str, int]]:
    """Sum the counts of ``names``, grouped ``by`` "" (one group, key None), "month" (first day of
    each month), "key" (the dimension's value), "organisation" (the attributed organisation's path)
    or "child" (the path of the scope's child the organisation lies in: counties side by side)."""
    today = today or timezone.localdate()
    group_field = {
        "": None,
        "month": "period",
        "key": "key",
        "organisation": "organisation_path",
        "child": "organisation_path",
    }[by]
    result: dict[Any, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    for qs in _querysets(names, period, where, today):
        fields = ["metric"] + ([group_field] if group_field else [])
        for row in qs.values(*fields).annotate(total=Sum("value")).order_by():
            group = row.get(group_field) if group_field else None
            if by == "child":
                group = _child_path(group, where.scope)
            if by == "month" and isinstance(group, dt.datetime):
                group = group.date()
            result[group][row["metric"]] += row["total"]
    return result


def _child_path(path: str, scope: str) -> str:
    """The path of the child of ``scope`` that ``path`` lies in (itself if it is the scope)."""
    step = path.find("/", len(scope))
    return path[: step + 1] if step >= 0 else path


@dataclass(frozen=True)
class RateValue:
    name: str
    label: str
    numerator: int
    denominator: int

    @property
    def value(self) -> float | None:
        return None if not self.denominator else self.numerator / self.denominator

    @property
    def percent(self) -> str:
        value = self.value
        return "—" if value is None else f"{value * 100:.1f}%"


def rates(totals: dict[str, int], names: Iterable[str] | None = None) -> list[RateValue]:
    """The rates of ``names`` (all by default) from summed counts."""
    chosen = [RATES[n] for n in names] if names is not None else list(RATES.values())
    return [
        RateValue(r.name, str(r.label), totals.get(r.numerator, 0), totals.get(r.denominator, 0))
        for r in chosen
    ]


def rate_metrics(names: Iterable[str] | None = None) -> set[str]:
    chosen = [RATES[n] for n in names] if names is not None else list(RATES.values())
    return {m for r in chosen for m in (r.numerator, r.denominator)}


# --- the drill-down ------------------------------------------------------------------------------------


def drill(name: str, period: Period, where: Slice = Slice(), *, today: dt.date | None = None) -> QuerySet:
    """The fact rows behind ``counts([name], period, where)``: the same conditions on the facts.
    Their number (or, for a person count, the sum of their headcounts) is the figure."""
    metric = METRICS[name]
    source = metric.source
    today = today or timezone.localdate()
    cap = _cap(metric, today)
    end = min(period.end, cap) if cap else period.end
    if end < period.start:
        return source.model.objects.none()
    q = metric.where() & source.on_days(period.start, end)
    if where.scope:
        q &= Q(**{f"{source.organisation}__path__startswith": where.scope})
    if where.dimension and where.keys:
        field = where.dimension if where.dimension in ("channel", "purpose") else f"{where.dimension}_id"
        q &= Q(**{f"{source.lookup(field)}__in": list(where.keys)})
    return source.model.objects.filter(q)


def drill_total(name: str, rows: QuerySet) -> int:
    """What the figure of ``name`` counts of ``rows``: rows, or the persons of their petitions."""
    metric = METRICS[name]
    if metric.persons:
        return rows.aggregate(n=Sum(metric.source.lookup("headcount")))["n"] or 0
    return rows.count()


def describe(name: str) -> str:
    metric = METRICS.get(name)
    if metric is not None:
        return str(metric.label)
    rate = RATES.get(name)
    return str(rate.label) if rate is not None else _("未知指标")
