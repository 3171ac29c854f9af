"""``/api/v1/statistics``: the figures of a scope and a period for upper-level systems (issue #9 §6).

Every number is read with ``stats.figures.counts`` from the pre-aggregated counts and every rate
with ``figures.rates``, the same calls the statistics pages make, so the API, the pages and the
drill-down lists agree (docs/statistics.md).  A caller sees figures for their area only
(``figures.area_of``); a scope outside it answers exactly like one that does not exist (404).
"""

from __future__ import annotations

import datetime as dt
import re
from typing import Any, Literal

from django.core.exceptions import ValidationError
from django.http import HttpRequest
from django.utils import timezone
from django.utils.translation import gettext as _
from ninja import Field, Query, Router, Schema

from xinfang.core.replica import stale_ok
from xinfang.organisations.choices import CASEWORK_ROLES
from xinfang.organisations.models import Organisation
from xinfang.petitions.choices import Channel, Purpose
from xinfang.petitions.models import Category
from xinfang.stats import figures
from xinfang.stats.figures import Period, Slice
from xinfang.stats.metrics import METRICS
from xinfang.stats.models import DirtyDay, RefreshState

from ..auth import auth_user, token_auth
from ..errors import ApiError, ErrorCode
from ..schemas import ErrorOut, InputSchema

router = Router(tags=["statistics"], auth=token_auth)

BREAKDOWNS = ("channel", "purpose", "category", "locality", "unit", "child", "month")
# Ten years of months is 120 monthly rows per organisation and metric: still one cheap read; a
# longer span is a mistake (a mistyped year), not a report anyone needs.
MAX_DAYS = 3700
# Years a figure can exist in; outside them a date is a typing mistake (and the last day of year
# 9999 has no day after it to end a span with).
YEARS = (1900, 2999)
_PERIOD = re.compile(r"^(\d{4})(?:-(?:(\d{2})|Q([1-4])))?$")


class StatisticsFilters(InputSchema):
    scope: str | None = Field(
        None,
        max_length=40,
        description="统计范围：机构代码（行政区划代码）或机构 id；不填为调用者的辖区 "
        "(scope: an organisation code, else its id; default the caller's area)",
    )
    start: dt.date | None = Field(None, description="起始日期 YYYY-MM-DD（与 end 同用）")
    end: dt.date | None = Field(None, description="截止日期 YYYY-MM-DD（含当日）")
    period: str | None = Field(
        None,
        max_length=7,
        description="统计期：2026（年）、2026-03（月）或 2026-Q1（季度）；与 start/end 二选一",
    )
    category: str | None = Field(
        None, max_length=20, description="问题分类代码：一级分类含其全部二级分类 (category code)"
    )
    breakdown: Literal[BREAKDOWNS] | None = Field(  # type: ignore[valid-type]
        None,
        description="分组：channel 信访形式、purpose 信访目的、category 问题分类、locality 问题属地、"
        "unit 归属机构、child 下一级区域、month 月份",
    )


class RateOut(Schema):
    name: str = Field(description="指标名称（GLOSSARY.md），如 timely_acceptance_rate")
    label: str
    numerator: int
    denominator: int
    value: float | None = Field(description="numerator / denominator，0至1；分母为0时为 null")


class GroupOut(Schema):
    key: str = Field(
        description="分组的值：信访形式或目的代码、分类代码、机构代码（无代码时为 id）、月份 YYYY-MM"
    )
    label: str
    counts: dict[str, int]
    rates: list[RateOut]


class ScopeOut(Schema):
    id: int
    code: str
    name: str


class PeriodOut(Schema):
    start: dt.date
    end: dt.date


class StatisticsOut(Schema):
    scope: ScopeOut
    period: PeriodOut
    category: str | None = Field(description="按此问题分类代码筛选；null 为全部分类")
    refreshed_at: dt.datetime | None = Field(description="统计数据更新时间")
    refresh_pending: bool = Field(description="有尚未计入的变动（后台每分钟更新一次）")
    deadlines_counted_until: dt.date = Field(
        description="时限类和评价期限类指标只计入期限届满日在此日及之前的记录（期限未满，尚可按期完成）"
    )
    counts: dict[str, int] = Field(description="每个指标的数值（件、批或人次），键为指标名称")
    rates: list[RateOut]
    breakdown: str | None = None
    groups: list[GroupOut] = Field(default_factory=list, description="按 breakdown 分组的数值和比率")


# --- reading the parameters ---------------------------------------------------------------------------


def _period(filters: StatisticsFilters) -> Period:
    """The period asked for, or a 422 naming the field that is wrong."""
    if filters.period and (filters.start or filters.end):
        raise ValidationError({"period": [_("period 与 start/end 只能二选一。")]})
    if filters.period:
        match = _PERIOD.match(filters.period)
        if not match or not YEARS[0] <= int(match.group(1)) <= YEARS[1]:
            raise ValidationError({"period": [_("统计期格式应为 2026、2026-03 或 2026-Q1。")]})
        year, month, quarter = int(match.group(1)), match.group(2), match.group(3)
        if month:
            if not 1 <= int(month) <= 12:
                raise ValidationError({"period": [_("月份应在01至12之间。")]})
            return Period.month(year, int(month))
        return Period.quarter(year, int(quarter)) if quarter else Period.year(year)
    if not filters.start or not filters.end:
        missing = "start" if not filters.start else "end"
        raise ValidationError({missing: [_("请填写统计期：start 和 end，或 period。")]})
    for name in ("start", "end"):
        if not YEARS[0] <= getattr(filters, name).year <= YEARS[1]:
            raise ValidationError({name: [_("日期超出范围（1900至2999年）。")]})
    if filters.end < filters.start:
        raise ValidationError({"end": [_("截止日期不能早于起始日期。")]})
    if (filters.end - filters.start).days >= MAX_DAYS:
        raise ValidationError({"end": [_("统计期不能超过十年。")]})
    return Period(filters.start, filters.end)


def _not_found() -> ApiError:
    return ApiError(404, ErrorCode.NOT_FOUND, _("统计范围不存在，或不在您的查看范围内。"))


def _scope(value: str | None, area: Organisation) -> Organisation:
    """The organisation named by code (else by id) inside ``area``; 404 for any other."""
    if not value:
        return area
    inside = Organisation.objects.filter(path__startswith=area.path)
    found = inside.filter(code=value).order_by("depth", "pk").first()
    if found is None and value.isdigit() and len(value) < 19:
        found = inside.filter(pk=int(value)).first()
    if found is None:
        raise _not_found()
    return found


def _category_keys(code: str | None) -> tuple[str, ...]:
    """The ids of the category and its entries (counts are kept per entry)."""
    if not code:
        return ()
    category = Category.objects.filter(code=code).first()
    if category is None:
        raise ValidationError({"category": [_("问题分类代码不存在。")]})
    ids = [category.pk, *Category.objects.filter(parent=category).values_list("pk", flat=True)]
    return tuple(str(i) for i in ids)


# --- assembling the answer ----------------------------------------------------------------------------


def _rates(totals: dict[str, int]) -> list[dict[str, Any]]:
    return [
        {"name": r.name, "label": r.label, "numerator": r.numerator, "denominator": r.denominator,
         "value": r.value}
        for r in figures.rates(totals)
    ]  # fmt: skip


def _all_counts(totals: dict[str, int]) -> dict[str, int]:
    return {name: int(totals.get(name, 0)) for name in METRICS}


def _labels(breakdown: str, keys: list[Any]) -> dict[Any, tuple[str, str]]:
    """(key shown, label) of each group key of a breakdown."""
    if breakdown == "channel":
        return {k: (k, str(Channel(k).label) if k in Channel.values else k) for k in keys}
    if breakdown == "purpose":
        return {k: (k, str(Purpose(k).label) if k in Purpose.values else k) for k in keys}
    if breakdown == "month":
        return {k: (f"{k:%Y-%m}", f"{k:%Y-%m}") for k in keys}
    if breakdown == "category":
        rows = Category.objects.filter(pk__in=[int(k) for k in keys]).values_list("pk", "code", "name")
        return {str(pk): (code, name) for pk, code, name in rows}
    if breakdown == "locality":
        rows = Organisation.objects.filter(pk__in=[int(k) for k in keys]).values_list("pk", "code", "name")
        return {str(pk): (code or str(pk), name) for pk, code, name in rows}
    # unit, child: keys are organisation paths
    rows = Organisation.objects.filter(path__in=keys).values_list("path", "pk", "code", "name")
    return {path: (code or str(pk), name) for path, pk, code, name in rows}


def _groups(breakdown: str, period: Period, where: Slice, today: dt.date) -> list[dict[str, Any]]:
    """The figures per group.  The counts are kept along one dimension at a time, so a category
    filter combines with a breakdown by category, organisation or month only."""
    if breakdown in ("channel", "purpose", "locality", "category"):
        if where.keys and breakdown != "category":
            raise ValidationError({"breakdown": [_("按问题分类筛选时，只能按问题分类、机构或月份分组。")]})
        where = Slice(scope=where.scope, dimension=breakdown, keys=where.keys)
    by = {"unit": "organisation", "child": "child", "month": "month"}.get(breakdown, "key")
    grouped = figures.counts(list(METRICS), period, where, by=by, today=today)
    keys = sorted(k for k in grouped if k is not None)
    labels = _labels(breakdown, keys)
    return [
        {"key": labels.get(k, (str(k), str(k)))[0], "label": labels.get(k, (str(k), str(k)))[1],
         "counts": _all_counts(grouped[k]), "rates": _rates(grouped[k])}
        for k in keys
    ]  # fmt: skip


@router.get(
    "",
    response={200: StatisticsOut, 401: ErrorOut, 403: ErrorOut, 404: ErrorOut, 422: ErrorOut},
    summary="统计数据：一个范围、一个统计期的全部指标和比率 (figures of a scope and period)",
)
@stale_ok()
def statistics(request: HttpRequest, filters: Query[StatisticsFilters]) -> dict[str, Any]:
    """Every count of ``stats.metrics.METRICS`` and every rate of ``RATES`` (numerator, denominator,
    value) for ``scope`` and the period (``start``..``end`` inclusive, or ``period``), optionally one
    category (a first-level class includes its entries) and one ``breakdown``.  The figures are those
    of the statistics pages and their drill-down lists, defined in docs/statistics.md.  Casework
    roles only (403 otherwise); a scope outside the caller's area, or unknown, is 404 ``not_found``;
    bad dates and an unknown category are 422 ``validation_error`` with the field named.
    统计数据：供上级系统调用，口径见 docs/statistics.md。"""
    user = auth_user(request)
    area = figures.area_of(user)
    if not user.role_codes & CASEWORK_ROLES or area is None:
        raise PermissionError(_("统计数据只对登记员、承办人、督办员和领导开放。"))
    period = _period(filters)
    keys = _category_keys(filters.category)
    scope = _scope(filters.scope, area)
    where = Slice(scope=scope.path, dimension="category" if keys else "", keys=keys)
    today = timezone.localdate()
    totals = figures.counts(list(METRICS), period, where, today=today).get(None, {})
    state = RefreshState.objects.filter(pk=1).values_list("refreshed_at", flat=True).first()
    return {
        "scope": {"id": scope.pk, "code": scope.code, "name": scope.name},
        "period": {"start": period.start, "end": period.end},
        "category": filters.category or None,
        "refreshed_at": state,
        "refresh_pending": DirtyDay.objects.exists(),
        "deadlines_counted_until": today - dt.timedelta(days=1),
        "counts": _all_counts(totals),
        "rates": _rates(totals),
        "breakdown": filters.breakdown,
        "groups": _groups(filters.breakdown, period, where, today) if filters.breakdown else [],
    }
