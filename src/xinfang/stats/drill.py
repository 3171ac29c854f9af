"""The drill-down list: the fact rows behind a figure, as the viewer may see them.

A figure counts everything attributed inside its scope; the list shows only the petitions the
viewer may open (``Petition.objects.restrict``), so a confidential report hidden from the accused
organisation, or a petition the viewer is recused from, is counted but not listed.  The page says
how many rows that leaves out.  Page and XLSX share the columns defined here.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.db.models import QuerySet
from django.http import HttpResponse
from django.utils import timezone
from django.utils.translation import gettext as _

from xinfang.audit.services import record_event
from xinfang.core.xlsx import xlsx_response
from xinfang.petitions.models import Petition

from .metrics import METRICS, Source

EXPORT_CAP = 10_000
BATCH = 500


def source_note(metric: str) -> str:
    """How the figure places and attributes its rows (docs/statistics.md §1), for the list's header."""
    return {
        "petitions": _("按收到日期计入统计周期，计入登记机构。"),
        "conclusions": _("按终结日期计入统计周期，计入登记机构。"),
        "deadlines": _("按期限届满日计入统计周期（届满日已过才计入），计入负有该时限的机构。"),
        "letters": _("按处理意见书出具日期计入统计周期，计入答复单位。"),
        "evaluation_windows": _("按评价期限届满日计入统计周期（届满日已过才计入），计入答复单位。"),
        "unit_evaluations": _("按评价日期计入统计周期，计入办理单位。"),
        "office_evaluations": _("按评价日期计入统计周期，计入信访部门。"),
        "appeals_received": _("按收到复查复核请求的日期计入统计周期，计入复查复核机关。"),
        "appeals_decided": _("按出具复查复核意见的日期计入统计周期，计入复查复核机关。"),
    }.get(METRICS[metric].source.name, "")


def petition_lookup(source: Source) -> str:
    return source.petition or "pk"


def restricted(rows: QuerySet, metric: str, user: Any) -> QuerySet:
    """``rows`` limited to the petitions ``user`` may see (the one scope every read goes through)."""
    lookup = petition_lookup(METRICS[metric].source)
    return rows.filter(**{f"{lookup}__in": Petition.objects.restrict(user).values("pk")})


def ordered(rows: QuerySet, metric: str) -> QuerySet:
    """In the order of the date that places a row in a period (indexed on every fact table), then
    by id, with what the columns show joined in (one query per page, no N+1)."""
    source = METRICS[metric].source
    related = (
        ["office", "category"]
        if not source.petition
        else ["petition", "petition__office", source.organisation]
    )
    return rows.select_related(*related).order_by(source.date, "pk")


def petition_of(obj: Any, metric: str) -> Petition:
    return obj.petition if METRICS[metric].source.petition else obj


def _deadline_result(record: Any) -> str:
    if record.outcome:
        return record.get_outcome_display()
    return _("未完成（已超期）") if record.missed else _("未完成")


def _day(value: Any) -> Any:
    return timezone.localtime(value).date() if hasattr(value, "tzinfo") and value is not None else value


@dataclass(frozen=True)
class Extra:
    label: str
    value: Callable[[Any], Any]


def extras(metric: str) -> list[Extra]:
    """What a row of ``metric``'s source is, beyond its petition."""
    name = METRICS[metric].source.name
    if name == "petitions":
        return [
            Extra(_("收到日期"), lambda p: p.received_on),
            Extra(_("信访形式"), lambda p: p.get_channel_display()),
            Extra(_("问题分类"), lambda p: p.category.name),
            Extra(_("人数"), lambda p: p.headcount),
        ]
    if name == "conclusions":
        return [
            Extra(_("终结日期"), lambda p: p.concluded_on),
            Extra(_("终结理由"), lambda p: p.get_conclusion_display()),
        ]
    if name == "deadlines":
        return [
            Extra(_("时限类别"), lambda r: r.get_kind_display()),
            Extra(_("责任机构"), lambda r: r.organisation.name),
            Extra(_("期限届满日"), lambda r: r.due_on),
            Extra(_("完成日期"), lambda r: r.closed_on or ""),
            Extra(_("结果"), _deadline_result),
        ]
    if name == "letters":
        return [
            Extra(_("答复单位"), lambda r: r.organisation.name),
            Extra(_("出具日期"), lambda r: _day(r.issued_at)),
            Extra(_("处理结果"), lambda r: r.get_outcome_display()),
        ]
    if name == "evaluation_windows":
        return [
            Extra(_("答复单位"), lambda r: r.organisation.name),
            Extra(_("出具日期"), lambda r: _day(r.issued_at)),
            Extra(_("评价期限"), lambda r: r.evaluation_due_on),
        ]
    if name in ("unit_evaluations", "office_evaluations"):
        unit = name == "unit_evaluations"
        return [
            Extra(_("办理单位") if unit else _("信访部门"), lambda r: (r.unit if unit else r.office).name),
            Extra(
                _("评价"), lambda r: r.get_unit_rating_display() if unit else r.get_office_rating_display()
            ),
            Extra(_("评价日期"), lambda r: _day(r.recorded_at)),
        ]
    # appeals (requests and opinions)
    return [
        Extra(_("类别"), lambda r: r.get_kind_display()),
        Extra(_("复查复核机关"), lambda r: r.body.name),
        Extra(_("收到请求日期"), lambda r: r.received_on),
        Extra(_("出具日期"), lambda r: r.decided_on or ""),
        Extra(_("结论"), lambda r: r.get_outcome_display()),
    ]


def columns(metric: str) -> list[str]:
    return [_("信访编号"), _("标题"), _("状态"), _("登记机构")] + [e.label for e in extras(metric)]


def row_values(obj: Any, metric: str, cols: list[Extra]) -> list[Any]:
    """One row as the list and the sheet show it (no personal data: number, title, status, office)."""
    p = petition_of(obj, metric)
    return [p.number, p.title, p.get_status_display(), p.office.name] + [e.value(obj) for e in cols]


def drill_xlsx(
    rows: QuerySet, metric: str, user: Any, *, title: str, filters: dict[str, Any]
) -> HttpResponse:
    """The viewer's list as XLSX, capped at ``EXPORT_CAP`` rows and audited as ``petition.export``
    (as every petition list export is: workbench/exports.py)."""
    cols = extras(metric)
    values: list[list[Any]] = []
    offset = 0
    capped = False
    while True:
        batch = list(rows[offset : offset + BATCH])
        values += [row_values(obj, metric, cols) for obj in batch[: EXPORT_CAP - offset]]
        offset += len(batch)
        if len(batch) < BATCH:
            break
        if offset >= EXPORT_CAP:
            capped = rows[EXPORT_CAP : EXPORT_CAP + 1].exists()
            break
    record_event(
        actor=user,
        action="petition.export",
        data={
            "count": len(values),
            "capped": capped,
            "title": title,
            "section": "stats.drill",
            "filters": filters,
        },
    )
    note = (
        _("仅导出前{n}件；列表超过{n}件，请缩小统计范围后分批导出。").format(n=EXPORT_CAP) if capped else ""
    )
    response = xlsx_response(title=title, header=columns(metric), rows=values, note=note)
    if capped:
        response["X-Export-Capped"] = str(EXPORT_CAP)
    return response
