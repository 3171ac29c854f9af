"""The dashboards (issue #9 §4): the data of each chart, assembled from ``figures.counts``.

Every function returns plain dicts and lists: the page draws the chart from them (ECharts, in
``static/xinfang/stats/dashboard.js``) and renders the same rows as the chart's table view, so the
picture, the table and the drill-down links cannot disagree.  A number is a *cell*
``{"value": n, "url": <drill-down>}``; the drill-down link carries exactly the metric, period and
slice that produced the number (``metric, start, end, scope, dimension, key`` — ``key`` repeated
when a row sums several keys, e.g. a class of categories or a county's townships).

The counts break down along one dimension at a time (stats.models.counts), so while a category is
chosen the charts by channel, purpose and locality cannot be narrowed to it: they say so instead of
showing unfiltered numbers.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlencode

from django.urls import reverse
from django.utils.translation import gettext as _

from xinfang.organisations.choices import OrganisationKind
from xinfang.organisations.models import Organisation
from xinfang.petitions.choices import Channel, Purpose
from xinfang.petitions.models import Category

from . import figures
from .figures import Period, Slice
from .hotspots import area_of_scope, hotspot_section
from .metrics import METRICS, RATES

Cell = dict[str, Any]

# What each role sees first (issue #9 §4): the leader the overall picture, the supervisor the
# deadlines and the units' record, the office its intake.  Every view has every section.
VIEWS: dict[str, tuple[str, ...]] = {
    "leader": ("trend", "units_overdue", "units_satisfaction", "categories", "localities", "hotspots",
               "channels", "purposes"),
    "supervisor": ("units_overdue", "units_satisfaction", "trend", "hotspots", "categories",
                   "localities", "channels", "purposes"),
    "office": ("channels", "purposes", "trend", "categories", "localities", "hotspots",
               "units_overdue", "units_satisfaction"),
}  # fmt: skip
HEADLINE_COUNTS = ("received", "persons", "first_time", "repeat", "collective", "collective_persons")
# The rates each view leads with.
HEADLINE_RATES: dict[str, tuple[str, ...]] = {
    "leader": ("timely_acceptance_rate", "on_time_closure_rate", "evaluation_rate",
               "satisfaction_rate", "repeat_rate"),
    "supervisor": ("on_time_closure_rate", "timely_acceptance_rate", "report_rate",
                   "supervision_response_rate", "satisfaction_rate"),
    "office": ("timely_acceptance_rate", "repeat_rate", "collective_share", "skip_level_share",
               "evaluation_rate"),
}  # fmt: skip
TOP = 10


def view_for(roles: Iterable[str]) -> str:
    """The dashboard's emphasis for a user holding ``roles``."""
    roles = set(roles)
    if "leader" in roles:
        return "leader"
    if "supervisor" in roles:
        return "supervisor"
    return "office"


@dataclass(frozen=True)
class Filters:
    """What the dashboard shows: a period, a scope (an organisation) and optionally a category
    (a first-level class stands for its entries)."""

    period: Period
    scope: Organisation
    category: Category | None = None
    today: dt.date | None = None
    category_keys: tuple[str, ...] = field(default=())
    # Organisation ids by path, of the scope and of the units read (the drill-down's scope is an id).
    ids: dict[str, int] = field(default_factory=dict, compare=False)

    @classmethod
    def make(
        cls,
        period: Period,
        scope: Organisation,
        category: Category | None = None,
        today: dt.date | None = None,
    ) -> Filters:
        keys: tuple[str, ...] = ()
        if category is not None:
            children = list(Category.objects.filter(parent_id=category.pk).values_list("pk", flat=True))
            keys = tuple(str(pk) for pk in [category.pk, *children])
        return cls(period, scope, category, today, keys, {scope.path: scope.pk})

    def base(self) -> Slice:
        """The slice of the headline and the trend: the scope, narrowed to the category if chosen."""
        if self.category_keys:
            return Slice(self.scope.path, "category", self.category_keys)
        return Slice(self.scope.path)

    def along(self, dimension: str) -> Slice | None:
        """The slice broken down by ``dimension``; None if the chosen category rules it out."""
        if dimension == "category":
            return Slice(self.scope.path, "category", self.category_keys)
        if self.category_keys:
            return None
        return Slice(self.scope.path, dimension)


# --- cells and links -------------------------------------------------------------------------------


def drill_url(
    f: Filters,
    metric: str,
    period: Period,
    where: Slice,
    keys: Iterable[str] | None = None,
    *,
    under: int | None = None,
) -> str:
    """The drill-down of one number: the fact rows behind ``counts([metric], period, where)``
    (with ``keys`` instead of the slice's own when a row sums several keys).  The drill-down names
    the scope by the organisation's id (stats.forms.DrillForm); ``f.ids`` knows the paths read."""
    params: list[tuple[str, str]] = [
        ("metric", metric),
        ("start", period.start.isoformat()),
        ("end", period.end.isoformat()),
        ("scope", str(f.ids[where.scope])),
    ]
    chosen = tuple(keys) if keys is not None else where.keys
    if where.dimension:
        params.append(("dimension", where.dimension))
    if under is not None:  # every locality inside this area (stats.forms.DrillForm)
        params.append(("under", str(under)))
    elif where.dimension:
        params.extend(("key", str(k)) for k in chosen)
    return f"{reverse('stats:drill')}?{urlencode(params)}"


def cell(
    f: Filters, value: int, metric: str, period: Period, where: Slice, keys: Iterable[str] | None = None
) -> Cell:
    return {"value": value, "url": drill_url(f, metric, period, where, keys)}


def change(current: int | float | None, before: int | float | None) -> str:
    """A change as the bureaus write it: +12.5% / -3.0%, "—" when there is nothing to compare."""
    if current is None or before is None or not before:
        return "—"
    return f"{(current - before) / before * 100:+.1f}%"


def _rate_text(numerator: int, denominator: int) -> str:
    return "—" if not denominator else f"{numerator / denominator * 100:.1f}%"


# --- the sections ----------------------------------------------------------------------------------


def headline(f: Filters, view: str = "leader") -> dict[str, Any]:
    """The headline counts and the view's rates for the period, each with 环比 and 同比."""
    where = f.base()
    chosen = HEADLINE_RATES.get(view, HEADLINE_RATES["leader"])
    rate_names = figures.rate_metrics(chosen)
    names = sorted(set(HEADLINE_COUNTS) | rate_names)
    now, before, last_year = (
        figures.counts(names, p, where, today=f.today)[None]
        for p in (f.period, f.period.previous(), f.period.year_before())
    )
    counts = [
        {
            "name": name,
            "label": str(METRICS[name].label),
            "unit": str(METRICS[name].unit),
            "cell": cell(f, now.get(name, 0), name, f.period, where),
            "previous": cell(f, before.get(name, 0), name, f.period.previous(), where),
            "year_before": cell(f, last_year.get(name, 0), name, f.period.year_before(), where),
            "mom": change(now.get(name, 0), before.get(name, 0)),
            "yoy": change(now.get(name, 0), last_year.get(name, 0)),
        }
        for name in HEADLINE_COUNTS
    ]
    rates = []
    for name in chosen:
        rate = RATES[name]
        num, den = now.get(rate.numerator, 0), now.get(rate.denominator, 0)
        rates.append(
            {
                "name": name,
                "label": str(rate.label),
                "text": _rate_text(num, den),
                "numerator": cell(f, num, rate.numerator, f.period, where),
                "denominator": cell(f, den, rate.denominator, f.period, where),
                "numerator_label": str(METRICS[rate.numerator].label),
                "denominator_label": str(METRICS[rate.denominator].label),
                "previous": _rate_text(before.get(rate.numerator, 0), before.get(rate.denominator, 0)),
                "year_before": _rate_text(
                    last_year.get(rate.numerator, 0), last_year.get(rate.denominator, 0)
                ),
            }
        )
    return {"counts": counts, "rates": rates, "empty": not now.get("received")}


def _months(period: Period) -> list[Period]:
    """The months the period touches, each cut to the period."""
    result, cursor = [], period.start.replace(day=1)
    while cursor <= period.end:
        month = Period.month(cursor.year, cursor.month)
        result.append(Period(max(month.start, period.start), min(month.end, period.end)))
        cursor = month.end + dt.timedelta(days=1)
    return result


def trend(f: Filters) -> dict[str, Any]:
    """Received (批次) and persons (人次) per month, this period against the same months a year before."""
    where = f.base()
    names = ["received", "persons"]
    now = figures.counts(names, f.period, where, by="month", today=f.today)
    last = figures.counts(names, f.period.year_before(), where, by="month", today=f.today)
    rows = []
    for month in _months(f.period):
        earlier = month.year_before()
        key, key_before = month.start.replace(day=1), earlier.start.replace(day=1)
        cells = [cell(f, now.get(key, {}).get(n, 0), n, month, where) for n in names]
        cells += [cell(f, last.get(key_before, {}).get(n, 0), n, earlier, where) for n in names]
        rows.append({"label": f"{month.start:%Y-%m}", "cells": cells})
    year, before = f.period.start.year, f.period.year_before().start.year
    return _section(
        "trend",
        _("信访量月度趋势"),
        "line",
        [
            _("%(year)s年批次") % {"year": year},
            _("%(year)s年人次") % {"year": year},
            _("%(year)s年批次") % {"year": before},
            _("%(year)s年人次") % {"year": before},
        ],
        rows,
        series=[0, 1, 2, 3],
        header=_("月份"),
    )


def _section(
    key: str,
    title: str,
    chart: str,
    columns: list[str],
    rows: list[dict[str, Any]],
    *,
    series: list[int] | None = None,
    header: str = "",
    note: str = "",
) -> dict[str, Any]:
    """One chart with its table view: ``columns`` of ``rows`` (label + cells), the chart drawing
    the columns listed in ``series``."""
    empty = not any(isinstance(c, dict) and c.get("value") for r in rows for c in r["cells"])
    return {
        "key": key,
        "title": str(title),
        "chart": chart,
        "header": str(header),
        "columns": [str(c) for c in columns],
        "rows": rows,
        "series": series if series is not None else [0],
        "note": str(note),
        "empty": empty,
    }


def _ruled_out(key: str, title: str) -> dict[str, Any]:
    note = _("按问题分类筛选时，本图不能再细分（统计按一个维度汇总）；请清除“问题分类”查看。")
    return _section(key, title, "bar", [], [], note=note)


def categories(f: Filters) -> dict[str, Any]:
    """Received per first-level class (its entries summed), the largest first."""
    where = f.along("category")
    per_key = figures.counts(["received"], f.period, where, by="key", today=f.today)
    leaves = {int(k): v["received"] for k, v in per_key.items() if k and v.get("received")}
    tree = dict(Category.objects.filter(pk__in=leaves).values_list("pk", "parent_id"))
    by_class: dict[int, list[int]] = defaultdict(list)
    for pk in leaves:
        by_class[tree.get(pk) or pk].append(pk)
    names = dict(Category.objects.filter(pk__in=by_class).values_list("pk", "name"))
    ranked = sorted(by_class.items(), key=lambda item: (-sum(leaves[k] for k in item[1]), item[0]))
    rows = [
        {
            "label": names.get(pk, str(pk)),
            "cells": [
                cell(f, sum(leaves[k] for k in keys), "received", f.period, where, sorted(map(str, keys)))
            ],
        }
        for pk, keys in ranked[:TOP]
    ]
    return _section(
        "categories", _("问题分类（前十）"), "hbar", [METRICS["received"].label], rows, header=_("问题分类")
    )


def _by_choice(key: str, title: str, dimension: str, choices: Any, f: Filters) -> dict[str, Any]:
    where = f.along(dimension)
    if where is None:
        return _ruled_out(key, title)
    per_key = figures.counts(["received", "persons"], f.period, where, by="key", today=f.today)
    rows = [
        {
            "label": str(label),
            "cells": [
                cell(f, per_key.get(value, {}).get(n, 0), n, f.period, where, [value])
                for n in ("received", "persons")
            ],
        }
        for value, label in choices
        if per_key.get(value, {}).get("received")
    ]
    rows.sort(key=lambda r: -r["cells"][0]["value"])
    columns = [METRICS["received"].label, METRICS["persons"].label]
    return _section(key, title, "pie", columns, rows, header=title)


def channels(f: Filters) -> dict[str, Any]:
    return _by_choice("channels", _("信访形式"), "channel", Channel.choices, f)


def purposes(f: Filters) -> dict[str, Any]:
    return _by_choice("purposes", _("信访目的"), "purpose", Purpose.choices, f)


def _units(f: Filters, names: list[str]) -> tuple[dict[str, dict[str, int]], dict[str, str]]:
    """``names`` per unit directly below the scope (a city sees its counties and departments side
    by side), and the units' names.  What is attributed to the scope itself is left out: its
    drill-down would be the whole scope."""
    per_child = figures.counts(names, f.period, f.base(), by="child", today=f.today)
    per_child = {path: totals for path, totals in per_child.items() if path != f.scope.path}
    labels = {}
    for path, name, pk in Organisation.objects.filter(path__in=list(per_child)).values_list(
        "path", "name", "pk"
    ):
        labels[path] = name
        f.ids[path] = pk
    per_child = {path: totals for path, totals in per_child.items() if path in labels}
    return per_child, labels


def _unit_slice(f: Filters, path: str) -> Slice:
    base = f.base()
    return Slice(path, base.dimension, base.keys)


def units_overdue(f: Filters) -> dict[str, Any]:
    """Units ranked by missed deadlines (时限违规), with their on-time closure rate."""
    names = ["deadlines_missed", "handling_on_time", "handling_due"]
    per_unit, labels = _units(f, names)
    ranked = sorted(
        (p for p, t in per_unit.items() if t.get("deadlines_missed") or t.get("handling_due")),
        key=lambda p: (-per_unit[p].get("deadlines_missed", 0), labels.get(p, p)),
    )
    rows = []
    for path in ranked[:TOP]:
        totals, where = per_unit[path], _unit_slice(f, path)
        rows.append(
            {
                "label": labels.get(path, path),
                "cells": [cell(f, totals.get(n, 0), n, f.period, where) for n in names]
                + [{"text": _rate_text(totals.get("handling_on_time", 0), totals.get("handling_due", 0))}],
            }
        )
    columns = [METRICS[n].label for n in names] + [RATES["on_time_closure_rate"].label]
    return _section("units_overdue", _("单位时限违规排名"), "hbar", columns, rows, header=_("单位"))


def units_satisfaction(f: Filters) -> dict[str, Any]:
    """Units ranked by satisfaction (满意 + 基本满意 over evaluated), those evaluated only."""
    names = ["unit_satisfied", "unit_evaluated"]
    per_unit, labels = _units(f, names)

    def rate(path: str) -> float:
        t = per_unit[path]
        return t.get("unit_satisfied", 0) / t["unit_evaluated"]

    ranked = sorted(
        (p for p, t in per_unit.items() if t.get("unit_evaluated")),
        key=lambda p: (-rate(p), labels.get(p, p)),
    )
    rows = []
    for path in ranked[:TOP]:
        totals, where = per_unit[path], _unit_slice(f, path)
        rows.append(
            {
                "label": labels.get(path, path),
                "cells": [cell(f, totals.get(n, 0), n, f.period, where) for n in names]
                + [{"text": _rate_text(totals.get("unit_satisfied", 0), totals["unit_evaluated"]),
                    "value": round(rate(path) * 100, 1)}],
            }
        )  # fmt: skip
    columns = [METRICS[n].label for n in names] + [RATES["satisfaction_rate"].label]
    return _section(
        "units_satisfaction", _("单位满意率排名"), "hbar", columns, rows, series=[2], header=_("单位")
    )


def localities(f: Filters) -> dict[str, Any]:
    """Received and persons per part of the area (the matter's locality, grouped to the area's
    child areas), with 环比 and 同比."""
    where = f.along("locality")
    title = _("问题属地")
    if where is None:
        return _ruled_out("localities", title)
    periods = (f.period, f.period.previous(), f.period.year_before())
    per_period = [figures.counts(["received", "persons"], p, where, by="key", today=f.today) for p in periods]
    ids = {int(k) for counts in per_period for k in counts if k}
    paths = dict(Organisation.objects.filter(pk__in=ids).values_list("pk", "path"))
    area = area_of_scope(f.scope)
    children = Organisation.objects.filter(parent_id=area.pk, kind=OrganisationKind.GOVERNMENT)
    parts, part_ids = {}, {}
    for path, name, pk in children.values_list("path", "name", "pk"):
        parts[path], part_ids[path] = name, pk
    groups: dict[str, list[str]] = defaultdict(list)
    for pk, path in paths.items():
        if path == area.path:
            group = area.path
        elif path.startswith(area.path):
            group = figures._child_path(path, area.path)  # noqa: SLF001 - the same grouping as by="child"
            group = group if group in parts else area.path
        else:
            group = ""
        groups[group].append(str(pk))
    labels = {**parts, area.path: _("%(name)s本级") % {"name": area.name}, "": _("辖区外")}

    def total(i: int, keys: list[str], name: str) -> int:
        return sum(per_period[i].get(k, {}).get(name, 0) for k in keys)

    rows = []
    for group, keys in groups.items():
        keys = sorted(keys)
        received = [total(i, keys, "received") for i in range(3)]
        if not any(received):
            continue
        # A part of the area links to every locality inside it (a short link for a county's
        # hundreds of villages); 本级 and 辖区外 list their localities.
        under = part_ids.get(group)

        def link(
            value: int, name: str, period: Period, keys: list[str] = keys, under: int | None = under
        ) -> Cell:
            return {"value": value, "url": drill_url(f, name, period, where, keys, under=under)}

        rows.append(
            {
                "label": str(labels.get(group, group)),
                "cells": [
                    link(received[0], "received", f.period),
                    link(total(0, keys, "persons"), "persons", f.period),
                    link(received[1], "received", periods[1]),
                    {"text": change(received[0], received[1])},
                    link(received[2], "received", periods[2]),
                    {"text": change(received[0], received[2])},
                ],
            }
        )
    rows.sort(key=lambda r: (-r["cells"][0]["value"], r["label"]))
    columns = [
        METRICS["received"].label,
        METRICS["persons"].label,
        _("上期批次"),
        _("环比"),
        _("去年同期批次"),
        _("同比"),
    ]
    return _section("localities", title, "bar", columns, rows, header=_("属地"))


SECTIONS = {
    "trend": trend,
    "categories": categories,
    "channels": channels,
    "purposes": purposes,
    "units_overdue": units_overdue,
    "units_satisfaction": units_satisfaction,
    "localities": localities,
}


def build(f: Filters, view: str) -> dict[str, Any]:
    """The whole dashboard for ``view``: the headline, then each section in the view's order."""
    view = view if view in VIEWS else "office"
    sections = [hotspot_section(f) if key == "hotspots" else SECTIONS[key](f) for key in VIEWS[view]]
    return {"view": view, "headline": headline(f, view), "sections": sections}
