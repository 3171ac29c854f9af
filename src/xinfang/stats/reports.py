"""The monthly report and the annual report of Art. 41 of the 信访工作条例, as DOCX (issue #9 §6).

Art. 41 asks each petition office for a yearly report to the Party committee and the government
of its level: the numbers received and handled, the main issues and where they arose, how they were
handled, the petitioners' main suggestions and the recommendations adopted.  ``build_report``
gathers that content for an area and a period; ``render_docx`` fills a docxtpl template with it
(the office's own ``ReportTemplate`` if it uploaded one, else the default of
``report_templates/``).  The DOCX is a draft the office edits before sending.

Every number comes from ``figures.counts`` (or, for a breakdown the roll-up does not keep, from the
rows of ``figures.drill`` behind a figure), so the report says what the statistics pages say.
"""

from __future__ import annotations

import datetime as dt
import io
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Count, Exists, OuterRef, Q
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, pgettext
from docx.shared import Mm
from docxtpl import DocxTemplate, InlineImage
from jinja2.sandbox import SandboxedEnvironment

from xinfang.audit.services import record_event
from xinfang.core.docx import MAX_TEMPLATE_BYTES, check_docx_file  # noqa: F401 — report_views reads it here
from xinfang.organisations.choices import Level, OrganisationKind
from xinfang.organisations.models import Organisation
from xinfang.petitions.choices import Channel, Purpose
from xinfang.petitions.models import Category, Petition
from xinfang.workflow.models import Assignment, AssignmentKind, ReplyOutcome

from . import charts, figures
from .figures import Period, RateValue, Slice
from .metrics import METRICS, RATES
from .models import ReportKind, ReportTemplate

TEMPLATE_DIR = Path(__file__).resolve().parent / "report_templates"
DOCX_TYPE = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
TOP = 10  # rows of the "main issues" and "where they arose" tables; the rest are summed as 其他
SUGGESTION_TITLES = 5

INTAKE = ("received", "persons", "first_time", "repeat", "collective", "collective_persons", "skip_level")
HANDLING = ("replied", "closed", "countable", "concluded", "deadlines_missed")
APPEALS = (
    "review_requested", "review_decided", "review_upheld", "review_changed",
    "recheck_requested", "recheck_decided", "recheck_upheld", "recheck_changed",
)  # fmt: skip
# The rates of the report, in the order of Art. 41's topics: acceptance, handling, supervision,
# the petitioners' judgement, then the shares that describe the intake.
REPORT_RATES = (
    "timely_acceptance_rate", "on_time_closure_rate", "report_rate", "supervision_response_rate",
    "closure_rate", "evaluation_rate", "satisfaction_rate", "office_satisfaction_rate",
    "resolution_rate", "repeat_rate", "collective_share", "skip_level_share",
    "review_change_rate", "recheck_change_rate",
)  # fmt: skip
# 主送: the Party committee and the government of the office's level (Art. 41).
ADDRESSEES = {
    Level.NATIONAL: gettext_lazy("党中央、国务院"),
    Level.PROVINCE: gettext_lazy("省委、省政府"),
    Level.CITY: gettext_lazy("市委、市政府"),
    Level.COUNTY: gettext_lazy("县委、县政府"),
    Level.TOWNSHIP: gettext_lazy("乡镇党委、乡镇政府"),
    Level.VILLAGE: gettext_lazy("村党组织、村民委员会"),
}
PLACEHOLDER = gettext_lazy(
    "【请信访部门填写：本期向党委、政府及有关部门提出的完善政策、改进工作的建议，以及各项建议的采纳情况"
    "（《信访工作条例》第四十一条）。成文前删除本说明。】"
)


# --- the scope of a report ----------------------------------------------------------------------------


def office_of(area: Organisation) -> Organisation | None:
    """The petition office that writes the reports of ``area`` (its 信访局), or None."""
    if area.kind == OrganisationKind.PETITION_OFFICE:
        return area
    return (
        Organisation.objects.filter(parent=area, kind=OrganisationKind.PETITION_OFFICE, is_active=True)
        .order_by("pk")
        .first()
    )


def area_name(area: Organisation) -> str:
    """How a report names its area: 甲县, not 甲县人民政府 (the government is the addressee)."""
    return area.name.removesuffix("人民政府") or area.name


def may_generate(user: Any) -> bool:
    """Leaders, supervisors and the intake staff of a petition office write the reports."""
    if user.has_role("leader", "supervisor"):
        return True
    org = getattr(user, "organisation", None)
    return user.has_role("intake") and org is not None and org.kind == OrganisationKind.PETITION_OFFICE


def report_period(kind: str, year: int, month: int | None = None) -> Period:
    return Period.year(year) if kind == ReportKind.ANNUAL else Period.month(year, month or 1)


# --- formatting -------------------------------------------------------------------------------------


def change(current: float | None, earlier: float | None, *, points: bool = False) -> str:
    """同比/环比 as words: 上升12.5% / 下降3.0% / 持平; for rates the change in percentage points;
    "—" when there is nothing to compare with."""
    if current is None or earlier is None:
        return "—"
    if points:
        diff = (current - earlier) * 100
        if abs(diff) < 0.05:
            return _("持平")
        if diff > 0:
            return _("上升{value:.1f}个百分点").format(value=diff)
        return _("下降{value:.1f}个百分点").format(value=-diff)
    if not earlier:
        return "—"  # no base to compare with: a percentage of nothing is not a figure
    ratio = (current - earlier) / earlier * 100
    if abs(ratio) < 0.05:
        return _("持平")
    if ratio > 0:
        return _("上升{value:.1f}%").format(value=ratio)
    return _("下降{value:.1f}%").format(value=-ratio)


def share(part: int, whole: int) -> str:
    return "—" if not whole else f"{part / whole * 100:.1f}%"


def chinese_date(day: dt.date) -> str:
    # GB/T 9704-2012 7.3.5.3: the date in Arabic numerals, year in full, no leading zeros.
    return _("{y}年{m}月{d}日").format(y=day.year, m=day.month, d=day.day)


def period_text(kind: str, period: Period) -> str:
    if kind == ReportKind.ANNUAL:
        return _("{y}年").format(y=period.start.year)
    return _("{y}年{m}月").format(y=period.start.year, m=period.start.month)


# --- the content ---------------------------------------------------------------------------------


@dataclass
class Report:
    """What a report says, as plain values (the template's context) plus the charts as PNG."""

    kind: str
    area: Organisation
    office: Organisation | None
    period: Period
    context: dict[str, Any]
    charts: dict[str, bytes] = field(default_factory=dict)

    @property
    def filename(self) -> str:
        return "{title}.docx".format(title=self.context["title"])


def _totals(period: Period, scope: str, today: dt.date) -> dict[str, int]:
    names = {*INTAKE, *HANDLING, *APPEALS, *figures.rate_metrics(REPORT_RATES)}
    return dict(figures.counts(sorted(names), period, Slice(scope=scope), today=today).get(None, {}))


def _by_key(
    names: Iterable[str], period: Period, scope: str, dimension: str, today: dt.date
) -> dict[str, dict]:
    result = figures.counts(
        list(names), period, Slice(scope=scope, dimension=dimension), by="key", today=today
    )
    return {str(k): dict(v) for k, v in result.items()}


def _intake_rows(now: dict, year_ago: dict, before: dict | None) -> list[dict[str, Any]]:
    rows = []
    for name in INTAKE:
        m = METRICS[name]
        rows.append({
            "label": str(m.label), "unit": str(m.unit), "value": now.get(name, 0),
            "last": year_ago.get(name, 0),
            "yoy": change(now.get(name, 0), year_ago.get(name, 0)),
            "prev": before.get(name, 0) if before is not None else "—",
            "mom": change(now.get(name, 0), before.get(name, 0)) if before is not None else "—",
        })  # fmt: skip
    return rows


def _channel_rows(now: dict[str, dict], year_ago: dict[str, dict], total: int) -> list[dict[str, Any]]:
    rows = []
    for code, label in Channel.choices:
        received = now.get(code, {}).get("received", 0)
        if not received and not year_ago.get(code, {}).get("received", 0):
            continue
        rows.append({
            "label": str(label), "received": received, "persons": now.get(code, {}).get("persons", 0),
            "share": share(received, total), "last": year_ago.get(code, {}).get("received", 0),
            "yoy": change(received, year_ago.get(code, {}).get("received", 0)),
        })  # fmt: skip
    return rows


def _grouped(counts: dict[str, dict], group_of: dict[str, Any]) -> dict[Any, int]:
    """Sum ``received`` over keys mapped to the same group (leaf category → its class …)."""
    totals: dict[Any, int] = defaultdict(int)
    for key, values in counts.items():
        totals[group_of.get(key)] += values.get("received", 0)
    return totals


def _ranked_rows(
    now: dict[Any, int], year_ago: dict[Any, int], names: dict[Any, str], total: int
) -> list[dict[str, Any]]:
    """The largest ``TOP`` groups with count, share and 同比; the rest summed as 其他."""
    order = sorted((k for k, v in now.items() if v), key=lambda k: (-now[k], names.get(k, "")))
    rows = [
        {"label": names.get(k, _("未知")), "received": now[k], "share": share(now[k], total),
         "last": year_ago.get(k, 0), "yoy": change(now[k], year_ago.get(k, 0))}
        for k in order[:TOP]
    ]  # fmt: skip
    rest = order[TOP:]
    if rest:
        n, last = sum(now[k] for k in rest), sum(year_ago.get(k, 0) for k in rest)
        rows.append({"label": _("其他"), "received": n, "share": share(n, total), "last": last,
                     "yoy": change(n, last)})  # fmt: skip
    return rows


def _category_classes(keys: Iterable[str]) -> tuple[dict[str, int], dict[int, str]]:
    """Leaf category id → its first-level class id, and class id → name (one query)."""
    ids = [int(k) for k in keys if k.isdigit()]
    group_of: dict[str, int] = {}
    names: dict[int, str] = {}
    for cat in Category.objects.filter(pk__in=ids).select_related("parent"):
        top = cat.parent or cat
        group_of[str(cat.pk)] = top.pk
        names[top.pk] = top.name
    return group_of, names


def _locality_areas(keys: Iterable[str], area: Organisation) -> tuple[dict[str, str], dict[str, str]]:
    """Locality id → the child area of ``area`` it lies in (县本级 for the area itself; 辖区外 for a
    place outside it), and that child's path → its name (two queries)."""
    ids = [int(k) for k in keys if k.isdigit()]
    paths = dict(Organisation.objects.filter(pk__in=ids).values_list("pk", "path"))
    group_of: dict[str, str] = {}
    for pk, path in paths.items():
        if not path.startswith(area.path):
            group_of[str(pk)] = "outside"
        else:
            # the area's child the place lies in (counties side by side), as figures' by="child"
            step = path.find("/", len(area.path))
            group_of[str(pk)] = path[: step + 1] if step >= 0 else path
    children = {
        path: name.removesuffix("人民政府") or name  # 甲县, as area_name
        for path, name in Organisation.objects.filter(path__in=set(group_of.values())).values_list(
            "path", "name"
        )
    }
    children[area.path] = _("{name}本级").format(name=area_name(area))
    children["outside"] = _("辖区外")
    return group_of, children


def _subject_rows(period: Period, scope: str, total: int, today: dt.date) -> list[dict[str, Any]]:
    """The units complained about most (Art. 41: 被反映较多的单位): the rows behind ``received``
    that name a unit, grouped.  Confidential reports (检举控告) are left out: a count against a
    unit would tell whoever reads the report, possibly that unit's own people, that it is accused
    (security.md §8)."""
    rows = figures.drill("received", period, Slice(scope=scope), today=today)
    grouped = (
        rows.filter(subject_organisation__isnull=False, is_confidential=False)
        .values_list("subject_organisation", "subject_organisation__name")
        .annotate(n=Count("pk"))
        .order_by("-n", "subject_organisation__name")[:TOP]
    )
    return [{"label": name, "received": n, "share": share(n, total)} for _pk, name, n in grouped]


def _rate_rows(now: dict, year_ago: dict) -> list[dict[str, Any]]:
    earlier = {r.name: r for r in figures.rates(year_ago, REPORT_RATES)}
    rows = []
    for rate in figures.rates(now, REPORT_RATES):
        before: RateValue = earlier[rate.name]
        rows.append({
            "name": rate.name, "label": rate.label, "numerator": rate.numerator,
            "denominator": rate.denominator,
            "percent": rate.percent, "last": before.percent,
            "yoy": change(rate.value, before.value, points=True),
        })  # fmt: skip
    return rows


def _reply_rows(period: Period, scope: str, today: dt.date) -> list[dict[str, Any]]:
    """The replies of the period by outcome (支持/解释说明/不予支持): the rows behind the figure
    ``replied`` grouped, so they add up to it."""
    letters = figures.drill("replied", period, Slice(scope=scope), today=today)
    counted = dict(letters.values_list("outcome").annotate(n=Count("pk")).order_by())
    total = sum(counted.values())
    return [
        {"label": str(label), "count": counted.get(code, 0), "share": share(counted.get(code, 0), total)}
        for code, label in ReplyOutcome.choices
    ]


def _appeal_rows(now: dict, year_ago: dict) -> list[dict[str, Any]]:
    return [
        {"label": str(METRICS[n].label), "value": now.get(n, 0), "last": year_ago.get(n, 0),
         "yoy": change(now.get(n, 0), year_ago.get(n, 0))}
        for n in APPEALS
    ]  # fmt: skip


def _suggestions(period: Period, scope: str, user: Any, today: dt.date) -> dict[str, Any]:
    """The petitions of purpose 意见建议 (Art. 29): their number, their classes and a few titles.
    The classes are the drill-down rows of the figure grouped (the roll-up keeps one dimension at
    a time, so purpose × category is read from the petitions); the titles only from what the user
    may see (a confidential report never shows)."""
    where = Slice(scope=scope, dimension="purpose", keys=(Purpose.SUGGESTION,))
    total = figures.counts(["received"], period, where, today=today).get(None, {}).get("received", 0)
    rows = figures.drill("received", period, where, today=today)
    by_leaf = {
        str(k): {"received": n} for k, n in rows.values_list("category").annotate(n=Count("pk")).order_by()
    }
    group_of, names = _category_classes(by_leaf)
    classes = _grouped(by_leaf, group_of)
    visible = (
        rows.filter(pk__in=Petition.objects.restrict(user).values("pk")) if user is not None else rows.none()
    )
    titles = list(visible.order_by("-received_on", "-pk").values_list("title", flat=True)[:SUGGESTION_TITLES])
    return {
        "suggestion_total": total,
        "suggestion_rows": _ranked_rows(classes, {}, names, total),
        "suggestion_titles": titles,
    }


def _trend(period: Period, scope: str, today: dt.date) -> tuple[list[str], list[int], list[int]]:
    """``received`` per month from January to the period's end, and the same months a year before."""
    span = Period(dt.date(period.end.year, 1, 1), period.end)
    now = figures.counts(["received"], span, Slice(scope=scope), by="month", today=today)
    before = figures.counts(["received"], span.year_before(), Slice(scope=scope), by="month", today=today)
    labels, current, earlier = [], [], []
    for month in range(1, period.end.month + 1):
        labels.append(_("{m}月").format(m=month))
        current.append(now.get(dt.date(span.end.year, month, 1), {}).get("received", 0))
        earlier.append(before.get(dt.date(span.end.year - 1, month, 1), {}).get("received", 0))
    return labels, current, earlier


def _issue_rows(
    period: Period, area: Organisation, total: int, today: dt.date
) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """The main issues (category classes) and where they arose (the area's child areas), with 同比."""
    scope = area.path
    cats_now = _by_key(("received",), period, scope, "category", today)
    cats_ago = _by_key(("received",), period.year_before(), scope, "category", today)
    cat_group, cat_names = _category_classes({*cats_now, *cats_ago})
    places_now = _by_key(("received",), period, scope, "locality", today)
    places_ago = _by_key(("received",), period.year_before(), scope, "locality", today)
    place_group, place_names = _locality_areas({*places_now, *places_ago}, area)
    return (
        _ranked_rows(_grouped(cats_now, cat_group), _grouped(cats_ago, cat_group), cat_names, total),
        _ranked_rows(
            _grouped(places_now, place_group), _grouped(places_ago, place_group), place_names, total
        ),
    )


def build_report(
    *, kind: str, area: Organisation, year: int, month: int | None = None, user: Any = None,
    today: dt.date | None = None,
) -> Report:  # fmt: skip
    """Everything one report says for ``area`` (a subtree of the government tree): its context for
    the template and its charts.  ``user`` limits the suggestion titles to what they may see."""
    today = today or timezone.localdate()
    period = report_period(kind, year, month)
    scope = area.path
    office = office_of(area)
    now, year_ago = _totals(period, scope, today), _totals(period.year_before(), scope, today)
    before = _totals(period.previous(), scope, today) if kind == ReportKind.MONTHLY else None
    total = now.get("received", 0)

    channels_now = _by_key(("received", "persons"), period, scope, "channel", today)
    channels_ago = _by_key(("received",), period.year_before(), scope, "channel", today)
    category_rows, locality_rows = _issue_rows(period, area, total, today)
    channel_rows = _channel_rows(channels_now, channels_ago, total)
    rate_rows = _rate_rows(now, year_ago)
    context: dict[str, Any] = {
        "kind": str(ReportKind(kind).label),
        "title": _title(kind, area, period),
        "period": period_text(kind, period),
        "period_range": _("{start}至{end}").format(
            start=chinese_date(period.start), end=chinese_date(period.end)
        ),
        "area": area_name(area),
        "addressee": str(ADDRESSEES.get(area.level, _("党委、政府"))),
        "copy_to": _("上一级信访部门"),
        "office": office.name if office is not None else area.name,
        "date": chinese_date(today),
        "summary": _summary(kind, area, period, now, year_ago, channel_rows),
        "handling_summary": _handling_summary(now, rate_rows),
        "routing_summary": _routing_summary(period, scope, now, today),
        "issues_summary": _issues_summary(category_rows, locality_rows),
        "intake_rows": _intake_rows(now, year_ago, before),
        "channel_rows": channel_rows,
        "category_rows": category_rows,
        "locality_rows": locality_rows,
        "subject_rows": _subject_rows(period, scope, total, today),
        "rate_rows": rate_rows,
        "reply_rows": _reply_rows(period, scope, today),
        "appeal_rows": _appeal_rows(now, year_ago),
        "recommendations": str(PLACEHOLDER),
        "data_note": _data_note(today),
        **_suggestions(period, scope, user, today),
    }
    report = Report(kind=kind, area=area, office=office, period=period, context=context)
    report.charts = _charts(period, scope, context["period"], category_rows, today)
    return report


def _charts(
    period: Period, scope: str, label: str, category_rows: list[dict[str, Any]], today: dt.date
) -> dict[str, bytes]:
    """The trend by month against the year before, and the main classes."""
    labels, current, earlier = _trend(period, scope, today)
    year = period.end.year
    top = [r for r in category_rows if r["label"] != _("其他")]
    return {
        "trend_chart": charts.trend_chart(
            title=_("{y}年各月信访总量（批次）").format(y=year), labels=labels, current=current,
            earlier=earlier, current_label=_("{y}年").format(y=year),
            earlier_label=_("{y}年").format(y=year - 1),
        ),
        "category_chart": charts.ranking_chart(
            title=_("{p}信访事项主要问题分类（批次）").format(p=label),
            labels=[r["label"] for r in top] or [_("无")], values=[r["received"] for r in top] or [0],
        ),
    }  # fmt: skip


def _title(kind: str, area: Organisation, period: Period) -> str:
    if kind == ReportKind.ANNUAL:
        return _("{area}{y}年度信访工作报告").format(area=area_name(area), y=period.start.year)
    return _("{area}{y}年{m}月信访工作情况").format(
        area=area_name(area), y=period.start.year, m=period.start.month
    )


def _summary(kind, area, period, now, year_ago, channel_rows) -> str:  # noqa: ANN001
    """The opening paragraph: how many, how (by channel), first or repeat, collective, skip-level."""
    channels = _("，").join(
        _("{label}{n}批").format(label=r["label"], n=r["received"]) for r in channel_rows if r["received"]
    )
    text = _(
        "{p}，{area}各级信访部门共登记群众信访{received}批{persons}人次（批次同比：{yoy}）；"
        "其中初信初访{first}批、重复信访{repeat}批，集体访{collective}批{collective_persons}人次，越级访{skip}批。"
    ).format(
        p=period_text(kind, period), area=area_name(area), received=now.get("received", 0),
        persons=now.get("persons", 0), yoy=change(now.get("received", 0), year_ago.get("received", 0)),
        first=now.get("first_time", 0), repeat=now.get("repeat", 0), collective=now.get("collective", 0),
        collective_persons=now.get("collective_persons", 0), skip=now.get("skip_level", 0),
    )  # fmt: skip
    if channels:
        text += _("按信访形式分：{channels}。").format(channels=channels)
    return text


def _handling_summary(now: dict, rate_rows: list[dict]) -> str:
    percent = {row["name"]: row["percent"] for row in rate_rows}

    def rate(name: str) -> str:
        # Translators: a rate's name and its value, as in 及时受理率98.5%.
        return pgettext("rate and value", "{label}{value}").format(
            label=RATES[name].label, value=percent[name]
        )

    return _(
        "本期出具书面答复{replied}件，办结{closed}件（应办结{countable}件），终结{concluded}件；"
        "{timely}，{on_time}，{satisfaction}，{evaluation}；时限违规{missed}件。"
    ).format(
        replied=now.get("replied", 0), closed=now.get("closed", 0), countable=now.get("countable", 0),
        concluded=now.get("concluded", 0), missed=now.get("deadlines_missed", 0),
        timely=rate("timely_acceptance_rate"), on_time=rate("on_time_closure_rate"),
        satisfaction=rate("satisfaction_rate"), evaluation=rate("evaluation_rate"),
    )  # fmt: skip


def _routing_summary(period: Period, scope: str, now: dict, today: dt.date) -> str:
    """转送, 交办 and 督办 (Art. 41): how the petitions received in the period were routed (the rows
    behind ``received``, each counted once per way it was sent), then the supervision and
    completion-report deadlines of the period from the figures."""
    petitions = figures.drill("received", period, Slice(scope=scope), today=today)

    def sent(kind: str) -> Q:
        return Q(Exists(Assignment.objects.filter(petition=OuterRef("pk"), kind=kind)))

    routed = petitions.aggregate(
        forwarded=Count("pk", filter=sent(AssignmentKind.FORWARD)),
        assigned=Count("pk", filter=sent(AssignmentKind.ASSIGN)),
    )
    rates = {r.name: r.percent for r in figures.rates(now, ("supervision_response_rate", "report_rate"))}
    return _(
        "本期登记的信访事项中，转送有关地方和部门{forwarded}件，交办{assigned}件"
        "（同一事项先后转送、交办的分别计数）；期限届满的交办事项应报送办结报告{report_due}件，"
        "按时报送{report_on_time}件（{report_rate}）；期限届满的督办事项应反馈{supervision_due}件，"
        "按时反馈{supervision_on_time}件（{supervision_rate}）。"
    ).format(
        forwarded=routed["forwarded"], assigned=routed["assigned"],
        report_due=now.get("report_due", 0), report_on_time=now.get("report_on_time", 0),
        report_rate=rates["report_rate"], supervision_due=now.get("supervision_due", 0),
        supervision_on_time=now.get("supervision_on_time", 0),
        supervision_rate=rates["supervision_response_rate"],
    )  # fmt: skip


def _issues_summary(category_rows: list[dict], locality_rows: list[dict]) -> str:
    if not category_rows:
        return _("本期未登记信访事项。")
    cats = _("、").join(
        _("{label}（{n}批）").format(label=r["label"], n=r["received"]) for r in category_rows[:3]
    )
    places = _("、").join(
        _("{label}（{n}批）").format(label=r["label"], n=r["received"]) for r in locality_rows[:3]
    )
    return _("反映问题主要集中在{cats}；问题发生地主要为{places}。").format(cats=cats, places=places)


def _data_note(today: dt.date) -> str:
    return _(
        "数据来源：信访信息系统统计数据（截至{day}）。时限类指标只统计期限已届满的事项，"
        "与系统“统计分析”页面口径一致。"
    ).format(day=chinese_date(today - dt.timedelta(days=1)))


# --- templates and rendering ---------------------------------------------------------------------------


def default_template(kind: str) -> bytes:
    return (TEMPLATE_DIR / f"{kind}.docx").read_bytes()


def template_for(kind: str, office: Organisation | None) -> bytes:
    """The office's uploaded template for ``kind``, else the default."""
    if office is not None:
        own = (
            ReportTemplate.objects.filter(office=office, kind=kind).values_list("content", flat=True).first()
        )
        if own is not None:
            return bytes(own)
    return default_template(kind)


def _jinja() -> SandboxedEnvironment:
    """Templates are uploaded files: Jinja runs them sandboxed (no attribute tricks reaching
    Python internals, bounded ``range``) and escapes every value for the document's XML."""
    return SandboxedEnvironment(autoescape=True)


def render_docx(report: Report, template: bytes | None = None) -> bytes:
    """The report as a DOCX: the template filled with the report's context and charts."""
    doc = DocxTemplate(
        io.BytesIO(template if template is not None else template_for(report.kind, report.office))
    )
    context = dict(report.context)
    for name, png in report.charts.items():
        context[name] = InlineImage(doc, io.BytesIO(png), width=Mm(150))
    doc.render(context, jinja_env=_jinja())
    properties = doc.docx.core_properties  # what Word shows under 文件 > 信息
    properties.title = report.context["title"]
    properties.author = report.context["office"]
    properties.created = properties.modified = timezone.now()
    out = io.BytesIO()
    doc.save(out)
    return out.getvalue()


def generate(*, user: Any, kind: str, year: int, month: int | None = None) -> Report:
    """The report ``user`` asked for, over their area (``figures.area_of``), audited."""
    area = figures.area_of(user)
    if area is None:
        raise ValidationError(_("您的账号不属于任何机构，无法生成报告。"))
    report = build_report(kind=kind, area=area, year=year, month=month, user=user)
    with transaction.atomic():
        record_event(
            actor=user, action="stats.report", obj=area,
            data={"kind": kind, "start": report.period.start, "end": report.period.end},
        )  # fmt: skip
    return report


# --- an office's own template -----------------------------------------------------------------------------


def sample_context() -> dict[str, Any]:
    """A context with every name the default templates use, to try an uploaded template on."""
    row = {"label": "示例", "unit": "批", "value": 1, "last": 1, "yoy": "持平", "prev": 1, "mom": "持平",
           "received": 1, "persons": 1, "share": "100.0%", "numerator": 1, "denominator": 1,
           "percent": "100.0%", "count": 1}  # fmt: skip
    text = dict.fromkeys((
        "kind", "title", "period", "period_range", "area", "addressee", "copy_to", "office", "date",
        "summary", "handling_summary", "routing_summary", "issues_summary", "recommendations", "data_note",
    ), "示例")  # fmt: skip
    rows = {name: [row] for name in (
        "intake_rows", "channel_rows", "category_rows", "locality_rows", "rate_rows", "reply_rows",
        "appeal_rows", "suggestion_rows", "subject_rows",
    )}  # fmt: skip
    return {**text, **rows, "suggestion_total": 1, "suggestion_titles": ["示例"]}


CHART_NAMES = ("trend_chart", "category_chart")


def check_template(content: bytes) -> None:
    """Refuse a file docxtpl cannot fill: not a DOCX, a broken template tag, or a name the report
    does not provide (which would print as nothing).  Renders it once with a sample context."""
    check_docx_file(content)
    png = charts.ranking_chart(title="示例", labels=["示例"], values=[1])
    try:
        doc = DocxTemplate(io.BytesIO(content))
        context: dict[str, Any] = sample_context()
        unknown = doc.get_undeclared_template_variables(context=context) - set(CHART_NAMES)
        for name in CHART_NAMES:
            context[name] = InlineImage(doc, io.BytesIO(png), width=Mm(100))
        doc.render(context, jinja_env=_jinja())
        doc.save(io.BytesIO())
    except Exception as error:  # noqa: BLE001 — any failure of a third-party file means "refuse it"
        raise ValidationError(
            _("模板无法生成报告：{error}。请检查模板中的{{{{ }}}}与{{% %}}标记是否完整。").format(
                error=error
            ),
            code="invalid",
        ) from None
    if unknown:
        raise ValidationError(
            _("模板使用了报告中没有的字段：{names}。可用字段见默认模板。").format(
                names="、".join(sorted(unknown))
            ),
            code="unknown_names",
        )


def save_template(
    *, user: Any, office: Organisation, kind: str, filename: str, content: bytes
) -> ReportTemplate:
    """Validate and store ``office``'s template for ``kind`` (replacing its previous one), audited."""
    if office.kind != OrganisationKind.PETITION_OFFICE:
        raise ValidationError(_("报告模板只能为信访部门设置。"), code="not_office")
    if kind not in ReportKind.values:
        raise ValidationError(_("请选择报告类型。"), code="kind")
    check_template(content)
    with transaction.atomic():
        template, _created = ReportTemplate.objects.update_or_create(
            office=office, kind=kind,
            defaults={"filename": filename[:200], "content": content, "uploaded_by": user,
                      "uploaded_at": timezone.now()},
        )  # fmt: skip
        data = {"office": office.pk, "kind": kind, "filename": filename[:200], "size": len(content)}
        record_event(actor=user, action="stats.report_template", obj=template, data=data)
    return template


def delete_template(*, user: Any, template: ReportTemplate) -> None:
    """Remove an office's own template: its reports use the default again.  Audited."""
    with transaction.atomic():
        record_event(actor=user, action="stats.report_template.delete", obj=template,
                     data={"office": template.office_id, "kind": template.kind})  # fmt: skip
        template.delete()
