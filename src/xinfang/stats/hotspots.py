"""Hotspots (热点): the same category in the same locality rising against the previous period.

A locality here is a part of the scope's area, at the level of the localities table: a city's
counties, a county's townships (a petition about a village counts for its township), or the
area itself (本级) — the demo's property-management complaints spread over a county's townships
are one rising county.

Why this reads the facts and not the counts: the roll-up breaks each count down along **one**
dimension at a time (a category *or* a locality, stats.models.counts), so how many petitions of
one category arose in one place is not in ``DailyCount``/``MonthlyCount``.  Adding the pair as a
dimension would multiply the count rows by the number of localities; instead the hotspot table is
one ``GROUP BY category, locality`` over ``Petition`` for the two periods together (a range on
``received_on``, ``petition_received_idx``; the scope's offices and the area's localities as id
lists), the localities then summed to their part of the area — the same rows the ``received``
figure counts, less those about places outside the area.
Clustering petitions by their text comes later (issue #9 §4).

A pair is a hotspot when it has at least ``floor`` petitions in the period and more than in the
previous period of the same length (so one petition becoming two is not a hotspot).  Pairs are
ranked by the absolute rise, then by the ratio (for an equal rise, the smaller base rose more).
"""

from __future__ import annotations

import datetime as dt
import hashlib
from collections import defaultdict
from collections.abc import Iterable
from typing import Any

from django.core.cache import cache
from django.db.models import Count, Q
from django.utils.translation import gettext as _

from xinfang.core.jobs import enqueue
from xinfang.organisations.choices import OrganisationKind
from xinfang.organisations.models import PATH_STEP, Organisation
from xinfang.petitions.models import Category, Petition

from .figures import Period, Slice
from .metrics import METRICS
from .models import RefreshState

FLOOR = 5  # petitions in the period, at least
KEEP_SECONDS = 7 * 24 * 3600  # a table not viewed for a week is dropped
BUSY_SECONDS = 15 * 60  # a recomputation that died (worker killed) is retried after this
LIMIT = 20


def area_of_scope(scope: Organisation) -> Organisation:
    """The area whose parts the localities are grouped into: the scope if it is an area, else the
    area it belongs to (a county office's localities are its county's townships)."""
    if scope.kind == OrganisationKind.GOVERNMENT or scope.parent_id is None:
        return scope
    return scope.parent or scope


def hotspots(
    period: Period,
    scope: Organisation,
    *,
    category_keys: tuple[str, ...] = (),
    floor: int = FLOOR,
    limit: int = LIMIT,
) -> list[dict[str, Any]]:
    """The rising (category, place) pairs of ``period`` against ``period.previous()`` for the
    petitions registered inside ``scope``, largest rise first; ``place`` is the path of the part of
    the scope's area the locality lies in (or of the area itself)."""
    before = period.previous()
    area = area_of_scope(scope)
    # The organisations as id lists, not as joins on their paths: a join lets the planner misjudge
    # the prefix match and loop over the petitions once per office (minutes at 10^6 petitions).
    offices = list(Organisation.objects.subtree(scope).values_list("pk", flat=True))
    places = dict(Organisation.objects.subtree(area).values_list("pk", "path"))
    q = METRICS["received"].where() & Q(
        received_on__gte=before.start,
        received_on__lte=period.end,
        office_id__in=offices,
        locality_id__in=list(places),
    )
    if category_keys:
        q &= Q(category_id__in=[int(k) for k in category_keys])
    grouped = (
        Petition.objects.filter(q)
        .values_list("category_id", "locality_id")
        .annotate(
            now=Count("pk", filter=Q(received_on__gte=period.start)),
            before=Count("pk", filter=Q(received_on__lte=before.end)),
        )
        .order_by()
    )
    # (category, locality) rows, a few thousand at most, summed to (category, place): the place is
    # the locality's path cut to the area's child level (the area itself for 本级).
    cut = len(area.path) + PATH_STEP + 1
    pairs: dict[tuple[int, str], list[int]] = defaultdict(lambda: [0, 0])
    for category, locality, now, earlier in grouped:
        pair = pairs[(category, places[locality][:cut])]
        pair[0] += now
        pair[1] += earlier
    rising = [
        {
            "category": category,
            "place": place,
            "now": now,
            "before": earlier,
            "rise": now - earlier,
            "ratio": None if not earlier else now / earlier,
        }
        for (category, place), (now, earlier) in pairs.items()
        if now >= floor and now > earlier
    ]
    rising.sort(key=lambda h: (-h["rise"], h["before"], h["category"], h["place"]))
    return rising[:limit]


def _cache_key(period: Period, scope_pk: int, category_keys: Iterable[str]) -> str:
    raw = "|".join(str(part) for part in (scope_pk, period.start, period.end, ",".join(category_keys)))
    return "stats:hotspots:" + hashlib.sha256(raw.encode()).hexdigest()  # any cache backend's key


def _refresh_stamp() -> str:
    return str(RefreshState.objects.filter(pk=1).values_list("refreshed_at", "rebuilt_at").first())


def cached_hotspots(
    period: Period, scope: Organisation, category_keys: tuple[str, ...]
) -> list[dict[str, Any]]:
    """``hotspots`` as of a recent refresh of the counts, never computed twice for one refresh.

    Reading two periods of petitions costs about a second for a city's year at 10^6 petitions and
    ten times that at 10^7 (docs/performance.md), against milliseconds for the counts.  A busy
    site refreshes its counts every minute, so recomputing on the first view after each refresh
    would make every leader wait.  Instead the last result is shown at once and, when the counts
    have been refreshed since it was computed, the worker computes the next one (one job per
    table at a time): the table is at most one recomputation behind the rest of the dashboard.
    Only the very first view of a scope, period and category filter computes it in the request."""
    key = _cache_key(period, scope.pk, category_keys)
    found = cache.get(key)
    if found is None:
        return _compute_and_keep(key, period, scope, category_keys)
    if found["stamp"] != _refresh_stamp() and cache.add(f"{key}:busy", 1, BUSY_SECONDS):
        enqueue(
            "xinfang.stats.tasks.recompute_hotspots",
            period.start.isoformat(), period.end.isoformat(), scope.pk, list(category_keys),
        )  # fmt: skip
    return found["rows"]


def _compute_and_keep(
    key: str, period: Period, scope: Organisation, category_keys: tuple[str, ...]
) -> list[dict[str, Any]]:
    stamp = _refresh_stamp()  # before reading: a refresh meanwhile makes the result stale, not lost
    rows = hotspots(period, scope, category_keys=category_keys)
    cache.set(key, {"stamp": stamp, "rows": rows}, KEEP_SECONDS)
    return rows


def recompute(start: str, end: str, scope_pk: int, category_keys: list[str]) -> int:
    """The worker's side of ``cached_hotspots``: compute one table again and keep it."""
    period = Period(dt.date.fromisoformat(start), dt.date.fromisoformat(end))
    scope = Organisation.objects.get(pk=scope_pk)
    key = _cache_key(period, scope_pk, category_keys)
    try:
        return len(_compute_and_keep(key, period, scope, tuple(category_keys)))
    finally:
        cache.delete(f"{key}:busy")


def hotspot_section(f: Any) -> dict[str, Any]:
    """The hotspot table on the dashboard (``f``: dashboard.Filters).  The pair's numbers are not
    counts of the roll-up, so they are shown as text; the row links to the petitions of the
    category and to those of the place in the period (the drill-down filters one dimension at a
    time, and the work queue filters by neither an entry nor a locality)."""
    from .dashboard import _section, drill_url

    found = cached_hotspots(f.period, f.scope, f.category_keys)
    categories = {
        c.pk: str(c)
        for c in Category.objects.filter(pk__in=[h["category"] for h in found]).select_related("parent")
    }
    area = area_of_scope(f.scope)
    places = {
        path: (pk, name)
        for pk, path, name in Organisation.objects.filter(path__in=[h["place"] for h in found]).values_list(
            "pk", "path", "name"
        )
    }
    rows = []
    for h in found:
        pk, name = places.get(h["place"], (area.pk, area.name))
        by_category = Slice(f.scope.path, "category", (str(h["category"]),))
        by_place = Slice(f.scope.path, "locality", (str(pk),))
        if pk == area.pk:
            name = _("%(name)s本级") % {"name": area.name}
        rows.append(
            {
                "label": f"{categories.get(h['category'], '')} · {name}",
                "cells": [
                    {"text": str(h["now"]), "value": h["now"]},
                    {"text": str(h["before"])},
                    {"text": f"+{h['rise']}", "value": h["rise"]},
                    {"text": _("新出现") if h["ratio"] is None else f"{(h['ratio'] - 1) * 100:+.0f}%"},
                    {"text": _("该类信访件"), "url": drill_url(f, "received", f.period, by_category)},
                    # a part of the area: every locality inside it (the drill-down's "under")
                    {
                        "text": _("该属地信访件"),
                        "url": drill_url(
                            f, "received", f.period, by_place, under=None if pk == area.pk else pk
                        ),
                    },
                ],
            }
        )
    columns = [_("本期"), _("上期"), _("增加"), _("增幅"), _("按分类查看"), _("按属地查看")]
    section = _section(
        "hotspots",
        _("热点问题（同一分类、同一属地较上期上升）"),
        "hbar",
        columns,
        rows,
        series=[2],  # the chart shows the rise, what the table is ranked by
        header=_("问题分类 · 属地"),
        note=_("本期至少 %(n)s 件且多于上期的分类与属地组合，按增加件数排序。") % {"n": FLOOR},
    )
    section["empty"] = not rows
    return section
