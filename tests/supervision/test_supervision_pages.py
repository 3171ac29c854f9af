"""Supervision on the staff pages: the actions in the petition page's panel (posted through the
generic act view), the supervision panel, the lists and their XLSX export, the menu link."""

from __future__ import annotations

import datetime as dt
import io

from django.urls import reverse
from django.utils import timezone
from openpyxl import load_workbook

from xinfang.audit.models import AuditEvent
from xinfang.supervision import services
from xinfang.supervision.models import NoticeKind, NoticeStatus, SupervisionNotice

LATER = (timezone.localdate() + dt.timedelta(days=10)).isoformat()


def page(client, petition) -> str:
    return client.get(reverse("petitions:detail", args=[petition.number])).content.decode()


def act(client, petition, action, **data):
    petition.refresh_from_db()
    url = reverse("workflow:act", args=[petition.number, action])
    return client.post(url, {"version": petition.version, **data}, follow=True)


def test_listed_supervision_round_trip_through_the_panel(client, world, staff, petition):
    client.force_login(world.city_supervisor)
    html = page(client, petition)
    assert 'id="action-supervise"' in html and 'id="supervision-panel"' not in html
    response = act(client, petition, "supervise", supervision_kind="listed",
                   supervision_requirements="请于十日内解决欠薪问题并报告。", supervision_respond_by=LATER,
                   supervision_leader=staff.city_leader.pk, supervision_published="on")  # fmt: skip
    html = response.content.decode()
    assert "已办理：督办" in html and 'id="supervision-panel"' in html and "请于十日内解决欠薪问题" in html
    notice = SupervisionNotice.objects.get()
    assert notice.kind == NoticeKind.LISTED and notice.published and notice.leader == staff.city_leader
    # the unit answers
    client.force_login(world.handler_a)
    html = page(client, petition)
    assert 'id="action-answer_supervision"' in html and 'id="action-supervise"' not in html
    response = act(client, petition, "answer_supervision", supervision_feedback="已督促用人单位发放工资。")
    assert "已办理：督办反馈" in response.content.decode()
    # the issuing office accepts
    client.force_login(world.city_supervisor)
    assert 'id="action-accept_supervision_answer"' in page(client, petition)
    response = act(client, petition, "accept_supervision_answer", comment="认可")
    notice.refresh_from_db()
    assert notice.status == NoticeStatus.ACCEPTED
    assert "已督促用人单位发放工资" in response.content.decode()


def test_refused_panel_action_keeps_input_and_names_the_field(client, world, staff, petition):
    client.force_login(world.city_supervisor)
    past = (timezone.localdate() - dt.timedelta(days=1)).isoformat()
    response = act(client, petition, "supervise", supervision_kind="listed",
                   supervision_requirements="要求文本ABC", supervision_respond_by=past,
                   supervision_leader=staff.city_leader.pk)  # fmt: skip
    html = response.content.decode()
    assert "反馈期限须晚于今天" in html and "要求文本ABC" in html
    response = act(client, petition, "supervise", supervision_kind="listed",
                   supervision_requirements="要求文本ABC", supervision_respond_by=LATER)  # fmt: skip
    assert "挂牌督办须明确一名挂牌领导" in response.content.decode()
    assert not SupervisionNotice.objects.exists()


def test_the_panel_marks_an_overdue_notice(client, world, petition):
    notice = services.supervise(user=world.supervisor_a, number=petition.number, kind=NoticeKind.FORMAL,
                                requirements="请反馈")  # fmt: skip
    past = timezone.localdate() - dt.timedelta(days=1)
    SupervisionNotice.objects.filter(pk=notice.pk).update(respond_by=past)
    client.force_login(world.handler_a)
    html = page(client, petition)
    assert 'class="overdue"' in html.split('id="supervision-panel"')[1]


def test_lists_and_export(client, world, staff, petition):
    services.supervise(user=world.city_supervisor, number=petition.number, kind=NoticeKind.LISTED,
                       requirements="挂牌要求", leader=staff.city_leader)  # fmt: skip
    client.force_login(world.city_supervisor)
    html = client.get(reverse("supervision:index"), follow=True).content.decode()
    assert petition.number in html and 'id="nav-supervision"' in html
    html = client.get(reverse("supervision:list", args=["listed"])).content.decode()
    assert petition.number in html and "挂牌要求" in html
    assert petition.number not in client.get(reverse("supervision:list", args=["review"])).content.decode()
    response = client.get(reverse("supervision:list", args=["listed"]) + "?format=xlsx")
    assert response["Content-Type"].startswith("application/vnd.openxmlformats")
    sheet = load_workbook(io.BytesIO(response.content)).active
    rows = list(sheet.values)
    assert rows[0][0] == "信访编号" and rows[1][0] == petition.number and rows[1][2] == "挂牌督办"
    assert AuditEvent.objects.filter(action="supervision.export").exists()
    # the unit sees the notice addressed to it
    client.force_login(world.handler_a)
    assert petition.number in client.get(reverse("supervision:list", args=["to-answer"])).content.decode()
    assert client.get(reverse("supervision:list", args=["listed"])).status_code == 403  # not a supervisor
    # another county sees nothing of it
    client.force_login(staff.supervisor_b)
    assert petition.number not in client.get(reverse("supervision:list", args=["listed"])).content.decode()
    assert client.get(reverse("supervision:list", args=["nope"])).status_code == 404


def test_portal_shows_the_published_line_only(client, world, staff, registration, petition):
    services.supervise(user=world.city_supervisor, number=petition.number, kind=NoticeKind.FORMAL,
                       requirements="内部督办要求QQ")  # fmt: skip
    url = reverse("portal:track")
    response = client.post(url, {"number": petition.number, "code": registration.query_code}, follow=True)
    html = response.content.decode()
    assert "上级机关已督办" not in html and "内部督办要求QQ" not in html
    SupervisionNotice.objects.update(published=True)
    html = client.get(response.redirect_chain[-1][0] if response.redirect_chain else url).content.decode()
    assert "上级机关已督办" in html and "内部督办要求QQ" not in html
