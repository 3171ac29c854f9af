"""An information report as a DOCX and as the A4 print page: one context for both, so the paper
and the file say the same thing.  The DOCX fills ``report_templates/report.docx`` with docxtpl
(the stats reports' way); the print page is ``templates/information/print.html``."""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

from django.utils import timezone
from django.utils.translation import gettext as _

from .models import InformationReport, ReportKind

TEMPLATE = Path(__file__).resolve().parent / "report_templates" / "report.docx"


def _cn_date(value: Any) -> str:
    day = timezone.localdate(value) if value is not None else timezone.localdate()
    return f"{day.year}年{day.month}月{day.day}日"


def context(report: InformationReport) -> dict[str, Any]:
    """What the page and the DOCX print.  Before sending the issue reads "（报送时编号）" and the
    date is the day's; before sign-off the signer is blank (the print says 草稿)."""
    masthead = (
        _("信访信息")
        if report.kind in (ReportKind.DIGEST, ReportKind.IMPORTANT)
        else report.get_kind_display()
    )
    figures = report.figures or {}
    caption = ""
    if figures.get("rows"):
        caption = _("%(area)s信访情况（%(start)s至%(end)s）") % {
            "area": figures.get("area", ""), "start": figures.get("start", ""), "end": figures.get("end", ""),
        }  # fmt: skip
    return {
        "masthead": str(masthead),
        "kind": str(report.get_kind_display()),
        "issue": report.issue_label or _("（报送时编号）"),
        "office": report.office.name,
        "signer": str(report.signed_by) if report.signed_by_id else "",
        "date": _cn_date(report.sent_at or report.signed_at),
        "title": report.title,
        "paragraphs": report.paragraphs,
        "figure_rows": figures.get("rows", []),
        "figure_caption": caption,
        "receiver": report.receiver.name,
        "copy_to": report.copy_to,
        "drafter": str(report.drafted_by),
        "is_draft": report.sent_at is None,
    }


def render_docx(report: InformationReport) -> bytes:
    from docxtpl import DocxTemplate  # imported on use: starting the site does not load docxtpl
    from jinja2.sandbox import SandboxedEnvironment

    doc = DocxTemplate(io.BytesIO(TEMPLATE.read_bytes()))
    ctx = context(report)
    # Autoescape: the title and body are typed by people and go into the document's XML.
    doc.render(ctx, jinja_env=SandboxedEnvironment(autoescape=True))
    properties = doc.docx.core_properties
    properties.title = report.title
    properties.author = report.office.name
    properties.created = properties.modified = timezone.now()
    out = io.BytesIO()
    doc.save(out)
    return out.getvalue()
