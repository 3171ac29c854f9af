"""The quarterly briefing on disputes (矛盾纠纷排查通报): new, resolved and overdue disputes by unit.

The figures are computed once and frozen in a ``Briefing``; the DOCX and the print view are drawn
from those frozen figures only, so a briefing downloaded again next year says exactly what it said
when it was issued.  The DOCX is laid out with ``core.docx_layout`` (GB/T 9704 margins and fonts)
directly, not through a docxtpl template: a briefing is a table, and no office has asked to upload
its own layout for it (the stats reports' uploadable templates can be added the same way later).
"""

from __future__ import annotations

import datetime as dt
import io
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from docx.enum.text import WD_ALIGN_PARAGRAPH

from xinfang.audit.services import record_event
from xinfang.core import docx_layout as L
from xinfang.petitions.access import scope_root

from . import access
from .figures import briefing_figures, current_quarter
from .models import Briefing, RiskLevel
from .services import ScreeningRefused

DOCX_TYPE = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
QUARTER_NAMES = {1: "第一季度", 2: "第二季度", 3: "第三季度", 4: "第四季度"}


def generate_briefing(*, actor: Any, year: int, quarter: int) -> Briefing:
    """The office's briefing for a quarter: made and frozen the first time, the same one after."""
    with translation.override(settings.LANGUAGE_CODE):  # a briefing is written in Chinese, whoever makes it
        return _generate(actor=actor, year=year, quarter=quarter)


def _generate(*, actor: Any, year: int, quarter: int) -> Briefing:
    if not access.may_issue(actor):
        raise ScreeningRefused(_("只有信访工作机构的督办员或领导可以生成排查通报。"))
    today = timezone.localdate()
    if (
        quarter not in QUARTER_NAMES
        or not 2000 <= year <= today.year
        or (year, quarter) > current_quarter(today)
    ):
        raise ValidationError({"quarter": [_("请选择已经开始的季度。")]})
    office = actor.organisation
    existing = Briefing.objects.filter(office=office, year=year, quarter=quarter).first()
    if existing is not None:
        return existing
    area = scope_root(office)
    title = _("%(area)s%(year)d年%(q)s矛盾纠纷排查化解情况通报") % {
        "area": area.name, "year": year, "q": QUARTER_NAMES[quarter]}  # fmt: skip
    figures = briefing_figures(actor, year, quarter, today)
    figures["office"] = office.name
    figures["area"] = area.name
    try:
        with transaction.atomic():
            briefing = Briefing.objects.create(
                office=office, area_path=area.path, year=year, quarter=quarter, title=title,
                figures=figures, generated_by=actor,
            )  # fmt: skip
            record_event(
                actor=actor, action="screening.briefing_generated", obj=briefing,
                data={"year": year, "quarter": quarter, "new": figures["totals"]["new"]},
            )  # fmt: skip
    except IntegrityError:  # a colleague made it a moment ago
        return Briefing.objects.get(office=office, year=year, quarter=quarter)
    return briefing


def visible_briefings(user: Any) -> Any:
    path = access.scope_path(user)
    if path is None:
        return Briefing.objects.none()
    return Briefing.objects.filter(area_path__startswith=path).select_related("office", "generated_by")


def _pct(value: float | None) -> str:
    return "—" if value is None else f"{value:.1f}%"


def summary(briefing: Briefing) -> str:
    f = briefing.figures
    t = f["totals"]
    return _(
        "%(start)s至%(end)s，全%(area)s新排查矛盾纠纷%(new)d件，化解%(resolved)d件，"
        "本季度排查的纠纷化解率%(rate)s；截至%(cutoff)s，逾期未化解%(overdue)d件。"
    ) % {
        "start": f["start"], "end": f["end"], "area": f["area"], "new": t["new"],
        "resolved": t["resolved"], "rate": _pct(t["resolution_rate"]), "cutoff": f["cutoff"],
        "overdue": t["overdue"],
    }  # fmt: skip


def risk_label(code: str) -> str:
    return str(RiskLevel(code).label) if code in RiskLevel.values else code


def render_docx(briefing: Briefing) -> bytes:
    """The briefing as DOCX, drawn only from its frozen figures (dates fixed to its generation)."""
    with translation.override(settings.LANGUAGE_CODE):
        return _render_docx(briefing)


def _render_docx(briefing: Briefing) -> bytes:
    f = briefing.figures
    doc = L.new_document("矛盾纠纷排查通报")
    stamp = briefing.generated_at.replace(microsecond=0)
    doc.core_properties.created = stamp
    doc.core_properties.modified = stamp
    doc.core_properties.title = briefing.title
    L.paragraph(doc, briefing.title, font_name=L.TITLE_FONT, size=L.SIZE_2, align=WD_ALIGN_PARAGRAPH.CENTER)
    L.paragraph(doc, f["office"], size=L.SIZE_3, align=WD_ALIGN_PARAGRAPH.CENTER)
    L.paragraph(doc, summary(briefing), indent=True, space_before=12)
    L.paragraph(doc, _("一、各单位排查化解情况"), font_name=L.HEADING_FONT)
    header = [_("单位"), _("新排查"), _("已化解"), _("逾期未化解"), _("化解率")]
    table = doc.add_table(rows=1, cols=len(header))
    table.style = "Table Grid"
    for cell, text in zip(table.rows[0].cells, header, strict=True):
        L.cell(cell, text, bold=True)
    L.repeat_header(table)
    rows = [[u["unit"], str(u["new"]), str(u["resolved"]), str(u["overdue"]), _pct(u["resolution_rate"])]
            for u in f["units"]]  # fmt: skip
    t = f["totals"]
    rows.append([_("合计"), str(t["new"]), str(t["resolved"]), str(t["overdue"]), _pct(t["resolution_rate"])])
    for values in rows:
        cells = table.add_row().cells
        for cell, text in zip(cells, values, strict=True):
            L.cell(cell, text)
    L.paragraph(doc, _("二、逾期未化解的矛盾纠纷"), font_name=L.HEADING_FONT, space_before=12)
    if f["overdue"]:
        header = [_("编号"), _("纠纷名称"), _("责任单位"), _("化解期限"), _("风险等级")]
        table = doc.add_table(rows=1, cols=len(header))
        table.style = "Table Grid"
        for cell, text in zip(table.rows[0].cells, header, strict=True):
            L.cell(cell, text, bold=True)
        L.repeat_header(table)
        for row in f["overdue"]:
            cells = table.add_row().cells
            values = [row["number"], row["title"], row["unit"], row["deadline"], risk_label(row["risk"])]
            for cell, text in zip(cells, values, strict=True):
                L.cell(cell, text)
    else:
        L.paragraph(doc, _("无。"), indent=True)
    L.paragraph(
        doc, _("请各单位对逾期未化解的矛盾纠纷落实包案领导和责任人，限期化解。"), indent=True, space_before=12
    )
    L.paragraph(doc, f["office"], align=WD_ALIGN_PARAGRAPH.RIGHT, space_before=24)
    L.paragraph(doc, _chinese_date(briefing.generated_at.date()), align=WD_ALIGN_PARAGRAPH.RIGHT)
    buffer = io.BytesIO()
    doc.save(buffer)
    return buffer.getvalue()


def _chinese_date(day: dt.date) -> str:
    return f"{day.year}年{day.month}月{day.day}日"


def file_name(briefing: Briefing) -> str:
    return f"{briefing.title}.docx"
