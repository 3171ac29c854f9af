"""The worker job of 批量打印 (``documents.batches``): one merged PDF of many issued documents."""

from __future__ import annotations

import io
import logging

from django.core.files.base import ContentFile
from django.db import transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from pypdf import PdfReader, PdfWriter

from xinfang.audit.services import record_event
from xinfang.core.files import encrypted_content
from xinfang.notifications.services import notify

from .batches import documents_in
from .models import BatchStatus, DocumentBatch
from .pdf import ConversionFailed

logger = logging.getLogger(__name__)


def merge(batch: DocumentBatch) -> tuple[bytes, int]:
    """The batch's documents, each as issued (its kept PDF, made now if the worker has not yet),
    one after the other in one PDF; and how many."""
    from .tasks import ensure_pdf  # tasks.py imports this module (make_batch's dotted path)

    writer = PdfWriter()
    count = 0
    # Read up front (at most batches.MAX_DOCUMENTS rows, bodies left encrypted): each ensure_pdf
    # commits, which a cursor left open across the loop would have to survive.
    documents = list(documents_in(batch.organisation, batch.kind, batch.start, batch.end).defer("body_json"))
    for document in documents:
        try:
            pdf = ensure_pdf(document)
        except ConversionFailed as exc:
            raise ConversionFailed(
                _("文书 {reference} 转换为 PDF 失败：{error}").format(reference=document.reference, error=exc)
            ) from exc
        writer.append(PdfReader(io.BytesIO(pdf)))
        count += 1
    if count == 0:
        raise ValueError(_("该日期范围内已没有可打印的文书。"))
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue(), count


def make_batch(batch_id: int) -> None:
    """Worker job: merge, keep, notify.  A failure is recorded on the batch (and the requester told),
    so the page says what went wrong instead of the batch staying "queued"."""
    # Queued, or running when a worker died in the middle and the job was handed out again.
    claimed = DocumentBatch.objects.filter(
        pk=batch_id, status__in=[BatchStatus.QUEUED, BatchStatus.RUNNING]
    ).update(status=BatchStatus.RUNNING, started_at=timezone.now())
    if not claimed:
        return
    batch = DocumentBatch.objects.select_related("organisation", "requested_by").get(pk=batch_id)
    url = reverse("document_batches:list")
    try:
        pdf, count = merge(batch)
    except Exception as exc:  # any failure ends the batch as failed, with its reason shown
        logger.exception("document batch %s failed", batch_id)
        with transaction.atomic():
            batch.status, batch.error, batch.finished_at = BatchStatus.FAILED, str(exc)[:2000], timezone.now()
            batch.save(update_fields=["status", "error", "finished_at"])
            notify(
                [batch.requested_by], kind="document_batch", url=url,
                title=_("批量打印失败：{batch}").format(batch=batch),
                body=_("失败原因：{error}。请处理后重新申请。").format(error=batch.error[:200]),
            )  # fmt: skip
            record_event(
                actor=None, action="document.batch_failed", obj=batch, data={"error": batch.error[:200]}
            )
        return
    with transaction.atomic():
        batch.pdf_file.save(
            f"{batch.kind}-{batch.start}-{batch.end}.pdf", encrypted_content(ContentFile(pdf)), save=False
        )
        batch.status, batch.count, batch.error = BatchStatus.DONE, count, ""
        batch.finished_at = timezone.now()
        batch.save(update_fields=["pdf_file", "status", "count", "error", "finished_at"])
        notify(
            [batch.requested_by], kind="document_batch", url=url,
            title=_("批量打印已生成：{batch}").format(batch=batch),
            body=_("共 {count} 份文书，已合并为一个 PDF，请到“批量打印”页面下载打印。").format(count=count),
        )  # fmt: skip
        record_event(actor=None, action="document.batch_done", obj=batch, data={"count": count})
