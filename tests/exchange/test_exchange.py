"""Referrals from above and the report back (issue #11 §4): receiving, scope, refusals, the report
as a document, delivery with retries, and the staff pages."""

from __future__ import annotations

import base64
import datetime as dt
from unittest import mock

import pytest
from django.core.exceptions import PermissionDenied
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from xinfang.audit.models import AuditEvent
from xinfang.exchange import services, tasks
from xinfang.exchange.models import (
    Delivery,
    DeliveryStatus,
    OutboundReferral,
    OutboundStatus,
    Peer,
    Referral,
    ReferralStatus,
)
from xinfang.petitions.choices import Channel

from ..factories import register

pytestmark = pytest.mark.django_db

URL = "/api/v1/referrals"


def body(world, **overrides):
    due = (timezone.localdate() + dt.timedelta(days=20)).isoformat()
    return {
        "case_number": "SX-2026-0001",
        "upper_organisation": "西地省信访局",
        "title": "拖欠工资",
        "content": "请求某厂支付拖欠的三个月工资。",
        "purpose": "complaint",
        "category": "0201",
        "locality": "990101",
        "due_on": due,
        "report_required": True,
        "petitioners": [{"name": "李四", "phone": "13800138000"}],
        **overrides,
    }


def test_a_referral_is_registered_once_with_the_upper_case_number(world, api, upper):
    peer, token = upper
    first = api.post(URL, body(world), token=token, headers={"Idempotency-Key": "ref-1"})
    assert first.status_code == 201, first.content.decode()
    number = first.json()["number"]
    referral = Referral.objects.select_related("petition").get()
    assert referral.petition.channel == Channel.REFERRAL and referral.petition.number == number
    assert referral.upper_case_number == "SX-2026-0001" and referral.peer == peer
    assert referral.petition.office == world.a.office
    # a retry with the same key replays; without it, the same case number answers the same petition
    again = api.post(URL, body(world), token=token, headers={"Idempotency-Key": "ref-1"})
    assert again.status_code == 201 and again.json()["number"] == number
    other = api.post(URL, body(world), token=token, headers={"Idempotency-Key": "ref-2"})
    assert other.status_code == 200 and other.json()["number"] == number
    assert Referral.objects.count() == 1
    assert AuditEvent.objects.filter(action="exchange.receive").count() == 1


def test_an_account_that_is_no_peer_is_refused(world, api, upper, token_of):
    response = api.post(URL, body(world), token=token_of(world.intake_a))
    assert response.status_code == 403 and response.json()["error"]["code"] == "forbidden"
    peer, token = upper
    Peer.objects.filter(pk=peer.pk).update(is_enabled=False)
    assert api.post(URL, body(world), token=token).status_code == 403
    assert not Referral.objects.exists()


def test_bad_input_is_a_422_in_chinese(world, api, upper):
    _peer, token = upper
    response = api.post(URL, body(world, category="nope"), token=token)
    assert response.status_code == 422
    assert response.json()["error"]["fields"]["category"] == ["请选择问题分类。"]


def test_received_referrals_are_scoped(world, api, upper, token_of, client):
    _peer, token = upper
    api.post(URL, body(world), token=token)
    referral = Referral.objects.get()
    mine = api.get(f"{URL}/received", token=token_of(world.supervisor_a)).json()
    assert [r["upper_case_number"] for r in mine] == ["SX-2026-0001"]
    assert api.get(f"{URL}/received", token=token_of(world.intake_b)).json() == []
    client.force_login(world.intake_b)
    assert client.get(reverse("exchange:received_detail", args=[referral.pk])).status_code == 404
    client.force_login(world.supervisor_a)
    page = client.get(reverse("exchange:received_detail", args=[referral.pk])).content.decode()
    assert "SX-2026-0001" in page and "起草报告" in page


def _received(world, api, upper):
    _peer, token = upper
    api.post(URL, body(world), token=token)
    return Referral.objects.select_related("petition").get()


def test_the_report_is_a_document_and_issuing_it_queues_its_delivery(world, api, upper, on_commit):
    referral = _received(world, api, upper)
    report = services.draft_report(
        user=world.supervisor_a, referral=referral, process="约谈", result="已支付"
    )
    assert Referral.objects.get().status == ReferralStatus.DRAFTED and not report.document_number
    services.approve_report(user=world.leader_a, report=report)
    with mock.patch.object(tasks, "_post", return_value=(200, {})) as post, on_commit(execute=True):
        report = services.issue_report(user=world.supervisor_a, report=report)
    assert report.document_number.endswith(f"〔{timezone.localdate().year}〕1号")
    assert base64.b64decode(report.docx)[:2] == b"PK"
    referral.refresh_from_db()
    assert referral.status == ReferralStatus.REPORTED and referral.reported_on == timezone.localdate()
    report.refresh_from_db()
    assert report.delivered_at is not None
    assert post.call_count == 1
    delivery = Delivery.objects.get()
    assert delivery.path == "/api/v1/referrals/SX-2026-0001/report" and delivery.status == DeliveryStatus.SENT
    payload = services.report_payload(report)
    assert payload["document_number"] == report.document_number and payload["file_base64"]
    assert AuditEvent.objects.filter(action="exchange.report").count() == 1


def test_a_report_cannot_be_issued_twice_and_bad_roles_are_refused(world, api, upper):
    referral = _received(world, api, upper)
    with pytest.raises(PermissionDenied):
        services.draft_report(user=world.handler_b, referral=referral, process="x", result="y")
    with pytest.raises(services.ValidationError):
        services.draft_report(user=world.supervisor_a, referral=referral, process="x", result=" ")
    report = services.draft_report(user=world.supervisor_a, referral=referral, process="x", result="y")
    with pytest.raises(PermissionDenied):
        services.approve_report(user=world.supervisor_a, report=report)
    with mock.patch.object(tasks, "_post", return_value=(200, {})):
        services.issue_report(user=world.supervisor_a, report=report)
    referral.refresh_from_db()
    with pytest.raises(services.ExchangeRefused):
        services.draft_report(user=world.supervisor_a, referral=referral, process="x", result="y")
    with pytest.raises(services.ExchangeRefused):
        services.issue_report(user=world.supervisor_a, report=report)


def test_the_upper_level_accepts_or_returns_the_report(world, api, upper):
    _peer, token = upper
    referral = _received(world, api, upper)
    path = f"{URL}/SX-2026-0001/report"
    assert api.post(f"{path}/accept", {}, token=token).status_code == 409  # nothing reported yet
    with mock.patch.object(tasks, "_post", return_value=(200, {})):
        report = services.draft_report(user=world.supervisor_a, referral=referral, process="x", result="y")
        services.issue_report(user=world.supervisor_a, report=report)
    returned = api.post(f"{path}/return", {"reason": "请补充信访人意见"}, token=token)
    assert returned.status_code == 200 and returned.json()["status"] == "returned"
    referral.refresh_from_db()
    assert referral.return_reason == "请补充信访人意见" and referral.reports.get().decision == "returned"
    assert api.post(f"{URL}/UNKNOWN/report/accept", {}, token=token).status_code == 404


def test_refer_delivers_and_retries_after_a_failure(world, api, upper, token_of, on_commit):
    peer, _token = upper
    petition = register(world.a.office, world.intake_a, world.a.government).petition
    due = timezone.localdate() + dt.timedelta(days=10)
    with (
        mock.patch.object(tasks, "_post", side_effect=OSError("connection refused")),
        on_commit(execute=True),
    ):
        outbound = services.refer(user=world.supervisor_a, number=petition.number, peer=peer, due_on=due)
    outbound.refresh_from_db()
    assert outbound.status == OutboundStatus.FAILED and "connection refused" in outbound.last_error
    delivery = Delivery.objects.get()
    assert delivery.status == DeliveryStatus.PENDING and delivery.attempts == 1
    assert delivery.next_attempt_at > timezone.now()
    assert tasks.deliver_pending() == 0  # waits for its retry time
    with mock.patch.object(tasks, "_post", return_value=(201, {"number": "XF-Y-1"})) as post:
        assert tasks.deliver_pending(force=True) == 1
    sent = post.call_args.args[0]
    assert sent.idempotency_key == f"referral-{outbound.pk}"
    outbound.refresh_from_db()
    assert outbound.status == OutboundStatus.RECEIVED and outbound.remote_number == "XF-Y-1"
    # refused: past deadline, a second referral to the same peer, a clerk of another office
    with pytest.raises(services.ValidationError):
        services.refer(
            user=world.supervisor_a, number=petition.number, peer=peer, due_on=timezone.localdate()
        )
    with pytest.raises(services.ExchangeRefused):
        services.refer(user=world.supervisor_a, number=petition.number, peer=peer, due_on=due)
    with pytest.raises(Exception):  # noqa: B017,PT011 — not found for another county's clerk
        services.refer(user=world.intake_b, number=petition.number, peer=peer, due_on=due)


def test_a_report_from_the_peer_is_recorded_once(world, api, upper, on_commit):
    peer, token = upper
    petition = register(world.a.office, world.intake_a, world.a.government).petition
    due = timezone.localdate() + dt.timedelta(days=10)
    with mock.patch.object(tasks, "_post", return_value=(201, {"number": "XF-Y-1"})):
        outbound = services.refer(user=world.supervisor_a, number=petition.number, peer=peer, due_on=due)
    report = {"text": "已办结", "document_number": "甲报〔2026〕1号", "file_base64": "UEsDBA=="}
    first = api.post(f"{URL}/{petition.number}/report", report, token=token)
    assert first.status_code == 200 and first.json()["status"] == "reported"
    assert api.post(f"{URL}/{petition.number}/report", report, token=token).status_code == 409
    assert api.post(f"{URL}/XF-NONE/report", report, token=token).status_code == 404
    assert petition.events.filter(kind=services.EVENT_REPORT_RECEIVED).count() == 1
    outbound.refresh_from_db()
    assert outbound.report_number == "甲报〔2026〕1号"
    with mock.patch.object(tasks, "_post", return_value=(200, {})), on_commit(execute=True):
        services.decide_report(user=world.supervisor_a, outbound=outbound, accepted=False, reason="请补充")
    assert OutboundReferral.objects.get().status == OutboundStatus.RETURNED
    assert Delivery.objects.filter(kind="return", status=DeliveryStatus.SENT).count() == 1
    # the timeline names each step in words, not by its code
    labels = [str(e.get_kind_display()) for e in petition.events.order_by("pk")]
    assert {"交办下级平台", "收到下级办理情况报告", "审核下级办理情况报告"} <= set(labels)


def test_ledgers_export_and_print_with_fixed_queries(world, api, upper, client):
    _peer, token = upper
    api.post(URL, body(world), token=token)
    client.force_login(world.supervisor_a)
    url = reverse("exchange:received")
    with CaptureQueriesContext(connection) as one:
        assert client.get(url).status_code == 200
    for n in range(2, 6):
        api.post(URL, body(world, case_number=f"SX-{n}"), token=token)
    with CaptureQueriesContext(connection) as many:
        html = client.get(url).content.decode()
    assert len(many.captured_queries) == len(one.captured_queries)
    assert "SX-5" in html
    xlsx = client.get(url + "?format=xlsx")
    assert xlsx.status_code == 200 and xlsx["Content-Type"].startswith("application/vnd.openxml")
    assert "上级编号" in client.get(url + "?format=print").content.decode()
    assert client.get(reverse("exchange:sent")).status_code == 200
    client.force_login(world.sysadmin)
    assert client.get(reverse("exchange:peers")).status_code == 200
    client.force_login(world.supervisor_a)
    assert client.get(reverse("exchange:peers")).status_code == 403


def test_the_sysadmin_saves_a_peer_and_the_token_is_never_shown(world, client):
    client.force_login(world.sysadmin)
    response = client.post(
        reverse("exchange:peer_new"),
        {
            "name": "乙县平台",
            "base_url": "https://b.example",
            "token": "xf_secret_token_value",
            "is_enabled": "1",
        },
    )
    assert response.status_code == 302
    peer = Peer.objects.get(name="乙县平台")
    assert peer.token == "xf_secret_token_value"
    page = client.get(reverse("exchange:peer_edit", args=[peer.pk])).content.decode()
    assert "xf_secret_token_value" not in page
    bad = client.post(reverse("exchange:peer_new"), {"name": "", "base_url": "ftp://x"})
    assert "请填写名称" in bad.content.decode()


def test_the_workbench_panel_lists_open_referrals_with_lateness(world, api, upper):
    from xinfang.exchange.panels import received_panel

    _received(world, api, upper)
    Referral.objects.update(upper_due_on=timezone.localdate() - dt.timedelta(days=1))
    [panel] = received_panel(world.supervisor_a, timezone.localdate())
    assert panel.count == 1 and panel.alert and panel.items[0].reference
    assert received_panel(world.intake_b, timezone.localdate()) == []


def test_the_petition_page_shows_the_referral_and_offers_to_refer(world, api, upper, client):
    referral = _received(world, api, upper)
    client.force_login(world.supervisor_a)
    html = client.get(reverse("petitions:detail", args=[referral.petition.number])).content.decode()
    assert 'id="exchange-panel"' in html and "SX-2026-0001" in html and 'id="exchange-refer"' in html
    client.force_login(world.handler_a)
    assert (
        'id="exchange-refer"'
        not in client.get(reverse("petitions:detail", args=[referral.petition.number])).content.decode()
    )


def test_the_report_is_drafted_approved_and_issued_on_the_referral_page(world, api, upper, client):
    referral = _received(world, api, upper)
    url = reverse("exchange:received_detail", args=[referral.pk])
    client.force_login(world.supervisor_a)
    response = client.post(url, {"action": "draft", "process": "约谈企业", "result": ""})
    html = response.content.decode()
    assert "请填写办理结果" in html and "约谈企业" in html  # the form keeps what was typed
    assert client.post(url, {"action": "draft", "process": "约谈企业", "result": "已支付"}).status_code == 302
    report = referral.reports.get()
    docx = client.get(reverse("exchange:report_file", args=[referral.pk, report.pk]))
    assert docx.status_code == 200 and docx.content[:2] == b"PK"
    with mock.patch.object(tasks, "_post", return_value=(200, {})):
        response = client.post(url, {"action": "issue", "report": report.pk})
    assert response.status_code == 302
    report.refresh_from_db()
    assert report.status == "issued" and report.document_number in client.get(url).content.decode()


def test_the_staff_api_refers_and_refuses(world, api, upper, token_of):
    peer, _token = upper
    petition = register(world.a.office, world.intake_a, world.a.government).petition
    due = (timezone.localdate() + dt.timedelta(days=10)).isoformat()
    refer = {"number": petition.number, "peer": peer.pk, "due_on": due}
    # a unit's handler may not refer; another county does not see the petition; a past deadline is a 422
    assert api.post(f"{URL}/sent", refer, token=token_of(world.handler_a)).status_code in {403, 404}
    assert api.post(f"{URL}/sent", refer, token=token_of(world.intake_b)).status_code == 404
    past = {**refer, "due_on": timezone.localdate().isoformat()}
    bad = api.post(f"{URL}/sent", past, token=token_of(world.supervisor_a))
    assert bad.status_code == 422 and "due_on" in bad.json()["error"]["fields"]
    with mock.patch.object(tasks, "_post", return_value=(201, {"number": "XF-Y-9"})):
        made = api.post(f"{URL}/sent", refer, token=token_of(world.supervisor_a))
    assert made.status_code == 201 and made.json()["status"] == "sent"
    again = api.post(f"{URL}/sent", refer, token=token_of(world.supervisor_a))
    assert again.status_code == 409 and again.json()["error"]["code"] == "already_referred"
    outbound_id = made.json()["id"]
    assert api.get(f"{URL}/sent/{outbound_id}", token=token_of(world.intake_b)).status_code == 404
    listed = api.get(f"{URL}/sent", token=token_of(world.supervisor_a), number=petition.number).json()
    assert [o["id"] for o in listed] == [outbound_id]
    nothing = api.post(f"{URL}/sent/{outbound_id}/accept", {}, token=token_of(world.supervisor_a))
    assert nothing.status_code == 409 and nothing.json()["error"]["code"] == "no_pending_report"
