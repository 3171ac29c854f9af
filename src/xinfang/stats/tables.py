"""The statistics tables, assembled from ``figures.counts`` only (issue #9 §2).

The statistics page, its XLSX downloads and the API read the same ``Table`` objects, so a figure is
computed once and shown identically everywhere.  Every count is a ``Figure``: its value and the
drill-down parameters that produced it (metric, period, scope, dimension, keys), so the page can
link each number to the petitions behind it and a test can follow every link.

A *query* is what produced a figure: a period, a scope organisation (its subtree, or only itself
with ``exact``) and optionally one dimension's keys.  The drill-down (``resolve_drill``) turns the
same parameters back into ``figures.drill`` rows.
"""

from __future__ import annotations

import datetime as dt
import functools
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, replace
from typing import Any
from urllib.parse import quote_plus, urlencode

from django.db.models import Q, QuerySet
from django.urls import reverse
from django.utils.html import conditional_escape, escape
from django.utils.safestring import mark_safe
from django.utils.translation import gettext as _

from xinfang.organisations.models import Organisation
from xinfang.petitions.choices import Channel, Purpose
from xinfang.petitions.models import Category

from . import figures
from .figures import Period, RateValue, Slice
from .metrics import METRICS, RATES

# The counts of the breakdown tables (by channel, purpose, category, locality and month).
BREAKDOWN = (
    "received", "persons", "first_time", "repeat", "collective", "collective_persons", "skip_level",
    "replied", "concluded",
)  # fmt: skip
# The unit tables: what a unit is judged by, counts and the rates made of them.
UNIT_COLUMNS = (
    "received", "persons", "acceptance_due", "acceptance_on_time", "timely_acceptance_rate",
    "handling_due", "handling_on_time", "on_time_closure_rate", "replied", "unit_evaluated",
    "unit_satisfied", "satisfaction_rate", "review_decided", "review_changed", "deadlines_missed",
    "concluded",
)  # fmt: skip


# --- what produced a figure --------------------------------------------------------------------------


@dataclass(frozen=True)
class Query:
    """The parameters of a figure: ``counts`` reads them, the drill-down lists their rows."""

    period: Period
    scope: Organisation
    dimension: str = ""
    keys: tuple[str, ...] = ()
    exact: bool = False  # attributed to the scope organisation itself, not to its subtree
    under: Organisation | None = None  # locality: every place inside this area (resolved to keys)

    def slice(self) -> Slice:
        return Slice(scope=self.scope.path, dimension=self.dimension, keys=self.keys)

    def params(self, metric: str) -> list[tuple[str, str]]:
        """The drill-down's query string for ``metric`` under this query."""
        return [("metric", metric), *self._common_params]

    @functools.cached_property
    def encoded_params(self) -> str:
        """What every figure's drill-down link of this query shares, URL-encoded once (a page
        shows about 500 figures)."""
        return urlencode(self._common_params)

    @functools.cached_property
    def _common_params(self) -> list[tuple[str, str]]:
        pairs = [
            ("start", self.period.start.isoformat()),
            ("end", self.period.end.isoformat()),
            ("scope", str(self.scope.pk)),
        ]
        if self.dimension:
            pairs.append(("dimension", self.dimension))
        if self.under is not None:
            pairs.append(("under", str(self.under.pk)))
        else:
            pairs.extend(("key", k) for k in self.keys)
        if self.exact:
            pairs.append(("exact", "1"))
        return pairs


@dataclass(frozen=True)
class Figure:
    """One count on screen and the drill-down that lists what it counts."""

    metric: str
    value: int
    url: str  # of the drill-down that lists what it counts
    is_figure = True  # for templates: a count with a drill-down, not text

    def __str__(self) -> str:
        return str(self.value)

    def __html__(self) -> str:
        """The number as a link to its drill-down (a page holds ~1,000: rendered here, not by a
        template per cell, and not by ``format_html``, which cost 36 µs a cell)."""
        return (
            f'<a class="fig" href="{escape(self.url)}" data-metric="{escape(self.metric)}">{self.value}</a>'
        )


@functools.cache
def _drill_path() -> str:
    return reverse("stats:drill")


def figure(metric: str, totals: dict[str, int], query: Query) -> Figure:
    url = f"{_drill_path()}?metric={quote_plus(metric)}&{query.encoded_params}"
    return Figure(metric, totals.get(metric, 0), url)


@dataclass(frozen=True)
class Column:
    key: str
    label: str
    unit: str = ""
    numeric: bool = True


@dataclass
class Row:
    label: str
    cells: list[Any]  # Figure, or text (a rate, a change, a heading)
    level: int = 0  # 1 for a category entry under its class
    scope: Organisation | None = None  # the row is an area: the page may be opened scoped to it
    total: bool = False

    def cells_html(self) -> str:
        """The row's cells as ``<td>`` elements: figures as their links, text escaped.  Joined here,
        not by a template loop (a page has some 500 cells; the loop was a third of its time)."""
        cells = (c.__html__() if isinstance(c, Figure) else conditional_escape(c) for c in self.cells)
        return mark_safe("".join(f'<td class="num">{c}</td>' for c in cells))  # noqa: S308 - escaped above


@dataclass
class Table:
    key: str
    title: str
    columns: list[Column]
    rows: list[Row] = field(default_factory=list)
    note: str = ""

    def header(self) -> list[str]:
        return [c.label for c in self.columns]

    def sheet_rows(self) -> list[list[Any]]:
        """The rows as the XLSX has them: counts as numbers, everything else as the text on screen."""
        result = []
        for row in self.rows:
            label = ("　" * row.level) + row.label
            result.append([label] + [c.value if isinstance(c, Figure) else c for c in row.cells])
        return result

    def figures(self) -> list[Figure]:
        return [c for row in self.rows for c in row.cells if isinstance(c, Figure)]


# --- formatting ---------------------------------------------------------------------------------------


def change(current: int | float | None, before: int | float | None) -> str:
    """同比/环比 of a count: the relative change, "—" when there is nothing to compare with."""
    if current is None or not before:
        return "—"
    return f"{(current - before) / before * 100:+.1f}%"


def point_change(current: RateValue, before: RateValue) -> str:
    """同比/环比 of a rate: the difference in percentage points."""
    if current.value is None or before.value is None:
        return "—"
    return _("{n}个百分点").format(n=f"{(current.value - before.value) * 100:+.1f}")


def _column(name: str) -> Column:
    if name in RATES:
        return Column(name, str(RATES[name].label), "%", numeric=False)
    metric = METRICS[name]
    return Column(name, str(metric.label), str(metric.unit))


def _cells(names: Sequence[str], totals: dict[str, int], query: Query) -> list[Any]:
    cells: list[Any] = []
    for name in names:
        if name in RATES:
            cells.append(figures.rates(totals, [name])[0].percent)
        else:
            cells.append(figure(name, totals, query))
    return cells


def _metrics_of(names: Iterable[str]) -> list[str]:
    """The counts behind ``names`` (a rate column needs its numerator and denominator)."""
    result: list[str] = []
    for name in names:
        parts = (RATES[name].numerator, RATES[name].denominator) if name in RATES else (name,)
        result.extend(p for p in parts if p not in result)
    return result


# --- the tables ---------------------------------------------------------------------------------------


@dataclass
class Overview:
    """The totals and rates of one query with 同比 and 环比, and their tables."""

    query: Query
    totals: dict[str, int]
    year_before: dict[str, int]
    previous: dict[str, int]

    @property
    def year_before_query(self) -> Query:
        return replace(self.query, period=self.query.period.year_before())

    @property
    def previous_query(self) -> Query:
        return replace(self.query, period=self.query.period.previous())

    def counts_table(self) -> Table:
        columns = [
            Column("metric", _("指标"), numeric=False),
            Column("unit", _("单位"), numeric=False),
            Column("current", _("本期")),
            Column("year_before", _("上年同期")),
            Column("yoy", _("同比"), numeric=False),
            Column("previous", _("上期")),
            Column("mom", _("环比"), numeric=False),
        ]
        table = Table("counts", _("信访数量"), columns)
        for name, metric in METRICS.items():
            now = figure(name, self.totals, self.query)
            before = figure(name, self.year_before, self.year_before_query)
            last = figure(name, self.previous, self.previous_query)
            cells = [str(metric.unit), now, before, change(now.value, before.value), last,
                     change(now.value, last.value)]  # fmt: skip
            table.rows.append(Row(str(metric.label), cells))
        return table

    def rates_table(self) -> Table:
        columns = [Column("rate", _("指标"), numeric=False)]
        for key, label, compare in (
            ("current", _("本期"), None),
            ("year_before", _("上年同期"), Column("yoy", _("同比"), numeric=False)),
            ("previous", _("上期"), Column("mom", _("环比"), numeric=False)),
        ):
            columns += [
                Column(key, label, "%", numeric=False),
                Column(f"{key}_numerator", _("分子")),
                Column(f"{key}_denominator", _("分母")),
            ]
            if compare is not None:
                columns.append(compare)
        table = Table("rates", _("比率指标"), columns, note=_("比率 = 分子 ÷ 分母；同比、环比为百分点之差。"))
        for name, rate in RATES.items():
            cells: list[Any] = []
            now = figures.rates(self.totals, [name])[0]
            for totals, query in (
                (self.totals, self.query),
                (self.year_before, self.year_before_query),
                (self.previous, self.previous_query),
            ):
                value = figures.rates(totals, [name])[0]
                cells += [
                    value.percent,
                    figure(rate.numerator, totals, query),
                    figure(rate.denominator, totals, query),
                ]
                if query is not self.query:
                    cells.append(point_change(now, value))
            table.rows.append(Row(str(rate.label), cells))
        return table


def overview(query: Query) -> Overview:
    """Every metric for ``query``, a year before (同比) and the period before (环比)."""
    names = list(METRICS)
    read = lambda q: dict(figures.counts(names, q.period, q.slice()).get(None, {}))  # noqa: E731
    result = Overview(query, read(query), {}, {})
    result.year_before = read(result.year_before_query)
    result.previous = read(result.previous_query)
    return result


def _breakdown_table(key: str, title: str, names: Sequence[str], first: str) -> Table:
    return Table(key, title, [Column("label", first, numeric=False)] + [_column(n) for n in names])


def _total_row(names: Sequence[str], totals: dict[str, int], query: Query) -> Row:
    return Row(_("合计"), _cells(names, totals, query), total=True)


def by_choice(query: Query, dimension: str, totals: dict[str, int]) -> Table:
    """By channel or purpose: one row per choice with any count, then the total."""
    choices = {"channel": Channel, "purpose": Purpose}[dimension]
    title = {"channel": _("按信访形式"), "purpose": _("按信访目的")}[dimension]
    names = _metrics_of(BREAKDOWN)
    grouped = figures.counts(names, query.period, replace(query, dimension=dimension).slice(), by="key")
    first = {"channel": _("信访形式"), "purpose": _("信访目的")}[dimension]
    table = _breakdown_table(dimension, title, BREAKDOWN, first)
    for value, label in choices.choices:
        if value in grouped:
            sub = replace(query, dimension=dimension, keys=(value,))
            table.rows.append(Row(str(label), _cells(BREAKDOWN, grouped[value], sub)))
    table.rows.append(_total_row(BREAKDOWN, totals, query))
    return table


def by_category(query: Query, totals: dict[str, int]) -> Table:
    """By issue category, both levels: each class (its own id and all its entries) with its entries."""
    keys = query.keys if query.dimension == "category" else ()
    names = _metrics_of(BREAKDOWN)
    grouped = figures.counts(names, query.period, Slice(query.scope.path, "category", keys), by="key")
    table = _breakdown_table("category", _("按问题分类"), BREAKDOWN, _("问题分类"))
    classes = (
        Category.objects.filter(parent__isnull=True)
        .prefetch_related("children")
        .order_by("sort_order", "code")
    )
    for head in classes:
        entries = sorted(head.children.all(), key=lambda c: (c.sort_order, c.code))
        ids = [str(head.pk)] + [str(c.pk) for c in entries]
        if not any(i in grouped for i in ids):
            continue
        class_keys = tuple(i for i in ids if not keys or i in keys)
        sums = _sum(grouped[i] for i in ids if i in grouped)
        base = replace(query, dimension="category", under=None)
        table.rows.append(Row(head.name, _cells(BREAKDOWN, sums, replace(base, keys=class_keys))))
        for entry in entries:
            if str(entry.pk) in grouped:
                sub = replace(base, keys=(str(entry.pk),))
                table.rows.append(Row(entry.name, _cells(BREAKDOWN, grouped[str(entry.pk)], sub), level=1))
    table.rows.append(_total_row(BREAKDOWN, totals, query))
    return table


def _sum(groups: Iterable[dict[str, int]]) -> dict[str, int]:
    result: dict[str, int] = {}
    for group in groups:
        for name, value in group.items():
            result[name] = result.get(name, 0) + value
    return result


def _child_of(path: str, scope: str) -> str:
    step = path.find("/", len(scope))
    return path[: step + 1] if step >= 0 else path


def by_locality(query: Query, totals: dict[str, int]) -> Table:
    """By the place the matter arose in, grouped to the scope's child areas (counties side by side
    for a city); places outside the scope are one row."""
    names = _metrics_of(BREAKDOWN)
    grouped = figures.counts(names, query.period, replace(query, dimension="locality").slice(), by="key")
    table = _breakdown_table("locality", _("按问题属地"), BREAKDOWN, _("问题属地"))
    places = Organisation.objects.filter(pk__in=[int(k) for k in grouped if k.isdigit()]).only("pk", "path")
    scope = query.scope.path
    inside: dict[str, list[dict[str, int]]] = {}
    outside: list[tuple[str, dict[str, int]]] = []
    for place in places:
        if place.path.startswith(scope):
            inside.setdefault(_child_of(place.path, scope), []).append(grouped[str(place.pk)])
        else:
            outside.append((str(place.pk), grouped[str(place.pk)]))
    areas = {o.path: o for o in Organisation.objects.filter(path__in=list(inside))}
    for path in sorted(inside):
        area = areas[path]
        sums = _sum(inside[path])
        if path == scope:  # the scope itself is the place (a county-level matter)
            sub = replace(query, dimension="locality", keys=(str(area.pk),))
            label = _("{name}（本级）").format(name=area.name)
        else:
            sub = replace(query, dimension="locality", keys=(), under=area)
            label = area.name
        # No link to the page scoped to the area: a scope is where figures are attributed (offices,
        # units), not where matters arose, so it would show the area's own bodies, not these rows.
        table.rows.append(Row(label, _cells(BREAKDOWN, sums, sub)))
    if outside:
        keys = tuple(sorted(k for k, _v in outside))
        sub = replace(query, dimension="locality", keys=keys)
        table.rows.append(Row(_("辖区外"), _cells(BREAKDOWN, _sum(v for _k, v in outside), sub)))
    table.rows.append(_total_row(BREAKDOWN, totals, query))
    return table


def by_unit(query: Query, totals: dict[str, int], *, by: str) -> Table:
    """By unit: ``by="child"`` the scope's children side by side (each with its subtree),
    ``by="organisation"`` every organisation the figures are attributed to, each on its own."""
    names = _metrics_of(UNIT_COLUMNS)
    grouped = figures.counts(names, query.period, query.slice(), by=by)
    title = _("按下级单位") if by == "child" else _("按责任机构")
    table = _breakdown_table(f"unit_{by}", title, UNIT_COLUMNS, _("单位"))
    orgs = {o.path: o for o in Organisation.objects.filter(path__in=list(grouped))}
    for path in sorted(grouped):
        org = orgs.get(path)
        if org is None:
            continue
        itself = by == "organisation" or path == query.scope.path
        sub = replace(query, scope=org, exact=itself)
        label = _("{name}（本级）").format(name=org.name) if by == "child" and itself else org.name
        table.rows.append(Row(label, _cells(UNIT_COLUMNS, grouped[path], sub), scope=None if itself else org))
    table.rows.append(_total_row(UNIT_COLUMNS, totals, query))
    return table


def months_of(period: Period) -> list[Period]:
    """The calendar months the period touches, each cut to the period."""
    result = []
    cursor = period.start.replace(day=1)
    while cursor <= period.end:
        month = Period.month(cursor.year, cursor.month)
        result.append(Period(max(month.start, period.start), min(month.end, period.end)))
        cursor = month.end + dt.timedelta(days=1)
    return result


def by_month(query: Query, totals: dict[str, int]) -> Table:
    names = _metrics_of(BREAKDOWN)
    grouped = figures.counts(names, query.period, query.slice(), by="month")
    table = _breakdown_table("month", _("按月份"), BREAKDOWN, _("月份"))
    for part in months_of(query.period):
        sums = grouped.get(part.start.replace(day=1), {})
        label = f"{part.start:%Y-%m}"
        table.rows.append(Row(label, _cells(BREAKDOWN, sums, replace(query, period=part))))
    table.rows.append(_total_row(BREAKDOWN, totals, query))
    return table


def statistics_tables(query: Query) -> tuple[Overview, list[Table]]:
    """Every table of the statistics page for ``query``.  With a category filter the counts are
    read along the category dimension, so the tables by channel, purpose and locality (another
    dimension each) cannot be made and are left out."""
    result = overview(query)
    tables = [result.counts_table(), result.rates_table()]
    totals = result.totals
    if query.dimension != "category":
        tables += [by_choice(query, "channel", totals), by_choice(query, "purpose", totals)]
    tables.append(by_category(query, totals))
    if query.dimension != "category":
        tables.append(by_locality(query, totals))
    tables += [by_unit(query, totals, by="child"), by_unit(query, totals, by="organisation")]
    tables.append(by_month(query, totals))
    return result, tables


# --- the drill-down -----------------------------------------------------------------------------------


def drill_rows(metric: str, query: Query) -> QuerySet:
    """The fact rows behind the figure of ``metric`` under ``query`` (not yet restricted)."""
    keys = query.keys
    if query.under is not None:
        keys = tuple(
            str(pk)
            for pk in Organisation.objects.filter(path__startswith=query.under.path).values_list(
                "pk", flat=True
            )
        )
    rows = figures.drill(metric, query.period, Slice(query.scope.path, query.dimension, keys))
    if query.exact:
        rows = rows.filter(Q(**{f"{METRICS[metric].source.organisation}_id": query.scope.pk}))
    return rows
