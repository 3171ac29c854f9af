"""Worker jobs of the documents app."""

from __future__ import annotations

from django.core.files.base import ContentFile
from django.db import transaction

from xinfang.core.files import encrypted_content, open_plaintext

from .models import Document
from .pdf import docx_to_pdf


def ensure_pdf(document: Document) -> bytes:
    """The issued document's PDF: the one kept, or made now from its kept DOCX and kept."""
    if document.pdf_file:
        with open_plaintext(document.pdf_file) as reader:
            return reader.read()
    with open_plaintext(document.docx_file) as reader:
        pdf = docx_to_pdf(reader.read())
    with transaction.atomic():
        locked = Document.objects.select_for_update().get(pk=document.pk)
        if not locked.pdf_file:  # another worker may have made it meanwhile
            locked.pdf_file.save(f"{locked.kind}.pdf", encrypted_content(ContentFile(pdf)), save=False)
            locked.save(update_fields=["pdf_file"])
        document.pdf_file = locked.pdf_file
    return pdf


def render_pdf(document_id: int) -> None:
    """After issue: make and keep the PDF, so the portal and the print view serve it at once."""
    document = Document.objects.filter(pk=document_id, status="issued").first()
    if document is not None:
        ensure_pdf(document)


# 批量打印's job lives in its own module; its dotted path is ``xinfang.documents.tasks.make_batch``.
from .batch_tasks import make_batch  # noqa: E402

__all__ = ["ensure_pdf", "make_batch", "render_pdf"]
