"""批量打印: a month's receipts (or any kind's documents, by issuing organisation and date range)
as one merged PDF, made by the worker (issue #10 point 5).

``request_batch`` checks and queues; ``batch_tasks.make_batch`` converts what has no PDF yet, merges,
keeps the file encrypted and tells the requester.  A user prints only their own organisation's
documents.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import QuerySet
from django.utils.translation import gettext as _

from xinfang.audit.services import record_event
from xinfang.core.jobs import enqueue

from .choices import DocumentKind, DocumentStatus
from .models import Document, DocumentBatch
from .services import DRAFTING_ROLES

MAX_DOCUMENTS = 5000  # one print job; a larger range is split by the user (a few months at most)
MAX_DAYS = 366
TASK = "xinfang.documents.tasks.make_batch"


def can_request(user: Any) -> bool:
    return getattr(user, "organisation", None) is not None and user.has_role(*DRAFTING_ROLES)


def documents_in(organisation: Any, kind: str, start: dt.date, end: dt.date) -> QuerySet[Document]:
    """The issued documents a batch prints, in the order of their reference numbers."""
    return Document.objects.filter(
        organisation=organisation, kind=kind, status=DocumentStatus.ISSUED,
        issued_on__gte=start, issued_on__lte=end,
    ).order_by("issued_on", "year", "sequence", "pk")  # fmt: skip


def batches_of(user: Any) -> QuerySet[DocumentBatch]:
    """The batches of the user's organisation (colleagues see each other's print jobs)."""
    return DocumentBatch.objects.filter(organisation=user.organisation).select_related("requested_by")


def request_batch(*, user: Any, kind: str, start: dt.date, end: dt.date) -> DocumentBatch:
    """Queue a merged PDF of the user's organisation's ``kind`` documents issued from ``start`` to
    ``end``; the requester is notified when it is ready."""
    if not can_request(user):
        raise PermissionDenied(_("只有发文机关的工作人员可以批量打印文书。"))
    if kind not in DocumentKind.values:
        raise ValidationError({"kind": _("请选择文书种类。")})
    if end < start:
        raise ValidationError({"end": _("结束日期不能早于开始日期。")})
    if (end - start).days >= MAX_DAYS:
        raise ValidationError({"end": _("一次最多打印一年内印发的文书，请缩小日期范围。")})
    count = documents_in(user.organisation, kind, start, end).count()
    if count == 0:
        raise ValidationError(_("该日期范围内本机关没有已印发的此类文书。"))
    if count > MAX_DOCUMENTS:
        raise ValidationError(
            _("该范围内有 {count} 份文书，一次最多 {limit} 份，请缩小日期范围。").format(
                count=count, limit=MAX_DOCUMENTS
            )
        )
    with transaction.atomic():
        batch = DocumentBatch.objects.create(
            requested_by=user, organisation=user.organisation, kind=kind, start=start, end=end, count=count
        )
        record_event(actor=user, action="document.batch_request", obj=batch,
                     data={"kind": kind, "start": start, "end": end, "count": count})  # fmt: skip
        enqueue(TASK, batch.pk)
    return batch
