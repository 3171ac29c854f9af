"""The staff pages: the ledger (default open, filters, XLSX, print, no N+1), the dispute page and
its forms (typed input kept on error), refusals (another county's dispute is 404, a wrong role 403)."""

from __future__ import annotations

import datetime as dt
import io

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from openpyxl import load_workbook

from xinfang.audit.models import AuditEvent
from xinfang.screening import services
from xinfang.screening.models import Dispute

pytestmark = pytest.mark.django_db


def test_the_ledger_shows_open_disputes_masked_and_filters(client, world, make_dispute, today):
    open_one = make_dispute(title="物业费纠纷", kind="property")
    late = make_dispute(
        title="拆迁补偿纠纷",
        kind="demolition",
        risk="high",
        screened_on=today - dt.timedelta(days=30),
        deadline=today - dt.timedelta(days=3),
    )
    done = make_dispute(title="已调解的邻里纠纷")
    services.transition(actor=world.intake_a, dispute=done, to="resolved", note="调解成功")
    client.force_login(world.supervisor_a)
    html = client.get(reverse("screening:ledger")).content.decode()
    assert open_one.number in html and late.number in html and done.number not in html
    assert "138****5678" in html and "13812345678" not in html
    assert "已逾期" in html
    html = client.get(reverse("screening:ledger"), {"overdue": "1"}).content.decode()
    assert late.number in html and open_one.number not in html
    html = client.get(reverse("screening:ledger"), {"status": "all", "kind": "neighbours"}).content.decode()
    assert done.number in html and late.number not in html
    html = client.get(reverse("screening:ledger"), {"risk": "high"}).content.decode()
    assert late.number in html and open_one.number not in html


def test_the_ledger_exports_and_prints(client, world, make_dispute):
    dispute = make_dispute()
    client.force_login(world.supervisor_a)
    response = client.get(reverse("screening:ledger"), {"format": "xlsx"})
    sheet = load_workbook(io.BytesIO(response.content)).active
    rows = list(sheet.values)
    assert rows[0][:3] == ("编号", "纠纷名称", "类别") and "是否逾期" in rows[0]
    assert rows[1][0] == dispute.number and "138****5678" in rows[1][4] and "13812345678" not in rows[1][4]
    assert AuditEvent.objects.filter(action="dispute.exported").exists()
    html = client.get(reverse("screening:ledger"), {"format": "print"}).content.decode()
    assert dispute.number in html and "print.css" in html and "mainnav" not in html


def test_the_ledger_reads_in_a_fixed_number_of_queries(client, world, make_dispute):
    make_dispute()
    client.force_login(world.supervisor_a)
    url = reverse("screening:ledger")
    client.get(url)
    with CaptureQueriesContext(connection) as few:
        client.get(url)
    for i in range(6):
        make_dispute(title=f"纠纷{i}", leader=world.leader_a)
    with CaptureQueriesContext(connection) as many:
        client.get(url)
    assert len(many) == len(few)


def test_other_counties_and_administrators_are_refused(client, world, make_dispute):
    dispute = make_dispute()
    client.force_login(world.intake_b)
    assert client.get(reverse("screening:detail", args=[dispute.number])).status_code == 404
    assert dispute.number not in client.get(reverse("screening:ledger")).content.decode()
    client.force_login(world.sysadmin)
    assert client.get(reverse("screening:ledger")).status_code == 403


def test_the_create_form_keeps_what_was_typed_and_registers(client, world):
    client.force_login(world.intake_a)
    url = reverse("screening:new")
    data = {"title": "劳务费纠纷", "kind": "labour", "risk": "high", "source": "grid",
            "organisation": world.a.township.pk, "party1_name": "王五", "party1_id_number": "12345",
            "description": "工地拖欠劳务费"}  # fmt: skip
    html = client.post(url, data).content.decode()
    assert "身份证号码" in html and "工地拖欠劳务费" in html and "劳务费纠纷" in html
    assert not Dispute.objects.exists()
    data["party1_id_number"] = ""
    data["party1_phone"] = "13900001111"
    response = client.post(url, data)
    dispute = Dispute.objects.get()
    assert response.status_code == 302 and response.url == reverse("screening:detail", args=[dispute.number])
    html = client.get(response.url).content.decode()
    assert "139****1111" in html and "13900001111" not in html and "劳务费纠纷" in html


def test_the_detail_page_changes_status_with_a_note_and_reveals_with_audit(client, world, make_dispute):
    dispute = make_dispute()
    client.force_login(world.intake_a)
    url = reverse("screening:status", args=[dispute.number])
    html = client.post(url, {"to": "in_resolution", "note": ""}).content.decode()
    assert "这个字段是必须的" in html
    response = client.post(url, {"to": "in_resolution", "note": "司法所介入调解"})
    assert response.status_code == 302
    html = client.get(response.url).content.decode()
    assert "化解中" in html and "司法所介入调解" in html
    party = dispute.parties.get(position=0)
    html = client.post(reverse("screening:reveal", args=[dispute.number, party.pk])).content.decode()
    assert "13812345678" in html
    assert AuditEvent.objects.filter(action="dispute.party_revealed").exists()


def test_a_handler_of_another_unit_may_read_but_not_change(client, world, make_dispute):
    dispute = make_dispute(organisation=world.a.department)
    other = make_dispute()
    client.force_login(world.handler_a)
    assert client.get(reverse("screening:detail", args=[dispute.number])).status_code == 200
    assert client.get(reverse("screening:detail", args=[other.number])).status_code == 404
    client.force_login(world.leader_a)  # the county government's leader sees the whole county
    assert client.get(reverse("screening:detail", args=[other.number])).status_code == 200
