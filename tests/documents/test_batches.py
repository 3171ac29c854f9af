"""批量打印: a month's receipts merged into one PDF by the worker job; scope; failure recorded."""

from __future__ import annotations

import io

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.urls import reverse
from django.utils import timezone
from pypdf import PdfReader

from tests.procedure import new_registration
from xinfang.audit.models import AuditEvent
from xinfang.core.files import open_plaintext
from xinfang.documents import batches, services
from xinfang.documents.models import BatchStatus, DocumentBatch
from xinfang.documents.pdf import ConversionFailed
from xinfang.notifications.models import Notification

pytestmark = pytest.mark.django_db


def issue_receipts(world, n: int, *, user=None, registrar=None):
    user = user or world.intake_a
    out = []
    for _ in range(n):
        number = (registrar or new_registration)(world).petition.number
        document = services.draft(user=user, number=number, kind="receipt")
        out.append(services.issue(user=user, document=document))
    return out


def pages(batch: DocumentBatch) -> list[str]:
    with open_plaintext(batch.pdf_file) as reader:
        return [page.extract_text() for page in PdfReader(io.BytesIO(reader.read())).pages]


def test_a_batch_of_receipts_is_one_pdf_with_every_receipt(world, django_capture_on_commit_callbacks):
    receipts = issue_receipts(world, 3)
    per_receipt = len(PdfReader(io.BytesIO(batch_tasks_pdf(receipts[0]))).pages)
    today = timezone.localdate()
    with django_capture_on_commit_callbacks(execute=True):  # the job runs (sync in the tests)
        batch = batches.request_batch(user=world.intake_a, kind="receipt", start=today, end=today)
    batch.refresh_from_db()
    assert batch.status == BatchStatus.DONE and batch.count == 3, batch.error
    text = pages(batch)
    assert len(text) == 3 * per_receipt
    joined = "".join("".join(text).split())  # pypdf spaces out some runs: "1 号"
    for receipt in receipts:  # every receipt's number and petition, in reference order
        assert receipt.reference in joined and receipt.petition.number in joined
    assert joined.index(receipts[0].reference) < joined.index(receipts[2].reference)
    note = Notification.objects.get(user=world.intake_a, kind="document_batch")
    assert "已生成" in note.title
    assert AuditEvent.objects.filter(action="document.batch_done").exists()


def batch_tasks_pdf(document) -> bytes:
    from xinfang.documents.tasks import ensure_pdf

    return ensure_pdf(document)


def test_only_the_users_organisations_documents(world, django_capture_on_commit_callbacks):
    from tests.procedure import register

    issue_receipts(world, 2)
    issue_receipts(world, 1, user=world.intake_b,
                   registrar=lambda w: register(w.b.office, w.intake_b, w.b.township))  # fmt: skip
    today = timezone.localdate()
    with django_capture_on_commit_callbacks(execute=True):
        mine = batches.request_batch(user=world.intake_b, kind="receipt", start=today, end=today)
    mine.refresh_from_db()
    assert mine.count == 1 and mine.organisation == world.intake_b.organisation
    assert mine.status == BatchStatus.DONE
    # nothing of another kind, nothing outside the dates
    with pytest.raises(ValidationError):
        batches.request_batch(user=world.intake_b, kind="acceptance", start=today, end=today)
    with pytest.raises(ValidationError):
        batches.request_batch(
            user=world.intake_a, kind="receipt", start=today.replace(year=today.year - 1),
            end=today.replace(year=today.year - 1),
        )  # fmt: skip
    with pytest.raises(PermissionDenied):
        batches.request_batch(user=world.auditor, kind="receipt", start=today, end=today)
    # the page lists and downloads only the organisation's batches
    from django.test import Client

    client = Client()
    client.force_login(world.intake_a)
    assert client.get(reverse("document_batches:download", args=[mine.pk])).status_code == 404
    client.force_login(world.intake_b)
    response = client.get(reverse("document_batches:download", args=[mine.pk]))
    assert response.status_code == 200 and b"".join(response.streaming_content).startswith(b"%PDF")


def test_failure_is_recorded_and_told(world, monkeypatch, django_capture_on_commit_callbacks):
    receipts = issue_receipts(world, 2)
    today = timezone.localdate()
    # No PDF was made on issue (the render_pdf job waits for a commit that a test never makes), and
    # LibreOffice now fails: the first receipt of the batch cannot be converted.
    assert not any(type(r).objects.get(pk=r.pk).pdf_file for r in receipts)
    from xinfang.documents import tasks

    def broken(docx: bytes) -> bytes:
        raise ConversionFailed("LibreOffice crashed")

    monkeypatch.setattr(tasks, "docx_to_pdf", broken)
    with django_capture_on_commit_callbacks(execute=True):
        batch = batches.request_batch(user=world.intake_a, kind="receipt", start=today, end=today)
    batch.refresh_from_db()
    assert batch.status == BatchStatus.FAILED and not batch.pdf_file
    assert receipts[0].reference in batch.error and "LibreOffice crashed" in batch.error
    assert "失败" in Notification.objects.get(user=world.intake_a, kind="document_batch").title
    # the page shows it
    from django.test import Client

    client = Client()
    client.force_login(world.intake_a)
    page = client.get(reverse("document_batches:list")).content.decode()
    assert "失败" in page and "LibreOffice crashed" in page


def test_request_from_the_page(world, django_capture_on_commit_callbacks):
    issue_receipts(world, 1)
    from django.test import Client

    client = Client()
    client.force_login(world.intake_a)
    today = timezone.localdate().isoformat()
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            reverse("document_batches:list"), {"kind": "receipt", "start": today, "end": today}
        )
    assert response.status_code == 302
    batch = DocumentBatch.objects.get()
    assert batch.status == BatchStatus.DONE and batch.requested_by == world.intake_a
    page = client.get(reverse("document_batches:list")).content.decode()
    assert reverse("document_batches:download", args=[batch.pk]) in page
    # an empty range is refused on the form, nothing queued
    form = {"kind": "hearing", "start": today, "end": today}
    response = client.post(reverse("document_batches:list"), form)
    assert response.status_code == 200 and "没有已印发" in response.content.decode()
    assert DocumentBatch.objects.count() == 1
