"""The report back to the upper level as a document (上级交办事项办理情况报告).

The documents app's kinds are a closed set (the 14 of issue #10, checked by its tests), so this
document is the exchange app's own: its DOCX template is made by the documents' builder
(``default_templates/build.build_kind``, GB/T 9704 layout) and filled with docxtpl in the
documents' sandbox (``rendering.jinja_env``); its 文号 is numbered gap-free with the documents'
``numbering.next_sequence`` under the code ``referral_report`` (prefix: the office's short name +
信报, e.g. 青信报〔2026〕1号).
"""

from __future__ import annotations

import functools
import io
import tempfile
from pathlib import Path
from typing import Any

CODE = "referral_report"
TITLE = "上级交办事项办理情况报告"

PARAGRAPHS: list[str | tuple[str, str]] = [
    "你单位交办的{{ upper_case_number }}号信访事项（信访人{{ petitioners }}，{{ request_summary }}），"
    "我单位于{{ received_on_text }}收到（本级编号{{ petition_number }}），"
    "要求于{{ upper_due_text }}前报告办理结果。现将办理情况报告如下：",
    "一、办理过程",
    "{{ process }}",
    "二、办理结果",
    "{{ result }}",
    "特此报告。",
]


def _day(value: Any) -> str:
    return f"{value.year}年{value.month}月{value.day}日" if value else "（未定）"


@functools.cache
def template_bytes() -> bytes:
    """The template, made once per process by the documents' own builder."""
    from xinfang.documents.default_templates.build import build_kind

    with tempfile.TemporaryDirectory() as tmp:
        build_kind(CODE, PARAGRAPHS, to_petitioner=False, title=TITLE, out=Path(tmp))
        return (Path(tmp) / f"{CODE}.docx").read_bytes()


def prefix(organisation: Any) -> str:
    from xinfang.documents.kinds import short_name
    from xinfang.organisations.choices import OrganisationKind

    if organisation.kind == OrganisationKind.PETITION_OFFICE:
        return f"{short_name(organisation)}信报"
    return f"{organisation.name[:2]}报"


def context(report: Any) -> dict[str, Any]:
    from xinfang.documents.kinds_notices import petitioners
    from xinfang.documents.rendering import chinese_date

    referral = report.referral
    petition = referral.petition
    return {
        "title": TITLE,
        "reference": report.document_number or "（草稿，未编号）",
        "organisation": petition.office.name,
        "addressee": referral.upper_organisation,
        "upper_case_number": referral.upper_case_number,
        "upper_due_text": _day(referral.upper_due_on),
        "petitioners": petitioners(petition),
        "request_summary": petition.title,
        "received_on_text": _day(petition.received_on),
        "petition_number": petition.number,
        "process": report.process,
        "result": report.result,
        "date": chinese_date(report.handled_on),
        "is_draft": not report.document_number,
    }


def render(report: Any) -> bytes:
    from docxtpl import DocxTemplate

    from xinfang.documents.rendering import jinja_env

    doc = DocxTemplate(io.BytesIO(template_bytes()))
    doc.render(context(report), jinja_env=jinja_env())
    out = io.BytesIO()
    doc.save(out)
    return out.getvalue()
