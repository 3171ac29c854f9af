"""SMS to staff for urgent items (issue #8 §4): a mobile on record, encrypted, masked; urgent
notifications, escalations and overdue work reach it through the outbox, never in clear."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core.exceptions import ValidationError
from django.db import connection

from xinfang.audit.models import AuditEvent
from xinfang.notifications.models import Channel, OutboxMessage
from xinfang.notifications.services import notify
from xinfang.organisations.models import User
from xinfang.organisations.services import create_staff, set_mobile
from xinfang.petitions.models import Petition
from xinfang.supervision.urging import run_urge_pass

from ..factories import PASSWORD
from ..procedure import new_registration, to_accepted

pytestmark = pytest.mark.django_db
TUE = dt.date(2026, 12, 1)


def test_a_mobile_is_validated_encrypted_masked_and_audited_without_the_number(world):
    with pytest.raises(ValidationError) as refused:
        set_mobile(user=world.handler_a, mobile="12345", actor=world.secadmin)
    assert "mobile" in refused.value.message_dict
    set_mobile(user=world.handler_a, mobile="139-0000-1234", actor=world.secadmin)
    user = User.objects.get(pk=world.handler_a.pk)
    assert user.mobile == "13900001234" and user.mobile_mask == "139****1234"
    with connection.cursor() as cursor:
        cursor.execute("SELECT mobile FROM organisations_user WHERE id = %s", [user.pk])
        assert "13900001234" not in cursor.fetchone()[0]
    event = AuditEvent.objects.filter(action="user.mobile").latest("id")
    assert event.data == {"set": True} and "1234" not in str(event.data)


def test_an_urgent_notification_texts_staff_with_a_mobile_and_only_them(world):
    set_mobile(user=world.handler_a, mobile="13900001234")
    petition = new_registration(world).petition
    notify([world.handler_a, world.supervisor_a], kind="test", title="挂牌督办", body="请于三日内反馈",
           petition=petition, dedupe_key="urgent:1", sms=True)  # fmt: skip
    sms = OutboxMessage.objects.filter(channel=Channel.SMS, dedupe_key__startswith="urgent:1")
    assert [m.recipient for m in sms] == ["13900001234"]  # decrypted by the field, stored encrypted
    assert sms.get().recipient_mask == "139****1234" and "挂牌督办" in sms.get().body
    # the same notification again: nothing more
    notify(
        [world.handler_a], kind="test", title="挂牌督办", petition=petition, dedupe_key="urgent:1", sms=True
    )
    assert sms.count() == 1
    # not urgent: the bell only
    notify([world.handler_a], kind="test", title="普通提醒", petition=petition, dedupe_key="plain:1")
    assert not OutboxMessage.objects.filter(channel=Channel.SMS, dedupe_key__startswith="plain:1").exists()


def test_overdue_work_texts_its_handler_once_a_day(world):
    set_mobile(user=world.handler_a, mobile="13900001234")
    petition = new_registration(world).petition
    to_accepted(world, petition.number)
    Petition.objects.filter(pk=petition.pk).update(due_on=TUE - dt.timedelta(days=5), handler=world.handler_a)
    run_urge_pass(today=TUE)
    run_urge_pass(today=TUE)
    sms = OutboxMessage.objects.filter(channel=Channel.SMS, template_code="urge_overdue_sms")
    assert sms.count() == 1
    assert sms.get().recipient == "13900001234" and "已超期 1 件" in sms.get().body


def test_the_security_administrator_records_email_and_mobile_when_creating_an_account(client, world):
    client.force_login(world.secadmin)
    response = client.post(
        "/staff/organisations/staff/new/",
        {"username": "new_handler", "full_name": "新承办人", "organisation": world.a.department.pk,
         "roles": ["handler"], "password": PASSWORD + "x9!", "email": "new@example.cn", "mobile": "abc",
         "reason": "新进人员"},
    )  # fmt: skip
    assert response.status_code == 200 and "请输入11位手机号码" in response.content.decode()
    assert not User.objects.filter(username="new_handler").exists()
    user = create_staff(username="new_handler2", password=PASSWORD + "x9!", organisation=world.a.department,
                        roles=[], email="n2@example.cn", mobile="13900005678")  # fmt: skip
    assert user.email == "n2@example.cn" and user.mobile_mask == "139****5678"


def test_the_security_administrator_changes_an_accounts_email_and_mobile(client, world):
    """On the account's security page (人员与权限 → 登录安全): a bad value changes nothing; a blank
    mobile keeps the number on record (the page shows only its mask); the box removes it."""
    url = f"/staff/accounts/staff/{world.handler_a.pk}/contact/"
    client.force_login(world.secadmin)
    page = client.get(f"/staff/accounts/staff/{world.handler_a.pk}/").content.decode()
    assert 'id="member-contact"' in page
    client.post(url, {"email": "bad", "mobile": "13900001234"})
    user = User.objects.get(pk=world.handler_a.pk)
    assert user.email == "" and user.mobile_mask == ""
    client.post(url, {"email": "handler@example.cn", "mobile": "13900001234"})
    user.refresh_from_db()
    assert user.email == "handler@example.cn" and user.mobile == "13900001234"
    client.post(url, {"email": "handler2@example.cn", "mobile": ""})
    user.refresh_from_db()
    assert user.email == "handler2@example.cn" and user.mobile == "13900001234"  # kept
    assert "139****1234" in client.get(f"/staff/accounts/staff/{world.handler_a.pk}/").content.decode()
    client.post(url, {"email": "handler2@example.cn", "mobile": "", "remove_mobile": "on"})
    user.refresh_from_db()
    assert user.mobile == "" and user.mobile_mask == ""
    assert AuditEvent.objects.filter(action="user.email", actor=world.secadmin).exists()
    # nobody but the security administrator
    client.force_login(world.supervisor_a)
    assert client.post(url, {"email": "x@example.cn"}).status_code == 403
