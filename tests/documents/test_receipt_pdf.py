"""The formal 登记回执 printed at the counter: numbered once, the query code printed only from the
code the petition page just showed, never kept."""

from __future__ import annotations

import io

import pytest
from django.urls import reverse
from pypdf import PdfReader

from tests.procedure import new_registration
from xinfang.core.files import open_plaintext
from xinfang.documents.models import Document

pytestmark = pytest.mark.django_db


def _text(pdf: bytes) -> str:
    """The PDF's text without the spaces and line breaks extraction puts between glyph runs."""
    text = "".join(page.extract_text() for page in PdfReader(io.BytesIO(pdf)).pages)
    return "".join(text.split())


def test_the_counter_prints_the_numbered_receipt_with_the_code_once(client, world):
    registration = new_registration(world)
    number, code = registration.petition.number, registration.query_code
    client.force_login(world.intake_a)
    url = reverse("documents:receipt_pdf", args=[number])
    assert "print-receipt-pdf" not in client.get(reverse("petitions:detail", args=[number])).content.decode()

    response = client.post(url, {"query_code": code})
    assert response.status_code == 200 and response["Cache-Control"] == "no-store"
    text = _text(response.content)
    receipt = Document.objects.get(petition__number=number, kind="receipt")
    assert receipt.reference and receipt.reference in text and number in text
    assert code in text
    with open_plaintext(receipt.docx_file) as reader:
        assert code.encode() not in reader.read()
    assert code not in receipt.body_json

    # A reprint is the same document; a wrong or missing code prints none.
    again = _text(client.post(url, {"query_code": "AAAA-BBBB-CCCC"}).content)
    assert receipt.reference in again and code not in again
    assert Document.objects.filter(petition__number=number, kind="receipt").count() == 1


def test_another_countys_clerk_cannot_print_it(client, world):
    registration = new_registration(world)
    client.force_login(world.intake_b)
    response = client.post(reverse("documents:receipt_pdf", args=[registration.petition.number]),
                           {"query_code": registration.query_code})  # fmt: skip
    assert response.status_code == 404
    assert not Document.objects.filter(kind="receipt").exists()
