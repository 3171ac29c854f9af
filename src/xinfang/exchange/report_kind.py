"""The report back to the upper level as a document kind (上级交办事项办理情况报告), registered with
``documents.kinds.register`` in ``ExchangeConfig.ready``.

Its body is drawn from the referral (the upper level's case number, organisation and deadline) and
the petition; the drafter writes the handling process and the result.  Issuing it (``on_issue``)
is the step that sends the report (``services.report_issued``).

``documents.choices.DocumentKind`` has no entry for this kind (that enum belongs to the documents
app); the kind therefore names its own ``label``, and its DOCX template, built with the documents'
own builder (``default_templates/build.build_kind``), is stored as a ``DocumentTemplate`` version
the first time a report is drafted (``ensure_template``).
"""

from __future__ import annotations

import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from django.utils.translation import gettext_lazy as _

from xinfang.documents.choices import Addressee
from xinfang.documents.kinds import BodyField, Kind, register

if TYPE_CHECKING:
    from xinfang.petitions.models import Petition

CODE = "referral_report"
TITLE = "上级交办事项办理情况报告"

PARAGRAPHS: list[str | tuple[str, str]] = [
    "你单位交办的{{ upper_case_number }}号信访事项（信访人{{ petitioners }}，{{ request_summary }}），"
    "我单位于{{ received_on_text }}收到（本级编号{{ petition_number }}），"
    "要求于{{ upper_due_text }}前报告办理结果。"
    "现将办理情况报告如下：",
    "一、办理过程",
    "{{ process }}",
    "二、办理结果",
    "{{ result }}",
    "特此报告。",
]


def _day(value: Any) -> str:
    return f"{value.year}年{value.month}月{value.day}日" if value else "（未定）"


def _build(petition: Petition) -> dict[str, Any]:
    from xinfang.documents.kinds_notices import petitioners

    referral = petition.referral
    return {
        "upper_organisation": referral.upper_organisation,
        "upper_case_number": referral.upper_case_number,
        "upper_due_text": _day(referral.upper_due_on),
        "petitioners": petitioners(petition),
        "request_summary": petition.title,
        "received_on_text": _day(petition.received_on),
        "process": "",
        "result": "",
    }


def _available(petition: Petition) -> bool:
    from .models import OPEN_REFERRAL_STATUSES

    referral = getattr(petition, "referral", None)
    return referral is not None and referral.report_required and referral.status in OPEN_REFERRAL_STATUSES


def _on_issue(document: Any, user: Any) -> None:
    from .services import report_issued

    report_issued(document, user)


@dataclass(frozen=True)
class ReportKind(Kind):
    """A kind whose label is its own (not in ``DocumentKind``)."""

    @property
    def label(self) -> str:
        return str(_(TITLE))


REPORT_KIND = ReportKind(
    code=CODE,
    prefix_letter="报",
    addressee=Addressee.UNIT,
    fields=(
        BodyField("process", _("办理过程")),
        BodyField("result", _("办理结果")),
    ),
    build=_build,
    available=_available,
    on_issue=_on_issue,
    requires_approval=False,
)


def register_kind() -> None:
    register(REPORT_KIND)


def template_bytes() -> bytes:
    """The default template, made by the documents' own builder (GB/T 9704 layout)."""
    from xinfang.documents.default_templates.build import build_kind

    with tempfile.TemporaryDirectory() as tmp:
        build_kind(CODE, PARAGRAPHS, to_petitioner=False, title=TITLE, salutation=True, out=Path(tmp))
        return (Path(tmp) / f"{CODE}.docx").read_bytes()


def ensure_template() -> None:
    """Store the default template as version 1 the first time (an administrator may upload a
    newer version; documents keep the version they were made with)."""
    from django.db import IntegrityError, transaction

    from xinfang.documents.models import DocumentTemplate

    if DocumentTemplate.objects.filter(kind=CODE).exists():
        return
    try:
        with transaction.atomic():
            DocumentTemplate.objects.create(
                kind=CODE, version=1, filename=f"{CODE}.docx", content=template_bytes(), note="默认模板"
            )
    except IntegrityError:  # created meanwhile by another request
        pass
