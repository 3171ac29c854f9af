"""The portal's documents (issue #10 point 9): the petitioner downloads what was issued to them as
PDF and confirms receipt, which records electronic service that day and starts the windows."""

from __future__ import annotations

import pytest
from django.urls import reverse
from django.utils import timezone

from tests.procedure import REPLY, new_registration, to_accepted
from xinfang.audit.models import AuditEvent
from xinfang.documents import services
from xinfang.documents.models import Document
from xinfang.petitions.models import Petition
from xinfang.workflow.deadlines import due_date
from xinfang.workflow.models import Step

pytestmark = pytest.mark.django_db

FAKE_PDF = b"%PDF-1.4\n% a decision letter\n%%EOF\n"


@pytest.fixture(autouse=True)
def _fast_pdf(monkeypatch):
    """LibreOffice is tested in the rendering tests; here the PDF only has to travel."""
    monkeypatch.setattr("xinfang.documents.tasks.docx_to_pdf", lambda docx: FAKE_PDF)


def issued_letter(world, registration) -> Document:
    number = registration.petition.number
    to_accepted(world, number)
    document = services.draft(user=world.handler_a, number=number, kind="decision_letter", body=dict(REPLY))
    services.approve(user=world.leader_a, document=document)
    return services.issue(user=world.handler_a, document=document)


def track(client, registration) -> None:
    response = client.post(
        reverse("portal:track"), {"number": registration.petition.number, "code": registration.query_code}
    )
    assert response.status_code == 302


@pytest.fixture
def registration(world):
    return new_registration(world)


def test_the_tracking_page_lists_issued_documents_only(client, world, registration):
    letter = issued_letter(world, registration)
    number = registration.petition.number
    # a draft of another kind and an internal document are never shown
    draft = Document.objects.create(
        petition=letter.petition, kind="extension", organisation=letter.organisation,
        addressee_kind="petitioner", addressee="张三", drafted_by=world.handler_a,
    )  # fmt: skip
    track(client, registration)
    page = client.get(reverse("portal:petition", args=[number])).content.decode()
    assert 'id="documents"' in page
    assert f'id="document-{letter.pk}"' in page and letter.reference in page
    assert f'id="document-{letter.pk}-confirm-button"' in page
    assert f'id="document-{draft.pk}"' not in page
    assert "确认收到后，该文书即视为已向您电子送达" in page


def test_download_streams_the_decrypted_pdf_and_is_audited(client, world, registration):
    letter = issued_letter(world, registration)
    track(client, registration)
    response = client.get(reverse("portal:document_pdf", args=[registration.petition.number, letter.pk]))
    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    assert b"".join(response.streaming_content) == FAKE_PDF
    letter.refresh_from_db()
    assert letter.pdf_file  # made on demand and kept (encrypted: not the plain bytes on disk)
    with letter.pdf_file.open("rb") as stored:
        assert stored.read() != FAKE_PDF
    event = AuditEvent.objects.get(action="document.download")
    assert event.actor is None and event.object_id == str(letter.pk) and event.data["via"] == "portal"


def test_another_petitions_document_is_the_same_404_as_a_missing_one(client, world, registration):
    other = new_registration(world)
    letter = issued_letter(world, other)
    track(client, registration)  # this session proved only the first petition's code
    number = registration.petition.number
    foreign = client.get(reverse("portal:document_pdf", args=[number, letter.pk]))
    missing = client.get(reverse("portal:document_pdf", args=[number, letter.pk + 1000]))
    assert foreign.status_code == missing.status_code == 404
    confirm = client.post(reverse("portal:document_confirm", args=[number, letter.pk]))
    assert confirm.status_code == 404
    assert not Document.objects.get(pk=letter.pk).is_served
    assert not AuditEvent.objects.filter(action="document.download").exists()


def test_a_draft_cannot_be_downloaded(client, world, registration):
    number = registration.petition.number
    to_accepted(world, number)
    document = services.draft(user=world.handler_a, number=number, kind="decision_letter", body=dict(REPLY))
    track(client, registration)
    assert client.get(reverse("portal:document_pdf", args=[number, document.pk])).status_code == 404


def test_without_the_session_back_to_the_track_form(client, world, registration):
    letter = issued_letter(world, registration)
    number = registration.petition.number
    download = client.get(reverse("portal:document_pdf", args=[number, letter.pk]))
    confirm = client.post(reverse("portal:document_confirm", args=[number, letter.pk]))
    assert download.status_code == confirm.status_code == 302
    assert download["Location"] == confirm["Location"] == reverse("portal:track")
    assert not Document.objects.get(pk=letter.pk).is_served


def test_confirming_receipt_serves_electronically_today_and_starts_the_review_window(
    client, world, registration
):
    letter = issued_letter(world, registration)
    number = registration.petition.number
    track(client, registration)
    response = client.post(reverse("portal:document_confirm", args=[number, letter.pk]), follow=True)
    assert response.status_code == 200
    today = timezone.localdate()
    letter.refresh_from_db()
    assert letter.served_on == today and letter.service_method == "electronic"
    assert letter.service_recorded_by is None and letter.service_detail == {"channel": "portal"}
    assert letter.letter.served_on == today
    due = due_date(Step.REVIEW_REQUEST, today, letter.organisation).due_on
    assert Petition.objects.get(number=number).due_on == due
    page = response.content.decode()
    assert f"已于{today.isoformat()}电子送达" in page
    assert f"请求复查的期限自今日起计算，您可在{due.isoformat()}前（含当日）请求复查。" in page
    assert f'id="document-{letter.pk}-served"' in page
    assert f'id="document-{letter.pk}-confirm-button"' not in page
    event = AuditEvent.objects.get(action="document.service")
    assert event.actor is None and event.data["method"] == "electronic"


def test_confirming_twice_is_refused_with_the_day_of_service(client, world, registration):
    letter = issued_letter(world, registration)
    number = registration.petition.number
    track(client, registration)
    client.post(reverse("portal:document_confirm", args=[number, letter.pk]))
    again = client.post(reverse("portal:document_confirm", args=[number, letter.pk]))
    assert again.status_code == 409
    assert f"该文书已于{timezone.localdate()}送达。" in again.content.decode()
    assert AuditEvent.objects.filter(action="document.service").count() == 1


def test_confirm_needs_post(client, world, registration):
    letter = issued_letter(world, registration)
    track(client, registration)
    url = reverse("portal:document_confirm", args=[registration.petition.number, letter.pk])
    assert client.get(url).status_code == 405
