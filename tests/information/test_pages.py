"""The staff pages of information reports: forms that keep what was typed, the step each person
sees, the scope (404), the ledgers with XLSX and print, the A4 print and the DOCX, the workbench
panels, and a list whose query count does not grow with its rows."""

from __future__ import annotations

import datetime as dt
import io

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from docx import Document
from openpyxl import load_workbook

from xinfang.audit.models import AuditEvent
from xinfang.information import services
from xinfang.information.models import InformationReport
from xinfang.information.panels import panels as info_panels

from ..factories import make_id_number
from .conftest import draft, sent

pytestmark = pytest.mark.django_db
TODAY = dt.date(2026, 6, 1)


def test_drafting_form_keeps_what_was_typed_on_error(client, info):
    client.force_login(info.clerk)
    page = client.get(reverse("information:new"))
    assert page.status_code == 200 and "A市信访局" in page.content.decode()
    body = f"张某，身份证{make_id_number()}，多次来访。"
    response = client.post(
        reverse("information:new"),
        {"kind": "digest", "receiver": info.city_office.pk, "title": "关于张某多次来访的情况", "body": body},
    )
    html = response.content.decode()
    assert response.status_code == 200 and "关于张某多次来访的情况" in html and "逐级报送" in html
    assert not InformationReport.objects.exists()
    response = client.post(
        reverse("information:new"),
        {
            "kind": "digest",
            "receiver": info.city_office.pk,
            "title": "关于张某多次来访的情况",
            "body": "张某多次来访。",
        },
    )
    report = InformationReport.objects.get()
    assert response.status_code == 302 and response["Location"] == reverse(
        "information:detail", args=[report.pk]
    )


def test_the_flow_through_the_pages(client, info):
    report = draft(info.clerk)
    client.force_login(info.clerk)
    html = client.get(reverse("information:detail", args=[report.pk])).content.decode()
    assert 'id="submit-form"' in html and "送签后" in html
    client.post(reverse("information:submit", args=[report.pk]), {"approver": ""})
    client.force_login(info.leader)
    html = client.get(reverse("information:detail", args=[report.pk])).content.decode()
    assert 'id="sign-form"' in html and 'id="return-form"' in html
    response = client.post(reverse("information:return", args=[report.pk]), {"reason": ""})
    assert response.status_code == 200 and "has-error" in response.content.decode()
    client.post(reverse("information:sign", args=[report.pk]))
    client.force_login(info.supervisor)
    assert 'id="send-form"' in client.get(reverse("information:detail", args=[report.pk])).content.decode()
    client.post(reverse("information:send", args=[report.pk]))
    report.refresh_from_db()
    assert report.status == "sent" and report.read_at is None
    client.force_login(info.city_clerk)
    html = client.get(reverse("information:detail", args=[report.pk])).content.decode()
    assert 'id="feedback-form"' in html
    report.refresh_from_db()
    assert report.read_by == info.city_clerk  # opening it is the 签收
    client.post(
        reverse("information:feedback", args=[report.pk]), {"use": "used", "feedback": "已编入《信访动态》"}
    )
    client.force_login(info.clerk)
    html = client.get(reverse("information:detail", args=[report.pk])).content.decode()
    assert 'id="information-feedback"' in html and "已编入《信访动态》" in html


def test_scope_and_roles_on_the_pages(client, world, info):
    report = draft(info.clerk)
    for user in (info.outsider, info.city_clerk, world.handler_b):
        client.force_login(user)
        assert client.get(reverse("information:detail", args=[report.pk])).status_code == 404
        assert client.get(reverse("information:docx", args=[report.pk])).status_code == 404
    client.force_login(world.handler_a)
    assert client.get(reverse("information:new")).status_code == 403
    client.force_login(info.leader)
    assert client.post(reverse("information:send", args=[report.pk])).status_code == 403
    client.force_login(world.sysadmin)
    assert client.get(reverse("information:list")).status_code == 403


def test_ledgers_default_to_open_work_and_export(client, info):
    waiting = draft(info.clerk, title="尚未报送的信息")
    done = sent(info, title="已报送的信息")
    client.force_login(info.clerk)
    html = client.get(reverse("information:list")).content.decode()
    assert "尚未报送的信息" in html and "已报送的信息" not in html
    html = client.get(reverse("information:list"), {"status": "sent"}).content.decode()
    assert "已报送的信息" in html and "尚未报送的信息" not in html
    client.force_login(info.city_clerk)
    html = client.get(reverse("information:inbox")).content.decode()
    assert "已报送的信息" in html and "未读" in html
    response = client.get(reverse("information:inbox"), {"export": "xlsx", "state": "all"})
    sheet = load_workbook(io.BytesIO(response.content)).active
    rows = list(sheet.values)
    assert rows[0] == ("期号", "类别", "标题", "报送单位", "签发人", "报送日期", "接收单位", "阅读/采用情况")
    assert rows[1][:5] == (done.issue_label, "信访摘报", "已报送的信息", "甲县信访局", "leader_a")
    assert AuditEvent.objects.filter(action="information.exported", actor=info.city_clerk).exists()
    html = client.get(reverse("information:inbox"), {"print": "1", "state": "all"}).content.decode()
    assert 'id="ledger-table"' in html and "已报送的信息" in html and "mainnav" not in html
    assert waiting.pk != done.pk


def test_print_page_and_docx(client, info):
    report = sent(info, copy_to="县委办")
    client.force_login(info.city_clerk)
    html = client.get(reverse("information:print", args=[report.pk])).content.decode()
    assert "mainnav" not in html and 'id="information-sheet"' in html
    assert "信访信息" in html and f"{report.year}年第1期" in html and "签发人：leader_a" in html
    assert "报送：A市信访局" in html and "抄送：县委办" in html and "某小区业主" in html
    response = client.get(reverse("information:docx", args=[report.pk]))
    assert response.status_code == 200
    text = "\n".join(p.text for p in Document(io.BytesIO(response.content)).paragraphs)
    for expected in ("信访信息", f"{report.year}年第1期", "甲县信访局", "签发人：leader_a", report.title,
                     "县住建局已派员现场答复。", "报送：A市信访局", "抄送：县委办"):  # fmt: skip
        assert expected in text, expected
    assert "{{" not in text and "{%" not in text


def test_docx_of_a_draft_with_figures(client, info):
    from django.utils import timezone

    today = timezone.localdate()
    report = draft(info.clerk, kind="urgent", period_start=today - dt.timedelta(days=30), period_end=today)
    client.force_login(info.clerk)
    doc = Document(io.BytesIO(client.get(reverse("information:docx", args=[report.pk])).content))
    text = "\n".join(p.text for p in doc.paragraphs)
    assert "紧急信息" in text and "（报送时编号）" in text
    cells = [c.text for t in doc.tables for row in t.rows for c in row.cells]
    assert "信访总量（批次）" in cells


def test_ledger_queries_do_not_grow_with_rows(client, info):
    client.force_login(info.clerk)
    sent(info)
    with CaptureQueriesContext(connection) as one:
        client.get(reverse("information:list"), {"status": "all"})
    for _ in range(4):
        sent(info)
    with CaptureQueriesContext(connection) as five:
        client.get(reverse("information:list"), {"status": "all"})
    assert len(five) == len(one)
    client.force_login(info.city_clerk)
    with CaptureQueriesContext(connection) as inbox:
        client.get(reverse("information:inbox"), {"state": "all"})
    assert len(inbox) <= len(one) + 2


def test_workbench_panels(info):
    report = draft(info.clerk, kind="urgent", title="紧急事项")
    services.submit(user=info.clerk, report_id=report.pk)
    panels = {p.key: p for p in info_panels(info.leader, TODAY)}
    assert panels["information-sign"].count == 1 and panels["information-sign"].alert
    assert panels["information-sign"].items[0].title == "【紧急】紧急事项"
    services.sign_off(user=info.leader, report_id=report.pk)  # urgent: sent at once
    inbox = {p.key: p for p in info_panels(info.city_clerk, TODAY)}["information-inbox"]
    assert inbox.count == 1 and inbox.alert and inbox.export_url.endswith("export=xlsx")
    other = draft(info.clerk)
    services.submit(user=info.clerk, report_id=other.pk)
    services.return_report(user=info.leader, report_id=other.pk, reason="请补充数据")
    returned = {p.key: p for p in info_panels(info.clerk, TODAY)}["information-returned"]
    assert returned.count == 1 and not returned.alert and returned.items[0].reason == "请补充数据"
    assert not [p for p in info_panels(info.outsider, TODAY) if p.key.startswith("information")]


def test_drafting_based_on_an_urgent_petition(client, rf, world, info):
    from django.template import Context, Template

    from xinfang.petitions.models import Petition

    from ..factories import register

    petition = register(world.a.office, world.intake_a, world.a.township).petition
    Petition.objects.filter(pk=petition.pk).update(is_urgent=True)
    petition.refresh_from_db()
    client.force_login(info.clerk)
    html = client.get(reverse("information:new"), {"petition": petition.number}).content.decode()
    assert '<option value="urgent" selected>' in html and petition.number in html
    request = rf.get("/")
    request.user = info.clerk
    panel = Template("{% load information %}{% information_panel petition %}").render(
        Context({"request": request, "petition": petition})
    )
    assert "据此拟写紧急信息" in panel and f"?petition={petition.number}" in panel
    request.user = world.handler_a
    assert "information-panel" not in Template(
        "{% load information %}{% information_panel petition %}"
    ).render(Context({"request": request, "petition": petition}))


def test_inbox_filters(client, world, info):
    digest = sent(info, title="摘报甲")
    urgent = sent(info, kind="urgent", title="紧急乙")
    services.mark_read(user=info.city_clerk, report_id=digest.pk)
    client.force_login(info.city_supervisor)
    html = client.get(reverse("information:inbox"), {"state": "unread"}).content.decode()
    assert "紧急乙" in html and "摘报甲" not in html
    html = client.get(reverse("information:inbox"), {"state": "all", "kind": "digest"}).content.decode()
    assert "摘报甲" in html and "紧急乙" not in html
    html = client.get(
        reverse("information:inbox"), {"state": "all", "office": world.b.office.pk}
    ).content.decode()
    assert "摘报甲" in html  # 乙县 never sent anything: not a valid choice, the filter is ignored
    html = client.get(
        reverse("information:inbox"), {"state": "all", "office": world.a.office.pk, "start": "2000-01-01"}
    ).content.decode()
    assert "摘报甲" in html and "紧急乙" in html
    assert urgent.issue_label.endswith("第2期")


def test_the_workbench_shows_the_panels(client, info):
    sent(info, kind="urgent", title="紧急事项")
    client.force_login(info.city_supervisor)
    html = client.get(reverse("workbench:home")).content.decode()
    assert 'id="panel-information-inbox"' in html and "【紧急】紧急事项" in html


def test_the_petition_page_offers_drafting(client, world, info):
    from ..factories import register

    petition = register(world.a.office, world.intake_a, world.a.township).petition
    report = draft(info.clerk, petition_numbers=[petition.number])
    client.force_login(info.clerk)
    html = client.get(reverse("petitions:detail", args=[petition.number])).content.decode()
    assert (
        'id="information-from-petition"' in html and reverse("information:detail", args=[report.pk]) in html
    )
