"""``/api/v1/petitions/{number}/documents`` and ``/api/v1/documents/{id}…`` (issue #10 point 10), and
the ``reply`` action taken through its document (point 7)."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from tests.procedure import REPLY, new_registration, to_accepted
from xinfang.audit.models import AuditEvent
from xinfang.documents import services
from xinfang.documents.models import Document
from xinfang.petitions.models import Petition

pytestmark = pytest.mark.django_db

FAKE_PDF = b"%PDF-1.4\n% a decision letter\n%%EOF\n"


@pytest.fixture(autouse=True)
def _fast_pdf(monkeypatch):
    """LibreOffice is tested with the rendering; here the PDF only has to travel."""
    monkeypatch.setattr("xinfang.documents.tasks.docx_to_pdf", lambda docx: FAKE_PDF)


@pytest.fixture
def number(world) -> str:
    number = new_registration(world).petition.number
    to_accepted(world, number)
    return number


@pytest.fixture
def draft(world, number) -> Document:
    return services.draft(user=world.handler_a, number=number, kind="decision_letter", body=dict(REPLY))


@pytest.fixture
def issued(world, draft) -> Document:
    services.approve(user=world.leader_a, document=draft)
    return services.issue(user=world.handler_a, document=draft)


def error(response) -> dict:
    return response.json()["error"]


# --- reading ------------------------------------------------------------------------------------


def test_list_and_metadata(world, api, token_of, number, issued):
    token = token_of(world.handler_a)
    listed = api.get(f"/api/v1/petitions/{number}/documents", token=token)
    assert listed.status_code == 200
    [item] = listed.json()["results"]
    assert (
        item["id"] == issued.pk and item["kind"] == "decision_letter" and item["kind_label"] == "处理意见书"
    )
    assert item["status"] == "issued" and item["reference"] == issued.reference
    assert item["organisation"]["id"] == world.a.department.pk
    assert item["addressee_kind"] == "petitioner" and item["addressee"] == issued.addressee
    assert item["drafted_by"] == item["issued_by"] == world.handler_a.username
    assert item["approved_by"] == world.leader_a.username
    assert item["issued_on"] == timezone.localdate().isoformat() and item["served_on"] is None
    assert item["service_method"] == "" and item["requires_approval"] is True and "body" not in item

    detail = api.get(f"/api/v1/documents/{issued.pk}", token=token)
    assert detail.status_code == 200
    body = detail.json()
    assert body["body"]["facts"] == REPLY["facts"] and body["body"]["outcome"] == REPLY["outcome"]
    assert body["template_version"] == 0 and body["service_detail"] == {}
    assert AuditEvent.objects.filter(
        action="document.view", object_id=str(issued.pk), actor=world.handler_a
    ).exists()


def test_another_countys_token_gets_404_everywhere(world, api, token_of, number, issued):
    token = token_of(world.handler_b)
    for path in (f"/api/v1/petitions/{number}/documents", f"/api/v1/documents/{issued.pk}",
                 f"/api/v1/documents/{issued.pk}.pdf", f"/api/v1/documents/{issued.pk}.docx"):  # fmt: skip
        response = api.get(path, token=token)
        assert response.status_code == 404 and error(response)["code"] == "not_found", path
    served = api.post(f"/api/v1/documents/{issued.pk}/service",
                      {"method": "post", "served_on": timezone.localdate().isoformat(),
                       "detail": {"tracking_number": "EMS1"}}, token=token)  # fmt: skip
    assert served.status_code == 404
    missing = api.get(f"/api/v1/documents/{issued.pk + 1000}", token=token_of(world.handler_a))
    assert missing.status_code == 404 and error(missing) == error(served)
    assert not Document.objects.get(pk=issued.pk).is_served
    assert not AuditEvent.objects.filter(action__in=["document.view", "document.download"]).exists()


def test_pdf_and_docx_downloads_are_audited(world, api, token_of, issued):
    token = token_of(world.handler_a)
    pdf = api.get(f"/api/v1/documents/{issued.pk}.pdf", token=token)
    assert pdf.status_code == 200 and pdf["Content-Type"] == "application/pdf"
    assert b"".join(pdf.streaming_content) == FAKE_PDF
    docx = api.get(f"/api/v1/documents/{issued.pk}.docx", token=token)
    assert docx.status_code == 200 and docx["Content-Type"].startswith("application/vnd.openxmlformats")
    assert b"".join(docx.streaming_content)[:2] == b"PK"  # a zip: the DOCX decrypted
    formats = sorted(e.data["format"] for e in AuditEvent.objects.filter(action="document.download"))
    assert formats == ["docx", "pdf"]


def test_a_draft_has_no_file(world, api, token_of, draft):
    for fmt in ("pdf", "docx"):
        response = api.get(f"/api/v1/documents/{draft.pk}.{fmt}", token=token_of(world.handler_a))
        assert response.status_code == 409 and error(response)["code"] == "not_issued"


# --- service ------------------------------------------------------------------------------------


def test_record_service_starts_the_window_once(world, api, token_of, number, issued):
    token = token_of(world.handler_a)
    today = timezone.localdate()
    url = f"/api/v1/documents/{issued.pk}/service"
    body = {"method": "post", "served_on": today.isoformat(), "detail": {"tracking_number": "EMS123"}}
    response = api.post(url, body, token=token, headers={"Idempotency-Key": "serve-1"})
    assert response.status_code == 200, response.json()
    assert response.json()["served_on"] == today.isoformat() and response.json()["service_method"] == "post"
    issued.refresh_from_db()
    assert issued.service_detail == {"tracking_number": "EMS123"} and issued.letter.served_on == today
    assert Petition.objects.get(number=number).status == "replied"
    replay = api.post(url, body, token=token, headers={"Idempotency-Key": "serve-1"})
    assert replay.status_code == 200 and replay["Idempotent-Replayed"] == "true"
    again = api.post(url, body, token=token)
    assert again.status_code == 409 and error(again)["code"] == "already_served"
    assert AuditEvent.objects.filter(action="document.service").count() == 1


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"method": "post", "detail": {}}, "detail.tracking_number"),
        ({"method": "in_person"}, "detail.recipient"),
        ({"method": "announcement", "detail": {"announcement": " "}}, "detail.announcement"),
        ({"method": "post", "detail": {"tracking_number": "E1"}, "served_on": "+1"}, "served_on"),
        ({"method": "fax", "detail": {}}, "method"),
    ],
)
def test_service_refusals_name_the_field(world, api, token_of, issued, body, field):
    body = {"served_on": timezone.localdate().isoformat(), **body}
    if body["served_on"] == "+1":
        body["served_on"] = (timezone.localdate() + dt.timedelta(days=1)).isoformat()
    response = api.post(f"/api/v1/documents/{issued.pk}/service", body, token=token_of(world.handler_a))
    assert response.status_code == 422, response.json()
    assert error(response)["code"] == "validation_error" and field in error(response)["fields"]
    assert not Document.objects.get(pk=issued.pk).is_served


def test_a_draft_cannot_be_served(world, api, token_of, draft):
    body = {"method": "electronic", "served_on": timezone.localdate().isoformat()}
    response = api.post(f"/api/v1/documents/{draft.pk}/service", body, token=token_of(world.handler_a))
    assert response.status_code == 409 and error(response)["code"] == "not_issued"


# --- draft, approve, issue ----------------------------------------------------------------------


def test_draft_approve_issue_through_the_api(world, api, token_of, number):
    handler, leader = token_of(world.handler_a), token_of(world.leader_a)
    created = api.post(f"/api/v1/petitions/{number}/documents",
                       {"kind": "decision_letter", "body": REPLY}, token=handler)  # fmt: skip
    assert created.status_code == 201, created.json()
    pk = created.json()["id"]
    assert created.json()["status"] == "draft" and created.json()["reference"] == ""
    refused = api.post(f"/api/v1/documents/{pk}/issue", {}, token=handler)
    assert refused.status_code == 409 and error(refused)["code"] == "approval_required"
    not_leader = api.post(f"/api/v1/documents/{pk}/approve", {}, token=handler)
    assert not_leader.status_code == 403 and error(not_leader)["code"] == "forbidden"
    approved = api.post(f"/api/v1/documents/{pk}/approve", {"note": "同意"}, token=leader)
    assert approved.status_code == 200 and approved.json()["status"] == "approved"
    issued = api.post(f"/api/v1/documents/{pk}/issue", {}, token=handler)
    assert issued.status_code == 200, issued.json()
    assert issued.json()["status"] == "issued" and issued.json()["reference"].endswith("1号")
    assert Petition.objects.get(number=number).status == "replied"
    twice = api.post(f"/api/v1/documents/{pk}/issue", {}, token=handler)
    assert twice.status_code == 409 and error(twice)["code"] == "issued"


def test_draft_refusals(world, api, token_of, number):
    handler = token_of(world.handler_a)
    url = f"/api/v1/petitions/{number}/documents"
    unknown_field = api.post(url, {"kind": "decision_letter", "body": {"colour": "红"}}, token=handler)
    assert unknown_field.status_code == 422 and "body.colour" in error(unknown_field)["fields"]
    bad_outcome = api.post(
        url, {"kind": "decision_letter", "body": {**REPLY, "outcome": "maybe"}}, token=handler
    )
    assert bad_outcome.status_code == 422 and "body.outcome" in error(bad_outcome)["fields"]
    not_yet = api.post(url, {"kind": "review_opinion", "body": {}}, token=handler)
    assert not_yet.status_code == 409 and error(not_yet)["code"] == "not_available"
    outsider = api.post(url, {"kind": "decision_letter", "body": REPLY}, token=token_of(world.handler_b))
    assert outsider.status_code == 404
    assert not Document.objects.exists()


# --- the reply action through the decision letter -------------------------------------------------


def test_reply_needing_approval_answers_202_with_the_draft(world, api, token_of, number):
    handler = token_of(world.handler_a)
    response = api.post(f"/api/v1/petitions/{number}/actions/reply", REPLY, token=handler)
    assert response.status_code == 202, response.json()
    body = response.json()
    document = Document.objects.get()
    assert body["code"] == "approval_required" and body["document"]["id"] == document.pk
    assert f"/api/v1/documents/{document.pk}/issue" in body["message"]
    assert document.status == "draft" and document.body["facts"] == REPLY["facts"]
    assert Petition.objects.get(number=number).status == "accepted"  # not replied yet
    assert (
        api.post(f"/api/v1/documents/{document.pk}/approve", {}, token=token_of(world.leader_a)).status_code
        == 200
    )
    issued = api.post(f"/api/v1/documents/{document.pk}/issue", {}, token=handler)
    assert issued.status_code == 200 and Petition.objects.get(number=number).status == "replied"


def test_reply_without_approval_issues_at_once(world, api, token_of, number, no_document_approval):
    response = api.post(f"/api/v1/petitions/{number}/actions/reply", REPLY, token=token_of(world.handler_a))
    assert response.status_code == 200, response.json()
    body = response.json()
    document = Document.objects.get()
    assert body["status"] == "replied" and body["document"]["id"] == document.pk
    assert body["document"]["reference"] == document.reference != ""
    assert document.letter is not None and document.letter.facts == REPLY["facts"]
    assert response["ETag"] == Petition.objects.get(number=number).etag


def test_a_refused_reply_leaves_no_draft(world, api, token_of, number):
    response = api.post(f"/api/v1/petitions/{number}/actions/reply", {**REPLY, "facts": " "},
                        token=token_of(world.handler_a))  # fmt: skip
    assert response.status_code == 422 and error(response)["code"] == "missing_reason"
    assert "facts" in error(response)["fields"]
    wrong_person = api.post(
        f"/api/v1/petitions/{number}/actions/reply", REPLY, token=token_of(world.intake_a)
    )
    assert wrong_person.status_code == 403 and error(wrong_person)["code"] == "not_allowed"
    assert not Document.objects.exists()
    assert not AuditEvent.objects.filter(action__startswith="document.").exists()
