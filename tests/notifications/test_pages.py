"""The bell, the notification list, marking as read, the outbox page and the template editor:
allowed and refused."""

from __future__ import annotations

import pytest
from django.urls import reverse

from tests.factories import make_draft
from tests.procedure import new_registration
from xinfang.audit.models import AuditEvent
from xinfang.notifications.models import MessageTemplate, Notification, OutboxMessage, OutboxStatus
from xinfang.notifications.services import notify, unread_count

pytestmark = pytest.mark.django_db


def test_bell_shows_the_unread_count(client, world, django_assert_max_num_queries):
    notify([world.handler_a], kind="test", title="新转送件A", url="/staff/")
    notify([world.handler_a, world.intake_a], kind="test", title="新转送件B")
    client.force_login(world.handler_a)
    page = client.get(reverse("notifications:list")).content.decode()
    assert 'id="notification-count">2<' in page
    assert "新转送件A" in page and "新转送件B" in page
    client.force_login(world.sysadmin)
    page = client.get(reverse("notifications:list")).content.decode()
    assert 'id="notification-count"' not in page
    assert 'id="notifications-empty"' in page and "暂无消息" in page
    assert "新转送件A" not in page


def test_open_marks_read_and_redirects_within_the_site(client, world):
    notify([world.handler_a], kind="test", title="t", url="/staff/workbench/")
    notify([world.handler_a], kind="test", title="evil", url="https://evil.example/")
    own, evil = Notification.objects.filter(user=world.handler_a).order_by("pk")
    client.force_login(world.handler_a)
    response = client.get(reverse("notifications:open", args=[own.pk]))
    assert response.status_code == 302 and response["Location"] == "/staff/workbench/"
    own.refresh_from_db()
    assert own.read_at is not None
    response = client.get(reverse("notifications:open", args=[evil.pk]))
    assert response["Location"] == reverse("notifications:list")
    # Someone else's notification: not found, and it stays unread.
    notify([world.intake_a], kind="test", title="other")
    other = Notification.objects.get(user=world.intake_a)
    assert client.get(reverse("notifications:open", args=[other.pk])).status_code == 404
    other.refresh_from_db()
    assert other.read_at is None


def test_mark_selected_and_all_read(client, world):
    notify([world.handler_a], kind="a", title="一")
    notify([world.handler_a], kind="b", title="二")
    notify([world.intake_a], kind="c", title="三")
    one, two = Notification.objects.filter(user=world.handler_a).order_by("pk")
    theirs = Notification.objects.get(user=world.intake_a)
    client.force_login(world.handler_a)
    client.post(reverse("notifications:read"), {"ids": [one.pk, theirs.pk]})
    assert unread_count(world.handler_a) == 1
    assert unread_count(world.intake_a) == 1  # another user's id is ignored
    client.post(reverse("notifications:read"), {"all": "1"})
    assert unread_count(world.handler_a) == 0
    assert unread_count(world.intake_a) == 1
    page = client.get(reverse("notifications:list") + "?unread=1").content.decode()
    assert "没有未读消息" in page


def test_anonymous_goes_to_login(client):
    response = client.get(reverse("notifications:list"))
    assert response.status_code == 302 and "/login/" in response["Location"]


def test_notify_dedupes_and_skips_inactive(world):
    assert notify([world.handler_a, world.handler_a.pk], kind="k", title="t", dedupe_key="x:1") == 1
    assert notify([world.handler_a], kind="k", title="t", dedupe_key="x:1") == 0
    world.intake_a.is_active = False
    world.intake_a.save(update_fields=["is_active"])
    assert notify([world.intake_a], kind="k", title="t") == 0
    assert Notification.objects.filter(user=world.handler_a).count() == 1


def test_outbox_page_masked_retry_audited(client, world, django_capture_on_commit_callbacks):
    number = new_registration(world).petition.number
    from xinfang.petitions.models import Petition

    petition = Petition.objects.get(number=number)
    message = OutboxMessage.objects.create(
        channel="sms",
        recipient="13900001111",
        recipient_mask="139****1111",
        body="测试",
        petition=petition,
        status=OutboxStatus.FAILED,
        attempts=6,
        last_error="107 手机号码错误",
    )
    client.force_login(world.supervisor_a)
    page = client.get(reverse("notifications:outbox")).content.decode()
    assert "139****1111" in page and "13900001111" not in page and "107 手机号码错误" in page
    # A supervisor of another county does not see it, nor may retry it.
    client.force_login(world.intake_b)
    assert client.get(reverse("notifications:outbox")).status_code == 403
    client.force_login(world.supervisor_a)
    with django_capture_on_commit_callbacks(execute=True):
        client.post(reverse("notifications:retry", args=[message.pk]))
    message.refresh_from_db()
    assert message.status == OutboxStatus.SENT and message.demo  # the demo gateway took it
    assert AuditEvent.objects.filter(action="notifications.outbox_retry", object_id=str(message.pk)).exists()


def test_template_editing_refuses_unknown_placeholders(client, world):
    url = reverse("notifications:template_edit", args=["registered"])
    client.force_login(world.supervisor_a)
    assert client.get(url).status_code == 403
    client.force_login(world.sysadmin)
    response = client.post(url, {"name": "登记", "text": "编号{number}，查询码{query_code}"})
    assert response.status_code == 200 and "不能使用以下占位符" in response.content.decode()
    response = client.post(url, {"name": "登记", "text": "编号{number"})
    assert response.status_code == 200 and "花括号" in response.content.decode()
    response = client.post(url, {"name": "登记", "text": "您的信访事项已登记，编号{number}。"})
    assert response.status_code == 302
    assert MessageTemplate.objects.get(code="registered").text == "您的信访事项已登记，编号{number}。"
    assert AuditEvent.objects.filter(action="notifications.template_edit").exists()
    assert "短信模板" in client.get(reverse("notifications:templates")).content.decode()


def test_list_page_costs_a_fixed_number_of_queries(client, world, django_assert_max_num_queries):
    from xinfang.petitions.models import Petition

    petitions = [new_registration(world).petition for _ in range(3)]
    for i in range(25):
        notify([world.handler_a], kind="k", title=f"消息{i}", petition=petitions[i % 3], url="/staff/")
    client.force_login(world.handler_a)
    client.get(reverse("notifications:list"))  # warm the session and the caches
    with django_assert_max_num_queries(12):
        page = client.get(reverse("notifications:list")).content.decode()
    assert all(p.number in page for p in Petition.objects.filter(pk__in=[p.pk for p in petitions]))


def test_demo_messages_show_as_sent_demo_for_the_sysadmin(client, world, django_capture_on_commit_callbacks):
    from xinfang.workflow import services

    with django_capture_on_commit_callbacks(execute=True):
        registration = services.register(
            draft=make_draft(world.a.township),
            office=world.a.office,
            actor=world.intake_a,
        )
    client.force_login(world.sysadmin)
    page = client.get(reverse("notifications:outbox")).content.decode()
    assert 'id="outbox-empty"' in page  # nothing pending or failed
    page = client.get(reverse("notifications:outbox") + "?status=sent").content.decode()
    assert "已发送（演示）" in page and registration.petition.number in page
    assert "短信网关为演示模式" in page
    assert "138****5678" in page and "13812345678" not in page
    client.force_login(world.handler_a)
    assert client.get(reverse("notifications:outbox")).status_code == 403
