"""Filling a kind's DOCX template (docxtpl) with a document's context.

The context every template may use (``common_context``) plus the kind's body fields.  Templates are
uploaded files, so Jinja runs sandboxed and every value is escaped for the document's XML (as for
the reports, ``stats.reports``).
"""

from __future__ import annotations

import datetime as dt
import io
from pathlib import Path
from typing import Any

from django.conf import settings
from django.utils import translation
from django.utils.functional import Promise
from docxtpl import DocxTemplate
from jinja2.sandbox import SandboxedEnvironment

from .models import Document, DocumentTemplate

DEFAULTS = Path(__file__).resolve().parent / "default_templates"
CHINESE_DIGITS = "〇一二三四五六七八九"


def chinese_date(day: dt.date) -> str:
    """二〇二六年十二月二日 — the date of a document in Chinese numerals (GB/T 9704 7.3.5.1)."""

    def small(n: int) -> str:
        if n < 10:
            return CHINESE_DIGITS[n]
        tens, ones = divmod(n, 10)
        return ("" if tens == 1 else CHINESE_DIGITS[tens]) + "十" + (CHINESE_DIGITS[ones] if ones else "")

    year = "".join(CHINESE_DIGITS[int(d)] for d in str(day.year))
    return f"{year}年{small(day.month)}月{small(day.day)}日"


def default_template(kind: str) -> bytes:
    return (DEFAULTS / f"{kind}.docx").read_bytes()


def template_bytes(kind: str, template: DocumentTemplate | None) -> bytes:
    return bytes(template.content) if template is not None else default_template(kind)


def jinja_env() -> SandboxedEnvironment:
    return SandboxedEnvironment(autoescape=True)


def common_context(document: Document) -> dict[str, Any]:
    """What every kind's template may print besides its body fields."""
    petition = document.petition
    day = document.issued_on
    return {
        "title": document.get_kind_display(),
        "reference": document.reference or "（草稿，未编号）",
        "organisation": document.organisation.name,
        "addressee": document.addressee,
        "petition_number": petition.number,
        "petition_title": petition.title,
        "received_on": chinese_date(petition.received_on),
        "date": chinese_date(day) if day is not None else "（未印发）",
        "is_draft": not document.is_issued,
    }


def context_for(document: Document) -> dict[str, Any]:
    """Everything the template prints, in the site's language whatever the reader's: a document
    goes out in Chinese even when an official works in the English interface."""
    from .kinds import kind

    with translation.override(settings.LANGUAGE_CODE):
        context = {**document.body, **kind(document.kind).context(document), **common_context(document)}
        return {name: str(value) if isinstance(value, Promise) else value for name, value in context.items()}


def render_docx(
    document: Document, template: bytes | None = None, extra: dict[str, Any] | None = None
) -> bytes:
    """The document as a DOCX: its template version (or ``template``) filled with its context.

    ``extra`` adds names for this one rendering and is never stored: the registration screen prints
    the receipt that carries the query code once (``extra={"query_code": registration.query_code}``),
    while the issued receipt kept on file says only that the code was given at registration."""
    doc = DocxTemplate(io.BytesIO(template if template is not None else
                                  template_bytes(document.kind, document.template)))  # fmt: skip
    context = {**context_for(document), **(extra or {})}
    doc.render(context, jinja_env=jinja_env())
    properties = doc.docx.core_properties  # what Word shows under 文件 > 信息
    properties.title = f"{document.get_kind_display()} {document.reference}".strip()
    properties.author = document.organisation.name
    out = io.BytesIO()
    doc.save(out)
    return out.getvalue()
