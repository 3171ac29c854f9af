"""The print views: a document alone on A4 (its 文号, the body, the 送达回证), and the petition
without navigation, buttons, the reveal button or internal comments; the PDF download."""

from __future__ import annotations

import html
import re
from pathlib import Path

import pytest
from django.conf import settings
from django.urls import reverse

from tests.procedure import REPLY, new_registration
from xinfang.audit.models import AuditEvent
from xinfang.documents import services
from xinfang.workflow import services as workflow

pytestmark = pytest.mark.django_db

LETTER = {**REPLY, "request_summary": "请求补发拖欠的工资。"}
INTERNAL = "内部：此件与某局有关，勿外传"


def _accepted_with_comment(world) -> str:
    number = new_registration(world).petition.number
    workflow.assign(user=world.intake_a, number=number, unit=world.a.department, comment=INTERNAL)
    workflow.unit_accept(user=world.handler_a, number=number)
    return number


def _issued_letter(world):
    number = _accepted_with_comment(world)
    document = services.draft(user=world.handler_a, number=number, kind="decision_letter", body=LETTER)
    services.approve(user=world.leader_a, document=document)
    return services.issue(user=world.handler_a, document=document)


def _no_chrome(page: str) -> None:
    assert "<nav" not in page and "<button" not in page and "<form" not in page
    assert 'class="topbar"' not in page and "reveal-button" not in page


def test_the_print_view_is_the_document_alone(client, world):
    document = _issued_letter(world)
    client.force_login(world.handler_a)
    page = client.get(reverse("documents:print", args=[document.pk])).content.decode()
    _no_chrome(page)
    # the content of the DOCX: the reference, the title, the body, the outcome's label (not its code)
    assert f'data-reference="{document.reference}"' in page and f">{document.reference}<" in page
    assert "处理意见书" in page and REPLY["facts"] in page and REPLY["basis"] in page
    assert "处理结果：支持" in html.unescape(re.sub(r"<[^>]+>", "", page))
    assert page.count('<article class="sheet') == 2 and "送达回证" in page  # a letter to the petitioner
    assert re.search(r">二〇[〇一二三四五六七八九]{2}年[十一二三四五六七八九]+月", page)
    assert INTERNAL not in page and "is-draft" not in page
    assert "xinfang/css/print.css" in page
    assert AuditEvent.objects.filter(action="document.print").exists()


def test_the_print_stylesheet_sets_the_a4_page():
    css = (Path(settings.BASE_DIR) / "static" / "xinfang" / "css" / "print.css").read_text()
    assert "@page { size: A4; margin: 37mm 26mm 35mm 28mm; }" in css


def test_a_draft_prints_with_its_watermark_and_without_a_number(client, world):
    number = _accepted_with_comment(world)
    document = services.draft(user=world.handler_a, number=number, kind="decision_letter", body=LETTER)
    client.force_login(world.handler_a)
    page = client.get(reverse("documents:print", args=[document.pk])).content.decode()
    assert "is-draft" in page and 'class="watermark"' in page and "（草稿）" in page
    assert "〔" not in page  # no reference yet


def test_the_petition_print_view_has_no_navigation_buttons_or_internal_comments(client, world):
    number = _accepted_with_comment(world)
    client.force_login(world.intake_a)
    detail = client.get(reverse("petitions:detail", args=[number])).content.decode()
    assert INTERNAL in detail and reverse("petitions:print", args=[number]) in detail
    page = client.get(reverse("petitions:print", args=[number])).content.decode()
    _no_chrome(page)
    assert f'id="petition-number">{number}<' in page and 'id="print-timeline"' in page
    assert INTERNAL not in page and "内部意见" not in page


def test_another_county_cannot_print_the_petition(client, world):
    number = _accepted_with_comment(world)
    client.force_login(world.intake_b)
    assert client.get(reverse("petitions:print", args=[number])).status_code == 404


def test_the_pdf_download_is_the_issued_document(client, world):
    pytest.importorskip("pypdf")
    from io import BytesIO

    from pypdf import PdfReader

    document = _issued_letter(world)
    client.force_login(world.handler_a)
    response = client.get(reverse("documents:pdf", args=[document.pk]))
    assert response.status_code == 200 and response["Content-Type"] == "application/pdf"
    assert response.content.startswith(b"%PDF")
    text = "".join(page.extract_text() for page in PdfReader(BytesIO(response.content)).pages)
    assert document.reference in text.replace(" ", "").replace("\n", "")
    assert AuditEvent.objects.filter(action="document.download", object_id=str(document.pk)).exists()


def test_a_draft_downloads_too_named_as_a_draft(client, world):
    number = _accepted_with_comment(world)
    document = services.draft(user=world.handler_a, number=number, kind="decision_letter", body=LETTER)
    client.force_login(world.handler_a)
    docx = client.get(reverse("documents:docx", args=[document.pk]))
    assert docx.status_code == 200 and "%E8%8D%89%E7%A8%BF" in docx["Content-Disposition"]  # 草稿
    pdf = client.get(reverse("documents:pdf", args=[document.pk]))
    assert pdf.status_code == 200 and pdf.content.startswith(b"%PDF")
