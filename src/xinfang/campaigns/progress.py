"""Progress of a campaign by unit and by resolution category, against its targets, and the closing
report (总结报告, DOCX).

Every figure is a SQL aggregate over ``access.visible_cases`` — the same set the case table lists —
and each carries the filter of the cases behind it (``?unit=…&status=…``), so a figure and the
table it links to always agree.
"""

from __future__ import annotations

import datetime as dt
import io
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any

from django.db import transaction
from django.db.models import Count, Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _
from docxtpl import DocxTemplate
from jinja2.sandbox import SandboxedEnvironment

from xinfang.audit.services import record_event
from xinfang.petitions.choices import FINAL_STATUSES

from . import access
from .contracts import contracted_q
from .models import Campaign, CampaignCase, CaseStatus, TargetMetric

TEMPLATE = Path(__file__).resolve().parent / "report_templates" / "closing.docx"


def rate(part: int, whole: int) -> Decimal | None:
    """A percentage to one decimal, or None when there is nothing to divide by."""
    if not whole:
        return None
    return (Decimal(part) * 100 / Decimal(whole)).quantize(Decimal("0.1"))


def percent(value: Decimal | None) -> str:
    return "—" if value is None else f"{value}%"


@dataclass
class Row:
    """One line of a progress table: a unit or a category, or the total."""

    key: str  # the filter value of the cases behind it ("" for the total)
    label: str
    total: int
    resolved: int
    concluded: int
    contracted: int

    @property
    def in_progress(self) -> int:
        return self.total - self.resolved

    @property
    def resolution_rate(self) -> Decimal | None:
        return rate(self.resolved, self.total)

    @property
    def contract_rate(self) -> Decimal | None:
        return rate(self.contracted, self.total)

    @property
    def concluded_rate(self) -> Decimal | None:
        return rate(self.concluded, self.total)

    def as_dict(self) -> dict[str, Any]:
        return {
            "label": self.label, "total": self.total, "resolved": self.resolved,
            "in_progress": self.in_progress, "concluded": self.concluded, "contracted": self.contracted,
            "resolution_rate": percent(self.resolution_rate), "contract_rate": percent(self.contract_rate),
            "concluded_rate": percent(self.concluded_rate),
        }  # fmt: skip


@dataclass
class TargetRow:
    metric: str
    label: str
    threshold: Decimal
    actual: Decimal | None

    @property
    def met(self) -> bool:
        return self.actual is not None and self.actual >= self.threshold


@dataclass
class Progress:
    total: Row
    by_unit: list[Row] = field(default_factory=list)
    by_category: list[Row] = field(default_factory=list)
    targets: list[TargetRow] = field(default_factory=list)


def _counts() -> dict[str, Count]:
    return {
        "total": Count("id"),
        "resolved": Count("id", filter=Q(status=CaseStatus.RESOLVED)),
        "concluded": Count("id", filter=Q(petition__status__in=list(FINAL_STATUSES))),
        "contracted": Count("id", filter=contracted_q()),
    }


def _row(key: str, label: str, values: dict[str, Any]) -> Row:
    return Row(key, label, values["total"], values["resolved"], values["concluded"], values["contracted"])


def progress(campaign: Campaign, cases: QuerySet[CampaignCase]) -> Progress:
    """The figures of ``cases`` (a campaign's visible cases): three aggregate queries."""
    total = _row("", _("合计"), cases.aggregate(**_counts()))
    units = (
        cases.order_by()
        .values("unit_id", "unit__name", "unit__path")
        .annotate(**_counts())
        .order_by("unit__path")
    )
    categories = (
        cases.order_by()
        .values("category_id", "category__name", "category__sort_order")
        .annotate(**_counts())
        .order_by("category__sort_order", "category_id")
    )
    result = Progress(
        total=total,
        by_unit=[_row(str(u["unit_id"]), u["unit__name"], u) for u in units],
        by_category=[
            _row(str(c["category_id"] or "none"), c["category__name"] or _("未分类"), c) for c in categories
        ],
    )
    actual = {
        TargetMetric.RESOLUTION_RATE: total.resolution_rate,
        TargetMetric.CONTRACT_RATE: total.contract_rate,
    }
    result.targets = [
        TargetRow(t.metric, str(t.get_metric_display()), t.threshold, actual.get(t.metric))
        for t in campaign.targets.all()
    ]
    return result


def filter_cases(
    cases: QuerySet[CampaignCase], *, unit: str = "", category: str = "", status: str = ""
) -> QuerySet[CampaignCase]:
    """The cases behind a figure: the same filters the progress tables link with."""
    if unit.isdigit():
        cases = cases.filter(unit_id=int(unit))
    if category == "none":
        cases = cases.filter(category__isnull=True)
    elif category.isdigit():
        cases = cases.filter(category_id=int(category))
    if status == "concluded":
        cases = cases.filter(petition__status__in=list(FINAL_STATUSES))
    elif status == "contracted":
        cases = cases.filter(contracted_q())
    elif status in CaseStatus.values:
        cases = cases.filter(status=status)
    return cases


# --- the closing report -------------------------------------------------------------------------


def chinese_date(day: dt.date) -> str:
    return f"{day.year}年{day.month}月{day.day}日"


def report_context(campaign: Campaign, figures: Progress, cases: list[CampaignCase]) -> dict[str, Any]:
    t = figures.total
    summary = _(
        "%(start)s至%(end)s，%(area)s开展“%(name)s”专项行动，共列入信访积案%(total)d件，"
        "已化解%(resolved)d件，化解率%(rrate)s；已办结%(concluded)d件，办结率%(crate)s；"
        "落实领导包案%(contracted)d件，包案率%(krate)s。"
    ) % {
        "start": chinese_date(campaign.starts_on), "end": chinese_date(campaign.ends_on),
        "area": campaign.organisation.name, "name": campaign.name, "total": t.total,
        "resolved": t.resolved, "rrate": percent(t.resolution_rate), "concluded": t.concluded,
        "crate": percent(t.concluded_rate), "contracted": t.contracted, "krate": percent(t.contract_rate),
    }  # fmt: skip
    targets = [
        {
            "label": r.label,
            "threshold": f"{r.threshold}%",
            "actual": percent(r.actual),
            "met": _("已完成") if r.met else _("未完成"),
        }
        for r in figures.targets
    ]
    return {
        "title": _("关于“%(name)s”专项行动的总结报告") % {"name": campaign.name},
        "office": campaign.organisation.name,
        "date": chinese_date(timezone.localdate()),
        "period": f"{chinese_date(campaign.starts_on)}至{chinese_date(campaign.ends_on)}",
        "summary": summary,
        "description": campaign.description or "",
        "closing_note": campaign.closing_note or "",
        "unit_rows": [r.as_dict() for r in figures.by_unit] + [t.as_dict()],
        "category_rows": [r.as_dict() for r in figures.by_category],
        "target_rows": targets,
        "case_rows": [
            {
                "number": c.petition.number,
                "title": c.petition.title,
                "unit": c.unit.name,
                "category": c.category.name if c.category_id else _("未分类"),
                "leader": str(c.leader) if c.leader_id else "—",
                "status": c.get_status_display(),
            }
            for c in cases
        ],
    }


def closing_report(*, user: Any, campaign: Campaign) -> tuple[str, bytes]:
    """The closing report's file name and DOCX bytes, over the cases ``user`` may see; audited."""
    cases_qs = access.visible_cases(user, campaign)
    figures = progress(campaign, cases_qs)
    cases = list(
        cases_qs.select_related("petition", "unit", "category", "leader").order_by("unit__path", "id")
    )
    context = report_context(campaign, figures, cases)
    doc = DocxTemplate(str(TEMPLATE))
    doc.render(context, jinja_env=SandboxedEnvironment(autoescape=True))
    properties = doc.docx.core_properties
    properties.title = context["title"]
    properties.author = context["office"]
    properties.created = properties.modified = timezone.now()
    out = io.BytesIO()
    doc.save(out)
    with transaction.atomic():
        record_event(
            actor=user,
            action="campaigns.closing_report",
            obj=campaign,
            data={"cases": figures.total.total, "resolved": figures.total.resolved},
        )
    return f"{context['title']}.docx", out.getvalue()
