"""Sending the outbox: the SMS adapter against a local fake provider over real HTTP (success,
retry after a provider error, permanent failure), e-mail against a real SMTP server on loopback,
backoff, the lease of a crashed worker."""

from __future__ import annotations

import datetime as dt
import email
import email.policy

import pytest
from django.utils import timezone

from xinfang.notifications import delivery, tasks
from xinfang.notifications.models import OutboxMessage, OutboxStatus
from xinfang.notifications.services import notify

from .fakes import FakeSmsProvider, error, ok, smtp_server

pytestmark = pytest.mark.django_db


@pytest.fixture
def chuanglan(settings):
    def configure(provider: FakeSmsProvider) -> None:
        settings.XINFANG_SMS_BACKEND = "xinfang.notifications.sms.Chuanglan253Backend"
        settings.XINFANG_SMS_URL = provider.url
        settings.XINFANG_SMS_ACCOUNT = "N1234567"
        settings.XINFANG_SMS_PASSWORD = "secret"

    return configure


def sms(text: str = "【甲县信访局】您的信访事项已登记。") -> OutboxMessage:
    return OutboxMessage.objects.create(
        channel="sms", recipient="13812345678", recipient_mask="138****5678", body=text
    )


def make_due(message: OutboxMessage) -> None:
    OutboxMessage.objects.filter(pk=message.pk).update(
        next_attempt_at=timezone.now() - dt.timedelta(seconds=1)
    )


def test_sms_sent_through_the_provider_api(chuanglan):
    provider = FakeSmsProvider([ok("MSG-1")])
    chuanglan(provider)
    message = sms()
    with provider.running():
        assert tasks.deliver([message.pk]) == 1
    message.refresh_from_db()
    assert message.status == OutboxStatus.SENT and not message.demo
    assert message.provider_message_id == "MSG-1" and message.attempts == 1 and message.sent_at
    [request] = provider.requests
    assert request["path"] == "/msg/v1/send/json" and request["content_type"].startswith("application/json")
    assert request["account"] == "N1234567" and request["password"] == "secret"
    assert (
        request["phone"] == "13812345678" and request["msg"] == message.body and request["report"] == "true"
    )


def test_provider_busy_then_retry_with_backoff_then_success(chuanglan):
    provider = FakeSmsProvider([error("104", "系统忙"), (503, {}), ok("MSG-2")])
    chuanglan(provider)
    message = sms()
    with provider.running():
        assert tasks.deliver([message.pk]) == 0
        message.refresh_from_db()
        assert message.status == OutboxStatus.PENDING and message.attempts == 1
        assert "104" in message.last_error
        wait = message.next_attempt_at - timezone.now()
        assert dt.timedelta(seconds=50) < wait <= dt.timedelta(minutes=1)
        # Not due yet: the periodic job leaves it alone.
        assert tasks.deliver_pending() == 0 and len(provider.requests) == 1
        make_due(message)
        assert tasks.deliver_pending() == 0  # HTTP 503: retried too
        message.refresh_from_db()
        assert message.status == OutboxStatus.PENDING and message.attempts == 2
        assert message.next_attempt_at - timezone.now() > dt.timedelta(seconds=110)  # 2 minutes
        make_due(message)
        assert tasks.deliver_pending() == 1
    message.refresh_from_db()
    assert message.status == OutboxStatus.SENT and message.provider_message_id == "MSG-2"
    assert message.attempts == 3 and message.last_error == ""


def test_permanent_provider_error_fails_at_once(chuanglan):
    provider = FakeSmsProvider([error("107", "包含错误的手机号码")])
    chuanglan(provider)
    message = sms()
    with provider.running():
        tasks.deliver([message.pk])
        make_due(message)
        assert tasks.deliver_pending() == 0
    message.refresh_from_db()
    assert message.status == OutboxStatus.FAILED and message.attempts == 1
    assert "107" in message.last_error and len(provider.requests) == 1


def test_gives_up_after_max_attempts(chuanglan, settings):
    settings.XINFANG_OUTBOX_MAX_ATTEMPTS = 3
    provider = FakeSmsProvider([error("104", "系统忙")])
    chuanglan(provider)
    message = sms()
    with provider.running():
        for _ in range(5):
            make_due(message)
            tasks.deliver_pending()
    message.refresh_from_db()
    assert message.status == OutboxStatus.FAILED and message.attempts == 3 and len(provider.requests) == 3


def test_unreachable_provider_is_retried(chuanglan, settings):
    provider = FakeSmsProvider([ok()])
    chuanglan(provider)
    settings.XINFANG_SMS_URL = "http://127.0.0.1:9/unreachable"  # nothing listens on port 9
    message = sms()
    tasks.deliver([message.pk])
    message.refresh_from_db()
    assert message.status == OutboxStatus.PENDING and "connection" in message.last_error


def test_expired_lease_of_a_killed_worker_is_sent_again(chuanglan):
    provider = FakeSmsProvider([ok("MSG-3")])
    chuanglan(provider)
    message = sms()
    [claimed] = delivery.claim([message.pk])  # the worker claims it ... and dies before sending
    message.refresh_from_db()
    assert message.status == OutboxStatus.SENDING and message.attempts == 1
    with provider.running():
        assert tasks.deliver_pending() == 0  # its lease still runs: nobody else touches it
        make_due(message)  # the lease ran out
        assert tasks.deliver_pending() == 1
    message.refresh_from_db()
    assert message.status == OutboxStatus.SENT and message.attempts == 2
    # The dead worker's late "sent" does not overwrite the new attempt's result.
    delivery._finish(claimed, status=OutboxStatus.FAILED)
    message.refresh_from_db()
    assert message.status == OutboxStatus.SENT


def test_email_through_a_real_smtp_server(world, settings, django_capture_on_commit_callbacks):
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.DEFAULT_FROM_EMAIL = "xinfang@xf.example.cn"
    settings.XINFANG_SITE_URL = "https://xf.example.cn"
    world.leader_a.email = "leader.a@xf.example.cn"
    world.leader_a.save(update_fields=["email"])
    with smtp_server() as (port, received):
        settings.EMAIL_HOST, settings.EMAIL_PORT = "127.0.0.1", port
        with django_capture_on_commit_callbacks(execute=True):
            notify(
                [world.leader_a], kind="supervise", title="挂牌督办：请立即办理", url="/staff/x/", email=True
            )
    message = OutboxMessage.objects.get(channel="email")
    assert message.status == OutboxStatus.SENT and message.recipient_mask == "l***@xf.example.cn"
    [envelope] = received
    assert envelope.rcpt_tos == ["leader.a@xf.example.cn"] and envelope.mail_from == "xinfang@xf.example.cn"
    mail = email.message_from_bytes(envelope.content, policy=email.policy.default)
    assert mail["Subject"] == "挂牌督办：请立即办理"
    assert "https://xf.example.cn/staff/x/" in mail.get_content()


def test_smtp_down_is_retried(world, settings):
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT, settings.EMAIL_TIMEOUT = "127.0.0.1", 9, 2
    message = OutboxMessage.objects.create(
        channel="email", recipient="a@b.cn", recipient_mask="a***@b.cn", body="x"
    )
    tasks.deliver([message.pk])
    message.refresh_from_db()
    assert message.status == OutboxStatus.PENDING and message.attempts == 1 and message.last_error


def test_a_row_whose_lease_ran_out_before_its_turn_is_not_sent(chuanglan):
    """A slow batch: by the time this worker reaches a row its lease is over, and another worker may
    have taken it; this worker leaves it alone."""
    provider = FakeSmsProvider([ok()])
    chuanglan(provider)
    message = sms()
    [claimed] = delivery.claim([message.pk])
    claimed.next_attempt_at = timezone.now()  # as if the batch had taken the whole lease
    with provider.running():
        assert delivery.process([claimed]) == 0
    assert provider.requests == []
    message.refresh_from_db()
    assert message.status == OutboxStatus.SENDING


def test_send_outbox_command_and_delivery_warnings(settings):
    from io import StringIO

    from django.core.management import call_command

    from xinfang.notifications.services import delivery_warnings

    message = sms()
    out = StringIO()
    call_command("send_outbox", stdout=out)
    assert out.getvalue().strip() == "sent 1"
    message.refresh_from_db()
    assert message.status == OutboxStatus.SENT and message.demo
    assert ["演示模式" in w for w in delivery_warnings()] == [True]
    settings.XINFANG_SMS_BACKEND = "xinfang.notifications.sms.Chuanglan253Backend"
    assert delivery_warnings() == []
    settings.EMAIL_BACKEND, settings.EMAIL_HOST = "django.core.mail.backends.smtp.EmailBackend", ""
    assert ["EMAIL_HOST" in w for w in delivery_warnings()] == [True]
