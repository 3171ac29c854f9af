"""Hotspots (热点): the same category in the same locality rising against the previous period.

Why this reads the facts and not the counts: the roll-up breaks each count down along **one**
dimension at a time (a category *or* a locality, stats.models.counts), so how many petitions of
one category arose in one locality is not in ``DailyCount``/``MonthlyCount``.  Adding the pair as a
dimension would multiply the count rows by the number of localities; instead the hotspot table is
one ``GROUP BY category, locality`` over ``Petition`` for the two periods together: a range on
``received_on`` (``petition_received_idx``) joined to the registering office for the scope (one
prefix range on ``org_path_prefix_idx``), the same rows the ``received`` figure counts.  Clustering
petitions by their text comes later (issue #9 §4).

A pair is a hotspot when it has at least ``floor`` petitions in the period and more than in the
previous period of the same length (so one petition becoming two is not a hotspot).  Pairs are
ranked by the absolute rise, then by the ratio (for an equal rise, the smaller base rose more).
"""

from __future__ import annotations

from typing import Any

from django.db.models import Count, F, Q
from django.utils.translation import gettext as _

from xinfang.organisations.models import Organisation
from xinfang.petitions.models import Category, Petition

from .figures import Period, Slice
from .metrics import METRICS

FLOOR = 5  # petitions in the period, at least
LIMIT = 20


def hotspots(
    period: Period, scope: str, *, category_keys: tuple[str, ...] = (), floor: int = FLOOR, limit: int = LIMIT
) -> list[dict[str, Any]]:
    """The rising (category, locality) pairs of ``period`` against ``period.previous()`` for the
    petitions registered inside ``scope`` (an organisation path), largest rise first."""
    before = period.previous()
    received = METRICS["received"]
    q = received.where() & Q(received_on__gte=before.start, received_on__lte=period.end)
    if scope:
        q &= Q(office__path__startswith=scope)
    if category_keys:
        q &= Q(category_id__in=[int(k) for k in category_keys])
    rows = (
        Petition.objects.filter(q)
        .values("category_id", "locality_id")
        .annotate(
            now=Count("pk", filter=Q(received_on__gte=period.start)),
            before=Count("pk", filter=Q(received_on__lte=before.end)),
        )
        .filter(now__gte=floor, now__gt=F("before"))
        .annotate(rise=F("now") - F("before"))
        .order_by("-rise", "before", "category_id", "locality_id")[:limit]
    )
    result = [
        {
            "category": r["category_id"],
            "locality": r["locality_id"],
            "now": r["now"],
            "before": r["before"],
            "rise": r["now"] - r["before"],
            "ratio": None if not r["before"] else r["now"] / r["before"],
        }
        for r in rows
    ]
    return result


def hotspot_section(f: Any) -> dict[str, Any]:
    """The hotspot table on the dashboard (``f``: dashboard.Filters).  The pair's numbers are not
    counts of the roll-up, so they link to the petitions of the category and of the locality in
    the period (the drill-down filters one dimension at a time)."""
    from .dashboard import _section, drill_url

    found = hotspots(f.period, f.scope.path, category_keys=f.category_keys)
    categories = {
        c.pk: str(c)
        for c in Category.objects.filter(pk__in=[h["category"] for h in found]).select_related("parent")
    }
    places = dict(
        Organisation.objects.filter(pk__in=[h["locality"] for h in found]).values_list("pk", "name")
    )
    rows = []
    for h in found:
        by_category = Slice(f.scope.path, "category", (str(h["category"]),))
        by_place = Slice(f.scope.path, "locality", (str(h["locality"]),))
        rows.append(
            {
                "label": f"{categories.get(h['category'], '')} · {places.get(h['locality'], '')}",
                "cells": [
                    {"text": str(h["now"]), "value": h["now"]},
                    {"text": str(h["before"])},
                    {"text": f"+{h['rise']}"},
                    {"text": _("新出现") if h["ratio"] is None else f"{(h['ratio'] - 1) * 100:+.0f}%"},
                    {"text": _("该类信访件"), "url": drill_url(f, "received", f.period, by_category)},
                    {"text": _("该属地信访件"), "url": drill_url(f, "received", f.period, by_place)},
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
        header=_("问题分类 · 属地"),
        note=_("至少 %(n)s 件且多于上期的分类与属地组合，按增加件数排序。") % {"n": FLOOR},
    )
    section["empty"] = not rows
    return section
