"""The petitioner's SMS at the milestones of the procedure and the staff bell for work that
arrives: the right texts, to the right people, never the query code, and nothing for a rolled-back
action."""

from __future__ import annotations

import pytest
from django.db import transaction

from tests.factories import make_draft
from tests.procedure import REPLY, new_registration, to_accepted
from xinfang.notifications.models import Notification, OutboxMessage, OutboxStatus
from xinfang.workflow import services

pytestmark = pytest.mark.django_db


def sms_texts(number: str) -> list[str]:
    return list(
        OutboxMessage.objects.filter(petition__number=number, channel="sms")
        .order_by("pk")
        .values_list("body", flat=True)
    )


def test_registration_texts_the_number_never_the_query_code(world, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        registration = services.register(
            draft=make_draft(world.a.township), office=world.a.office, actor=world.intake_a
        )
    # the worker is handed the message only after the commit
    assert len([c for c in callbacks if "enqueue" in c.__qualname__]) == 1
    number = registration.petition.number
    [text] = sms_texts(number)
    assert text.startswith("【甲县信访局】")
    assert number in text
    assert registration.query_code not in text
    message = OutboxMessage.objects.get(petition__number=number)
    # Sent by the worker after the commit (sync in tests): the demo backend marks it sent (demo).
    assert message.status == OutboxStatus.SENT and message.demo
    assert message.recipient_mask == "138****5678"
    assert message.recipient == "13812345678"
    # Encrypted at rest: the column holds no clear number.
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SELECT recipient FROM notifications_outboxmessage WHERE id = %s", [message.pk])
        (raw,) = cursor.fetchone()
    assert "13812345678" not in raw


def test_no_phone_no_sms(world):
    from tests.factories import make_id_number
    from xinfang.petitions.drafts import PetitionerDraft

    draft = make_draft(
        world.a.township,
        petitioners=[PetitionerDraft(name="李四", id_number=make_id_number(), phone="", address="x")],
    )
    registration = services.register(draft=draft, office=world.a.office, actor=world.intake_a)
    assert sms_texts(registration.petition.number) == []


def test_assign_accept_reply_texts_and_staff_bell(world):
    number = new_registration(world).petition.number
    services.assign(user=world.intake_a, number=number, unit=world.a.department)
    # The unit's handler hears of the new assigned petition; the clerk who acted does not.
    note = Notification.objects.get(user=world.handler_a)
    assert number in note.title and note.url.endswith(f"/petitions/{number}/")
    assert not Notification.objects.filter(user=world.intake_a).exists()
    services.unit_accept(user=world.handler_a, number=number)
    services.reply(user=world.handler_a, number=number, **REPLY)
    texts = sms_texts(number)
    assert len(texts) == 3
    assert world.a.department.name in texts[0] and "交办" in texts[0]
    assert "受理" in texts[1] and world.a.department.name in texts[1]
    assert "复查" in texts[2] and "30日" in texts[2]
    # The completion report of an assigned petition goes to the office's supervisors.
    assert Notification.objects.filter(user=world.supervisor_a, kind="completion_report").exists()


def test_extension_request_and_approval(world):
    number = new_registration(world).petition.number
    to_accepted(world, number)
    services.request_extension(user=world.handler_a, number=number, days=30, reasons="需要现场调查取证")
    assert Notification.objects.filter(user=world.leader_a, kind="extension_requested").exists()
    services.approve_extension(user=world.leader_a, number=number)
    text = sms_texts(number)[-1]
    assert "延长" in text and "需要现场调查取证" in text
    assert Notification.objects.filter(user=world.handler_a, kind="approve_extension").exists()


def test_rolled_back_action_leaves_nothing(world, mailoutbox):
    number = new_registration(world).petition.number
    before = OutboxMessage.objects.count()
    with pytest.raises(RuntimeError), transaction.atomic():
        services.assign(user=world.intake_a, number=number, unit=world.a.department)
        assert Notification.objects.filter(user=world.handler_a).exists()
        raise RuntimeError("boom")
    assert not Notification.objects.filter(user=world.handler_a).exists()
    assert OutboxMessage.objects.count() == before


def test_decline_redirect_forward_texts(world):
    declined = new_registration(world).petition.number
    services.decline(user=world.intake_a, number=declined, reasons="不属于信访事项")
    assert "不予受理" in sms_texts(declined)[-1]
    forwarded = new_registration(world).petition.number
    services.forward(user=world.intake_a, number=forwarded, unit=world.a.department)
    text = sms_texts(forwarded)[-1]
    assert "转送" in text and world.a.department.name in text


def test_return_tells_the_office_and_handler_assignment_tells_the_handler(world):
    number = new_registration(world).petition.number
    services.assign(user=world.intake_a, number=number, unit=world.a.department)
    services.return_petition(user=world.handler_a, number=number, reasons="不属于本单位职责")
    assert Notification.objects.filter(user=world.intake_a, kind="returned").exists()
    assert Notification.objects.filter(user=world.supervisor_a, kind="returned").exists()
    assert not Notification.objects.filter(user=world.handler_a, kind="returned").exists()
    other = new_registration(world).petition.number
    to_accepted(world, other)
    from tests.factories import make_staff

    colleague = make_staff("handler_a2", world.a.department, "handler")
    services.assign_handler(user=world.handler_a, number=other, staff=colleague.username, reasons="")
    note = Notification.objects.get(user=colleague, kind="handler_assigned")
    assert other in note.title


def test_review_and_recheck_milestones(world):
    from tests.procedure import RECHECK, to_under_recheck
    from xinfang.workflow import appeals

    number = new_registration(world).petition.number
    to_under_recheck(world, number)
    # The review was requested: the reviewing body (county A's government, its office acts for it)
    # heard of it; the review opinion was texted with the recheck window.
    assert Notification.objects.filter(kind="request_review", user=world.leader_a).exists()
    texts = sms_texts(number)
    assert any("复查意见" in t and "复核" in t for t in texts)
    appeals.recheck(user=world.city_supervisor, number=number, **RECHECK)
    assert "终结" in sms_texts(number)[-1]


def test_supervision_rings_the_unit_and_the_answer_the_office(world):
    from xinfang.supervision import services as supervision
    from xinfang.supervision.models import NoticeKind

    number = new_registration(world).petition.number
    to_accepted(world, number)
    supervision.supervise(
        user=world.supervisor_a,
        number=number,
        kind=NoticeKind.FORMAL,
        requirements="请于期限内反馈办理进展。",
    )
    assert Notification.objects.filter(user=world.handler_a, kind="supervise").exists()
    assert not OutboxMessage.objects.filter(channel="email").exists()  # not listed: bell only
    supervision.answer_supervision(user=world.handler_a, number=number, text="已约谈用人单位，正在补发。")
    assert Notification.objects.filter(user=world.supervisor_a, kind="answer_supervision").exists()
    # Supervision is internal: the petitioner gets no SMS for it.
    assert not any("督办" in t for t in sms_texts(number))


def test_listed_supervision_is_mailed_to_staff_with_an_address(world):
    from xinfang.supervision import services as supervision
    from xinfang.supervision.models import NoticeKind

    world.handler_a.email = "handler.a@xf.example.cn"
    world.handler_a.save(update_fields=["email"])
    number = new_registration(world).petition.number
    to_accepted(world, number)
    supervision.supervise(
        user=world.supervisor_a,
        number=number,
        kind=NoticeKind.LISTED,
        requirements="挂牌督办，请主要负责人亲自督促。",
        leader=world.leader_a,
    )
    assert Notification.objects.filter(user=world.leader_a, kind="supervise").exists()
    [mail] = OutboxMessage.objects.filter(channel="email")
    assert mail.recipient == "handler.a@xf.example.cn" and number in mail.subject


def test_same_event_texts_once_and_edited_template_is_used(world):
    from xinfang.notifications.models import MessageTemplate
    from xinfang.notifications.services import notify_petitioner
    from xinfang.petitions.models import Petition

    number = new_registration(world).petition.number
    petition = Petition.objects.get(number=number)
    MessageTemplate.objects.filter(code="concluded").update(text="事项{number}已终结。")
    assert notify_petitioner(petition, "concluded", event_id=42) == 1
    assert notify_petitioner(petition, "concluded", event_id=42) == 0  # a rerun of the same event
    assert sms_texts(number) == [f"【甲县信访局】事项{number}已终结。"]
    assert notify_petitioner(petition, "no_such_template") == 0


def test_template_validation():
    from django.core.exceptions import ValidationError

    from xinfang.notifications.models import MessageTemplate

    template = MessageTemplate(
        code="x", name="x", placeholders="number portal", text="编号{number}，见{portal}"
    )
    template.clean()
    template.text = "查询码{query_code}"
    with pytest.raises(ValidationError):
        template.clean()
    assert MessageTemplate(text="{number}-{unknown}").render(number="N1") == "N1-{unknown}"


def test_the_phone_is_not_decrypted_when_the_message_is_written(world, monkeypatch):
    """The request only copies ciphertext; the worker decrypts to send."""
    from xinfang.core import crypto
    from xinfang.notifications.services import notify_petitioner
    from xinfang.petitions.models import Petition

    petition = Petition.objects.get(number=new_registration(world).petition.number)

    def refuse(*args, **kwargs):
        raise AssertionError("decrypted while writing the message")

    monkeypatch.setattr(crypto, "decrypt", refuse)
    assert notify_petitioner(petition, "concluded", event_id=7) == 1
    monkeypatch.undo()
    message = OutboxMessage.objects.get(petition=petition, template_code="concluded")
    assert message.recipient == "13812345678" and message.recipient_mask == "138****5678"
