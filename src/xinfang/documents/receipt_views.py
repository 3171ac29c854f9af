"""The formal 登记回执 (a numbered document) printed at the counter with the query code.

The query code is stored only as a hash and shown once, so it never goes into the document's kept
DOCX or body: the petition page posts the code it is showing, the view checks it against the hash
(``petitions.receipt_views.code_if_current``) and renders a copy with it for this response only
(``rendering.render_docx(extra=…)``), never cached.  The receipt is issued (numbered) the first time;
later prints reuse it, and without a current code the copy says how to get a new one.
"""

from __future__ import annotations

from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from xinfang.audit.services import record_event
from xinfang.core.decorators import role_required
from xinfang.organisations.choices import CASEWORK_ROLES
from xinfang.petitions.access import PetitionNotFound, access_petition
from xinfang.petitions.receipt_views import code_if_current

from . import services
from .choices import DocumentKind, DocumentStatus
from .models import Document
from .pdf import ConversionFailed, docx_to_pdf
from .rendering import render_docx


def issued_receipt(user, number: str) -> Document:  # noqa: ANN001
    """The petition's receipt, issued now by ``user`` if it has none yet (one per petition: a
    reprint is the same document and number)."""
    existing = (
        Document.objects.filter(
            petition__number=number, kind=DocumentKind.RECEIPT, status=DocumentStatus.ISSUED
        )
        .order_by("-issued_at", "-pk")
        .first()
    )
    if existing is not None:
        return existing
    draft = services.draft(user=user, number=number, kind=DocumentKind.RECEIPT)
    return services.issue(user=user, document=draft)


@require_POST
@role_required(*CASEWORK_ROLES)
def receipt_pdf(request: HttpRequest, number: str) -> HttpResponse:
    try:
        petition = access_petition(request.user, number)
    except PetitionNotFound:
        raise Http404(_("信访事项不存在或无权查看。")) from None
    code = code_if_current(petition, request.POST.get("query_code", ""))
    try:
        document = issued_receipt(request.user, number)
        pdf = docx_to_pdf(render_docx(document, extra={"query_code": code} if code else None))
    except services.DocumentRefused as refused:
        messages.error(request, refused.messages[0])
        return redirect("petitions:detail", number=number)
    except (ConversionFailed, OSError):
        messages.error(request, _("PDF暂时无法生成，请先用“打印回执”打印网页版回执。"))
        return redirect("petitions:detail", number=number)
    record_event(actor=request.user, action="document.download", obj=document,
                 data={"format": "pdf", "with_code": bool(code)})  # fmt: skip
    response = HttpResponse(pdf, content_type="application/pdf")
    # Shown in the browser's PDF viewer to print at once; the code must not stay in any cache.
    response["Content-Disposition"] = "inline"
    response["Cache-Control"] = "no-store"
    return response
