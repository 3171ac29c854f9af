"""The life of an information report through the services: draft, sign-off, return, send, read,
feedback; the issue numbers; urgent notifications; refusals; the scope between sender, receiver
and a third party."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from xinfang.audit.models import AuditEvent
from xinfang.information import services
from xinfang.information.models import InformationReport
from xinfang.notifications.models import Notification, OutboxMessage
from xinfang.organisations.services import create_organisation

from ..factories import make_id_number, make_staff, register
from .conftest import draft, sent

pytestmark = pytest.mark.django_db


def actions(report) -> list[str]:  # noqa: ANN001
    return list(
        AuditEvent.objects.filter(object_id=str(report.pk), action__startswith="information.")
        .order_by("pk")
        .values_list("action", flat=True)
    )


def test_full_flow_with_feedback(world, info):
    report = draft(info.clerk)
    assert report.receiver == info.city_office  # the petition office of the level above
    assert report.status == "draft" and report.sequence is None
    services.submit(user=info.clerk, report_id=report.pk)
    assert Notification.objects.filter(user=info.leader, kind="information").exists()
    services.sign_off(user=info.leader, report_id=report.pk)
    report.refresh_from_db()
    assert report.status == "signed" and report.signed_by == info.leader and report.sequence is None
    services.send(user=info.supervisor, report_id=report.pk)
    report.refresh_from_db()
    assert report.status == "sent" and report.sequence == 1 and report.year == timezone.localdate().year
    assert report.issue_label == f"{report.year}年第1期"
    assert Notification.objects.filter(user=info.city_clerk, kind="information").exists()
    assert services.inbox(info.city_clerk).filter(pk=report.pk).exists()
    services.mark_read(user=info.city_clerk, report_id=report.pk)
    services.mark_read(user=info.city_supervisor, report_id=report.pk)  # the first reader is kept
    report.refresh_from_db()
    assert report.read_by == info.city_clerk
    services.give_feedback(
        user=info.city_leader, report_id=report.pk, use="instructed", feedback="请甲县妥善处理"
    )
    report.refresh_from_db()
    assert report.use == "instructed" and report.feedback_by == info.city_leader
    assert Notification.objects.filter(user=info.clerk, title__contains="领导已批示").exists()
    assert actions(report) == [
        "information.drafted", "information.submitted", "information.signed", "information.sent",
        "information.read", "information.feedback",
    ]  # fmt: skip


def test_return_and_resubmit(info):
    report = draft(info.clerk)
    services.submit(user=info.clerk, report_id=report.pk)
    with pytest.raises(ValidationError) as exc:
        services.return_report(user=info.leader, report_id=report.pk, reason=" ")
    assert "reason" in exc.value.message_dict
    services.return_report(user=info.leader, report_id=report.pk, reason="数据需核实")
    report.refresh_from_db()
    assert report.status == "returned" and report.return_reason == "数据需核实"
    assert Notification.objects.filter(user=info.clerk, title__contains="退回").exists()
    services.update_draft(
        user=info.supervisor, report_id=report.pk, kind="digest", title="新标题", body="新正文"
    )
    services.submit(user=info.clerk, report_id=report.pk)
    report.refresh_from_db()
    assert report.status == "submitted" and report.title == "新标题"


def test_issue_numbers_are_gap_free_per_office_and_year(world, info):
    first = sent(info)
    abandoned = draft(info.clerk)  # a draft never sent takes no number
    services.submit(user=info.clerk, report_id=abandoned.pk)
    second = sent(info)
    other_clerk = make_staff("intake_b_office", world.b.office, "intake")
    make_staff("leader_b", world.b.government, "leader")
    b_report = draft(other_clerk)
    services.submit(user=other_clerk, report_id=b_report.pk)
    services.sign_off(user=type(other_clerk).objects.get(username="leader_b"), report_id=b_report.pk)
    services.send(user=other_clerk, report_id=b_report.pk)
    b_report.refresh_from_db()
    assert (first.sequence, second.sequence, b_report.sequence) == (1, 2, 1)


def test_urgent_rings_the_approver_and_the_receivers_by_sms(world, info):
    for person, number in ((info.leader, "13800000001"), (info.city_supervisor, "13800000002"),
                           (info.city_leader, "13800000003"), (info.city_clerk, "13800000004")):  # fmt: skip
        _set_mobile(person, number)
    report = draft(info.clerk, kind="urgent", title="某地发生群体性聚集")
    services.submit(user=info.clerk, report_id=report.pk)
    assert (
        OutboxMessage.objects.filter(
            channel="sms", recipient_mask__startswith="138", body__contains="待签发"
        ).count()
        == 1
    )
    services.sign_off(user=info.leader, report_id=report.pk)
    report.refresh_from_db()
    assert report.status == "sent" and report.sequence == 1  # urgent: sent at once with the sign-off
    sms = OutboxMessage.objects.filter(channel="sms", body__contains="某地发生群体性聚集")
    assert sms.count() == 3  # approver, city supervisor, city leader; not the city clerk
    assert Notification.objects.filter(user=info.city_clerk).count() == 0
    assert Notification.objects.filter(user=info.city_leader, title__startswith="【紧急】").exists()


def _set_mobile(user, number: str) -> None:  # noqa: ANN001
    from xinfang.petitions.validators import mask_phone

    user.mobile = number
    user.mobile_mask = mask_phone(number)
    user.save(update_fields=["mobile", "mobile_mask"])


def test_id_numbers_are_refused_with_the_reason(info):
    with pytest.raises(ValidationError) as exc:
        draft(info.clerk, body=f"信访人张某（身份证号{make_id_number()}）反映……")
    message = exc.value.message_dict["body"][0]
    assert "身份证号码" in message and "逐级报送" in message and "**********" in message
    fullwidth = make_id_number().translate(str.maketrans("0123456789", "０１２３４５６７８９"))
    with pytest.raises(ValidationError):
        draft(info.clerk, title=f"关于{fullwidth}的报告")
    draft(info.clerk, body="电话13800000000，案件编号XF-990101-2026-000012，金额120000000000元")


def test_bad_input_is_refused_in_chinese(info, world):
    with pytest.raises(ValidationError) as exc:
        services.create_draft(
            user=info.clerk, kind="rumour", title="", body="", receiver=world.b.office.pk,
            petition_numbers=["XF-NOPE"], period_start=dt.date(2026, 1, 1),
        )  # fmt: skip
    errors = exc.value.message_dict
    assert set(errors) >= {"kind", "title", "body", "receiver", "petitions", "period_end"}


def test_roles_and_states_are_checked(world, info):
    with pytest.raises(services.ReportRefused):
        draft(world.handler_a)  # not a petition office's clerk
    with pytest.raises(services.ReportRefused):
        draft(info.leader)  # an approver does not draft
    report = draft(info.clerk)
    with pytest.raises(services.ReportStateError):
        services.sign_off(user=info.leader, report_id=report.pk)  # not submitted yet
    services.submit(user=info.clerk, report_id=report.pk)
    with pytest.raises(services.ReportRefused):
        services.sign_off(user=info.supervisor, report_id=report.pk)  # not a leader
    with pytest.raises(services.ReportStateError):
        services.update_draft(user=info.clerk, report_id=report.pk, kind="digest", title="x", body="y")
    services.sign_off(user=info.leader, report_id=report.pk)
    with pytest.raises(InformationReport.DoesNotExist):
        services.send(user=info.outsider, report_id=report.pk)  # another office: not even found
    with pytest.raises(InformationReport.DoesNotExist):
        services.mark_read(user=info.city_clerk, report_id=report.pk)  # not sent yet: invisible above
    services.send(user=info.clerk, report_id=report.pk)
    with pytest.raises(ValidationError):
        services.give_feedback(user=info.city_clerk, report_id=report.pk, use="instructed", feedback="x")
    with pytest.raises(services.ReportRefused):
        services.give_feedback(user=info.clerk, report_id=report.pk, use="used")  # the sender


def test_a_named_approver_alone_may_sign(world, info):
    other_leader = make_staff("office_leader_a", world.a.office, "leader")
    report = draft(info.clerk)
    services.submit(user=info.clerk, report_id=report.pk, approver=other_leader.pk)
    with pytest.raises(services.ReportRefused):
        services.sign_off(user=info.leader, report_id=report.pk)
    assert not services.awaiting_signature(info.leader).exists()
    assert services.awaiting_signature(other_leader).get() == report
    with pytest.raises(ValidationError):
        services.submit(user=info.clerk, report_id=draft(info.clerk).pk, approver=info.city_leader.pk)


def test_scope_sender_receiver_third_party(world, info):
    pending = draft(info.clerk)
    done = sent(info)
    for user in (info.clerk, info.supervisor, info.leader):
        assert set(services.visible_to(user)) == {pending, done}
    for user in (info.city_clerk, info.city_supervisor, info.city_leader):
        assert list(services.visible_to(user)) == [done]  # never a draft of the level below
    for user in (info.outsider, world.handler_a, world.handler_b, world.sysadmin, world.auditor):
        assert not services.visible_to(user).exists()
    province_office_clerk = make_staff(
        "province_clerk",
        create_organisation(name="省信访局", kind="petition_office", level="province", parent=world.province),
        "intake",
    )  # fmt: skip
    assert not services.visible_to(province_office_clerk).exists()  # two levels up: not its receiver


def test_petitions_linked_must_be_in_scope(world, info):
    mine = register(world.a.office, world.intake_a, world.a.township).petition
    theirs = register(world.b.office, world.intake_b, world.b.township).petition
    report = draft(info.clerk, petition_numbers=[mine.number])
    assert list(report.petitions.all()) == [mine]
    with pytest.raises(ValidationError) as exc:
        draft(info.clerk, petition_numbers=[theirs.number])
    assert theirs.number in exc.value.message_dict["petitions"][0]


def test_figures_are_frozen_in_the_report(info):
    today = timezone.localdate()
    report = draft(info.clerk, period_start=today.replace(day=1), period_end=today)
    assert report.figures["area"] == "甲县人民政府"
    assert [r["metric"] for r in report.figures["rows"]][:2] == ["received", "persons"]
    assert all(isinstance(r["value"], int) for r in report.figures["rows"])


def test_no_receiver_above_the_top(world):
    province_office = create_organisation(
        name="西地省信访局", kind="petition_office", level="province", parent=world.province
    )
    clerk = make_staff("province_intake", province_office, "intake")
    with pytest.raises(ValidationError) as exc:
        draft(clerk)
    assert "没有上一级" in exc.value.message_dict["receiver"][0]
