"""The staff pages of documents: draft → approve → issue → serve through the views, the petition
page's panel, the action panel's redirect, scope and roles, the lists."""

from __future__ import annotations

import io
import re

import pytest
from django.urls import reverse
from django.utils import timezone
from docx import Document as Docx

from tests.procedure import OPINION, REPLY, new_registration, to_accepted, to_under_review
from xinfang.audit.models import AuditEvent
from xinfang.documents import services
from xinfang.documents.models import Document
from xinfang.petitions.models import Petition

pytestmark = pytest.mark.django_db

LETTER = {**REPLY, "request_summary": "请求补发拖欠的工资。"}


def _accepted(world) -> str:
    number = new_registration(world).petition.number
    to_accepted(world, number)
    return number


def _page(client, number: str) -> str:
    return client.get(reverse("petitions:detail", args=[number])).content.decode()


def _docx_text(content: bytes) -> str:
    return "\n".join(p.text for p in Docx(io.BytesIO(content)).paragraphs)


def test_the_decision_letter_from_draft_to_service_through_the_pages(client, world):
    number = _accepted(world)
    client.force_login(world.handler_a)
    page = _page(client, number)
    # the action panel no longer replies itself: it links to the draft page
    draft_url = reverse("documents:draft", args=[number, "decision_letter"])
    assert 'id="document-step-reply"' in page and draft_url in page
    assert 'id="draft-decision_letter"' in page and "起草处理意见书" in page
    form = client.get(draft_url).content.decode()
    # the editable fields, and the review notice drawn from the record, read-only
    assert 'name="outcome"' in form and "<textarea" in form and "复查" in form
    # nothing typed is lost when the service refuses (a required field left empty)
    response = client.post(draft_url, {**LETTER, "facts": "经查属实", "basis": ""})
    text = response.content.decode()
    assert response.status_code == 200 and "请填写法律政策依据" in text and "经查属实" in text
    assert not Document.objects.exists()
    response = client.post(draft_url, LETTER)
    document = Document.objects.get()
    assert response.url == reverse("documents:detail", args=[document.pk])
    assert document.status == "draft" and document.body["facts"] == REPLY["facts"]
    # the panel now continues the draft
    assert reverse("documents:detail", args=[document.pk]) in _page(client, number)
    # the handler cannot approve
    response = client.post(reverse("documents:approve", args=[document.pk]), {"note": "同意"})
    assert response.status_code == 403
    assert "只有发文机关或其上级的领导可以审批该文书" in response.content.decode()
    # nor issue before approval
    issue_url = reverse("documents:issue", args=[document.pk])
    page = client.get(issue_url).content.decode()
    assert "处理意见书即为对信访人的书面答复" in page
    response = client.post(issue_url, follow=True)
    assert "须经领导审批后才能印发" in response.content.decode()
    assert Document.objects.get().status == "draft"
    # the leader approves
    client.force_login(world.leader_a)
    detail = client.get(reverse("documents:detail", args=[document.pk])).content.decode()
    assert 'id="approve-document"' in detail
    client.post(reverse("documents:approve", args=[document.pk]), {"note": "同意印发"})
    document.refresh_from_db()
    assert document.status == "approved" and document.approval_note == "同意印发"
    # the handler issues: the reply happens, the reference is taken
    client.force_login(world.handler_a)
    response = client.post(issue_url, follow=True)
    document.refresh_from_db()
    assert document.status == "issued" and document.reference.endswith(f"〔{timezone.localdate().year}〕1号")
    assert f"文号：{document.reference}" in response.content.decode()
    assert Petition.objects.get(number=number).status == "replied"
    docx = client.get(reverse("documents:docx", args=[document.pk]))
    disposition = docx["Content-Disposition"]
    assert disposition.startswith("attachment") and "filename*=UTF-8''" in disposition
    assert document.reference in _docx_text(docx.content) and REPLY["facts"] in _docx_text(docx.content)
    assert AuditEvent.objects.filter(action="document.download").exists()
    # the service form: a missing tracking number is refused with what was typed kept
    serve_url = reverse("documents:serve", args=[document.pk])
    assert "信访人的复查请求期限" in client.get(serve_url).content.decode()
    today = timezone.localdate().isoformat()
    response = client.post(serve_url, {"method": "post", "served_on": today, "announcement": "x"})
    assert "请填写邮件单号" in response.content.decode()
    data = {"method": "post", "served_on": today, "tracking_number": "EMS1"}
    response = client.post(serve_url, data, follow=True)
    assert "已登记送达" in response.content.decode()
    document.refresh_from_db()
    assert document.served_on == timezone.localdate() and document.service_detail["tracking_number"] == "EMS1"
    assert document.letter.served_on == timezone.localdate()
    panel = _page(client, number)
    assert document.reference in panel and "邮寄送达" in panel


def test_a_post_of_the_reply_action_goes_to_the_document_and_replies_nothing(client, world):
    number = _accepted(world)
    client.force_login(world.handler_a)
    version = Petition.objects.get(number=number).version
    response = client.post(
        reverse("workflow:act", args=[number, "reply"]), {"version": version, **REPLY}, follow=False
    )
    assert response.url == reverse("documents:draft", args=[number, "decision_letter"])
    assert Petition.objects.get(number=number).status == "accepted"


def test_the_review_panel_links_to_the_review_opinion(client, world):
    number = new_registration(world).petition.number
    to_under_review(world, number)
    client.force_login(world.supervisor_a)
    page = _page(client, number)
    assert 'id="document-step-review"' in page
    assert reverse("documents:draft", args=[number, "review_opinion"]) in page


def test_another_county_sees_no_document(client, world):
    number = _accepted(world)
    document = services.draft(user=world.handler_a, number=number, kind="decision_letter", body=REPLY)
    client.force_login(world.handler_b)
    for name in ("detail", "print", "docx", "edit", "issue", "serve"):
        assert client.get(reverse(f"documents:{name}", args=[document.pk])).status_code == 404, name
    assert client.get(reverse("documents:draft", args=[number, "decision_letter"])).status_code == 404


def test_edit_keeps_what_was_typed_and_sends_an_approved_draft_back(client, world):
    number = _accepted(world)
    document = services.draft(user=world.handler_a, number=number, kind="decision_letter", body=REPLY)
    services.approve(user=world.leader_a, document=document)
    client.force_login(world.handler_a)
    url = reverse("documents:edit", args=[document.pk])
    response = client.post(url, {**LETTER, "opinion": "", "facts": "新的事实"})
    assert "请填写处理意见" in response.content.decode() and "新的事实" in response.content.decode()
    client.post(url, {**LETTER, "facts": "新的事实"})
    document.refresh_from_db()
    assert document.body["facts"] == "新的事实" and document.status == "draft"


def test_the_lists_of_unserved_and_awaiting_approval(client, world):
    number = _accepted(world)
    document = services.draft(user=world.handler_a, number=number, kind="decision_letter", body=REPLY)
    client.force_login(world.leader_a)
    page = client.get(reverse("documents:list") + "?status=awaiting_approval").content.decode()
    assert f'id="list-document-{document.pk}"' in page
    client.force_login(world.handler_a)
    assert client.get(reverse("documents:list") + "?status=awaiting_approval").status_code == 403
    page = client.get(reverse("documents:list")).content.decode()
    assert "没有待送达的文书" in page
    services.approve(user=world.leader_a, document=document)
    document = services.issue(user=world.handler_a, document=document)
    page = client.get(reverse("documents:list") + "?status=unserved").content.decode()
    assert document.reference in page
    export = client.get(reverse("documents:list") + "?status=unserved&format=xlsx")
    assert export["Content-Type"].startswith("application/vnd.openxmlformats")
    client.force_login(world.handler_b)
    assert document.reference not in client.get(reverse("documents:list")).content.decode()


def test_the_panel_lists_the_documents_with_their_buttons(client, world):
    number = _accepted(world)
    document = services.draft(user=world.handler_a, number=number, kind="decision_letter", body=REPLY)
    client.force_login(world.leader_a)
    page = _page(client, number)
    assert f'id="document-{document.pk}"' in page and f'id="document-approve-{document.pk}"' in page
    assert f'id="document-issue-{document.pk}"' not in page  # the leader of the government does not issue
    client.force_login(world.handler_a)
    page = _page(client, number)
    assert f'id="document-approve-{document.pk}"' not in page and "待领导审批" in page
    assert re.search(rf'id="document-print-{document.pk}"', page)


def test_the_review_opinion_issued_through_the_pages_is_the_review(client, world):
    number = new_registration(world).petition.number
    to_under_review(world, number)
    client.force_login(world.supervisor_a)  # the office does the government's review work
    draft_url = reverse("documents:draft", args=[number, "review_opinion"])
    client.post(draft_url, {**OPINION, "request": "请求复查"})
    document = Document.objects.get(kind="review_opinion")
    assert document.organisation == world.a.government
    client.force_login(world.leader_a)
    client.post(reverse("documents:approve", args=[document.pk]), {"note": ""})
    client.force_login(world.supervisor_a)
    assert "复核期限" in client.get(reverse("documents:issue", args=[document.pk])).content.decode()
    client.post(reverse("documents:issue", args=[document.pk]))
    assert Petition.objects.get(number=number).status == "reviewed"
    assert Document.objects.get(pk=document.pk).appeal is not None
    # the office lists its government's documents awaiting service; the department does not
    reference = Document.objects.get(pk=document.pk).reference
    assert reference in client.get(reverse("documents:list")).content.decode()
    client.force_login(world.handler_a)
    assert reference not in client.get(reverse("documents:list")).content.decode()
