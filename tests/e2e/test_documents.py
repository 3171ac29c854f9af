"""The decision letter (处理意见书) from draft to service, in a real browser (issue #10, "Done when"):

the handler drafts it from the action panel's reply link, the leader approves it from the list of
drafts awaiting approval, the handler issues it (the petition is then replied) and prints it (the
print view under print media, and Chromium's own PDF of it); the petitioner, on the portal, downloads
its PDF and confirms receipt, which is electronic service on that day: the review window starts then.
Screenshots of the print view and of the portal after confirmation go to test-artifacts/.
"""

from __future__ import annotations

import io

import pytest
from django.utils import timezone
from pypdf import PdfReader

from xinfang.documents.models import Document
from xinfang.petitions.models import Petition
from xinfang.workflow.deadlines import due_date
from xinfang.workflow.models import Step

from ..procedure import new_registration, to_accepted
from .staff import Staff

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

# The first PDF conversion may start LibreOffice (unoserver) on this machine: up to ~20 s on a busy one.
PDF_TIMEOUT_MS = 120_000

DRAFT = {
    "facts": "经查，某建筑工地确有拖欠二十三名农民工工资共计三十万元的情况。",
    "basis": "《保障农民工工资支付条例》第十五条",
    "opinion": "责成施工总承包单位于十日内足额支付拖欠的工资。",
}


def _pdf_text(content: bytes) -> tuple[int, str]:
    reader = PdfReader(io.BytesIO(content))
    return len(reader.pages), "".join(page.extract_text() or "" for page in reader.pages)


def test_decision_letter_drafted_approved_issued_printed_downloaded_and_confirmed(
    live_server, browser, page, shot, world
):
    base = live_server.url
    registration = new_registration(world)
    number, code = registration.petition.number, registration.query_code
    to_accepted(world, number)
    handler, leader = Staff(browser, base, world.handler_a), Staff(browser, base, world.leader_a)
    try:
        # --- 1. the handler drafts the letter from the action panel's reply link -------------------------
        handler.open(number)
        link = handler.page.locator("#document-step-reply")
        assert link.inner_text().strip() == "起草处理意见书"
        link.click()
        handler.page.wait_for_selector("#draft-form")
        assert "起草处理意见书" in handler.page.inner_text("#draft-title")
        handler.page.select_option("#draft-form select[name=outcome]", value="support")
        for name, value in DRAFT.items():
            handler.page.fill(f"#draft-form [name={name}]", value)
        handler.page.click("#save-draft")
        handler.page.wait_for_selector("#document-facts")
        text = handler.page.inner_text("main")
        assert "草稿已保存" in text and "须经领导审批后才能印发" in text
        assert "正在等待领导审批" in handler.page.inner_text("#awaiting-approval")
        assert handler.page.locator("#issue-document").count() == 0  # nothing to issue before approval
        assert handler.page.inner_text("#document-reference").strip() == "—"  # no 文号 on a draft
        document = Document.objects.get(petition__number=number, kind="decision_letter")
        assert document.status == "draft" and document.body["opinion"] == DRAFT["opinion"]
        assert Petition.objects.get(number=number).status == "accepted"

        # --- 2. the leader approves it from the list of drafts awaiting approval -------------------------
        leader.page.goto(base + "/staff/documents/?status=awaiting_approval")
        row = leader.page.locator(f"#list-document-{document.pk}")
        assert number in row.inner_text() and "处理意见书" in row.inner_text()
        row.get_by_role("link", name="审批").click()
        leader.page.fill("#approve [name=note]", "同意印发")
        leader.page.click("#approve-document")
        leader.page.wait_for_selector("#document-approved")
        assert "已审批同意" in leader.page.inner_text("main")
        assert "同意印发" in leader.page.inner_text("#document-approved")
        document.refresh_from_db()
        assert document.status == "approved" and document.approved_by == world.leader_a

        # --- 3. the handler issues it (after the page saying what issuing does), the petition is replied --
        handler.page.reload()
        handler.page.click("#issue-document")
        consequence = handler.page.inner_text("#issue-consequence")
        assert "印发后将生成文号" in consequence and "送达后信访人的复查期限开始计算" in consequence
        handler.page.click("#confirm-issue")
        handler.page.wait_for_selector("#document-approved")
        document.refresh_from_db()
        reference = document.reference
        assert document.status == "issued" and reference
        assert f"已印发，文号：{reference}" in handler.page.inner_text("main")
        assert handler.page.inner_text("#document-reference").strip() == reference
        assert Petition.objects.get(number=number).status == "replied"
        handler.open(number)  # the petition page's 文书 panel shows the number too
        assert handler.page.inner_text(f"#document-{document.pk} .document-reference").strip() == reference

        # --- ... and prints it: the print view, under print media, and Chromium's PDF of it ---------------
        handler.page.goto(f"{base}/staff/documents/{document.pk}/")
        with handler.context.expect_page() as opened:
            handler.page.click("#print-document")  # target=_blank
        sheet = opened.value
        sheet.wait_for_selector("#document-sheet")
        sheet.emulate_media(media="print")
        shot(sheet, "document-print-decision-letter")
        for selector in ("nav", "button", ".button", "form", "#document-actions", ".messages"):
            assert sheet.locator(f"{selector}:visible").count() == 0, selector
        # Found by their text, not by the markup: the print view shows the document as its DOCX reads.
        # innerText leaves out what print media hides.
        printed_page = sheet.inner_text("body")
        assert reference in printed_page and sheet.get_by_text(reference).first.is_visible()
        assert sheet.get_by_text("处理意见书", exact=True).first.is_visible()  # the title
        assert "张三：" in printed_page  # the addressee
        assert DRAFT["opinion"] in printed_page and number in printed_page
        assert "草稿" not in printed_page  # an issued document has no draft mark
        assert sheet.get_by_text("送达回证", exact=True).first.is_visible()
        pages, printed = _pdf_text(sheet.pdf(format="A4"))  # headless Chromium only
        printed = printed.replace(" ", "")
        assert pages >= 1 and reference in printed and "送达回证" in printed
        sheet.close()

        # --- 4. the petitioner on the portal: the document, its PDF, 确认收到 ----------------------------
        page.goto(base + "/portal/track/")
        page.fill("#id_number", number)
        page.fill("#id_code", code)
        page.click("#portal-track button[type=submit]")
        page.wait_for_selector("#documents")
        item = page.locator(f"#document-{document.pk}")
        assert "处理意见书" in item.inner_text()
        assert page.inner_text(f"#document-{document.pk}-reference").strip() == reference
        # Not served yet: no window runs, and the page says why instead of giving a date.
        assert "处理意见书尚未送达" in page.inner_text("#window-review")

        with page.expect_download(timeout=PDF_TIMEOUT_MS) as download_info:
            page.click(f"#document-{document.pk}-pdf")
        download = download_info.value
        assert download.suggested_filename == f"{reference}.pdf"
        with open(download.path(), "rb") as downloaded:
            content = downloaded.read()
        assert content.startswith(b"%PDF")
        pages, text = _pdf_text(content)
        assert pages >= 1 and reference in text.replace(" ", "")
        document.refresh_from_db()
        assert document.served_on is None  # downloading is not service; confirming is

        page.click(f"#document-{document.pk}-confirm-button")
        page.wait_for_selector(f"#document-{document.pk}-served")
        today = timezone.localdate()
        review_due = due_date(Step.REVIEW_REQUEST, today, world.a.department).due_on.isoformat()
        main = page.inner_text("main")
        assert f"该文书已于{today.isoformat()}电子送达" in main
        assert f"请求复查的期限自今日起计算，您可在{review_due}前（含当日）请求复查" in main
        assert page.inner_text("#window-review").strip() == f"您可在{review_due}前（含当日）请求复查。"
        assert f"已于{today.isoformat()}电子送达" in page.inner_text(f"#document-{document.pk}-served")
        assert page.locator(f"#document-{document.pk}-confirm-button").count() == 0  # once only
        assert page.locator("#portal-request_review").is_visible()  # the window is open today
        shot(page, "document-portal-confirmed")

        document.refresh_from_db()
        letter = Petition.objects.get(number=number).decision_letters.get()
        assert letter.served_on == today
        assert document.served_on == today and document.service_method == "electronic"
        assert Petition.objects.get(number=number).due_on.isoformat() == review_due

        # The staff see the service the petitioner recorded.
        handler.page.goto(f"{base}/staff/documents/{document.pk}/")
        served = handler.page.inner_text("#document-served")
        assert today.isoformat() in served and "信访人在网上确认收到" in served
    finally:
        handler.close()
        leader.close()
