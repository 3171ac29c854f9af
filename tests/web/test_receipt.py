"""The clerk's receipt (issue #8 §7): a print view of the number, the date received, how to track on
the portal and the query code only when it was just issued."""

from __future__ import annotations

import pytest
from django.urls import reverse

from xinfang.audit.models import AuditEvent

from ..factories import register

pytestmark = pytest.mark.django_db


@pytest.fixture
def registration(world):
    return register(world.a.office, world.intake_a, world.a.township)


def test_detail_page_offers_the_receipt_while_the_code_is_shown(client, world, registration):
    """Right after registration the page shows the code with a 打印回执 button posting it to the
    receipt; the next visit shows neither."""
    client.force_login(world.intake_a)
    number = registration.petition.number
    session = client.session
    session["new_query_code"] = [number, registration.query_code]
    session.save()
    page = client.get(reverse("petitions:detail", args=[number])).content.decode()
    assert 'id="print-receipt"' in page
    assert f'value="{registration.query_code}"' in page
    assert reverse("petitions:receipt", args=[number]) in page
    # the code is shown once
    again = client.get(reverse("petitions:detail", args=[number])).content.decode()
    assert 'id="print-receipt"' not in again and registration.query_code not in again


def test_receipt_prints_the_code_just_issued(client, world, registration):
    """POSTed with the petition's current code, the receipt shows number, date, the portal and
    the code, on a page without the staff menu; printing is audited."""
    client.force_login(world.intake_a)
    petition = registration.petition
    url = reverse("petitions:receipt", args=[petition.number])
    response = client.post(url, {"query_code": registration.query_code})
    assert response.status_code == 200
    page = response.content.decode()
    assert petition.number in page and registration.query_code in page
    assert petition.received_on.strftime("%Y年").lstrip("0") in page
    assert reverse("portal:track") in page and "查询办理情况" in page
    assert "xinfang/css/receipt.css" in page and "mainnav" not in page and "<script>" not in page
    assert response["Cache-Control"] == "no-store"
    event = AuditEvent.objects.get(action="petition.receipt_print")
    assert event.data == {"number": petition.number, "with_code": True}


def test_receipt_never_prints_another_code(client, world, registration):
    """A code that is not the petition's (typed, stale) is left out; a GET has no code either."""
    client.force_login(world.intake_a)
    url = reverse("petitions:receipt", args=[registration.petition.number])
    page = client.post(url, {"query_code": "AAAA-BBBB-CCCC"}).content.decode()
    assert "AAAA-BBBB-CCCC" not in page and 'id="receipt-code"' not in page
    page = client.get(url).content.decode()
    assert 'id="receipt-code"' not in page and registration.petition.number in page
    assert "本回执不含查询码" in page


def test_receipt_is_scoped(client, world, registration):
    """Staff outside the petition's scope get 404; non-casework roles 403."""
    url = reverse("petitions:receipt", args=[registration.petition.number])
    client.force_login(world.handler_b)
    assert client.get(url).status_code == 404
    client.force_login(world.auditor)
    assert client.get(url).status_code == 403
    assert not AuditEvent.objects.filter(action="petition.receipt_print").exists()
