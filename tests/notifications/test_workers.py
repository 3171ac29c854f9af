"""Real worker processes on PostgreSQL: two workers send each outbox message exactly once; a
rolled-back action sends nothing; a message committed but never handed to the worker (a crash
between the commit and the queue) is sent by the periodic job."""

from __future__ import annotations

from collections import Counter

import pytest
from django.db import transaction
from django_q.conf import Conf
from django_q.tasks import async_task

from xinfang.notifications.models import OutboxMessage, OutboxStatus
from xinfang.notifications.services import notify_petitioner

from ..procedure import new_registration
from ..worker.conftest import needs_postgres, wait_until, workers  # noqa: F401 - fixture
from .fakes import FakeSmsProvider, ok

pytestmark = [*needs_postgres, pytest.mark.django_db(transaction=True)]


def sms_env(provider: FakeSmsProvider) -> dict[str, str]:
    return {
        "XINFANG_SMS_BACKEND": "xinfang.notifications.sms.Chuanglan253Backend",
        "XINFANG_SMS_URL": provider.url,
        "XINFANG_SMS_ACCOUNT": "N1234567",
        "XINFANG_SMS_PASSWORD": "secret",
    }


def test_two_workers_send_each_message_once(workers):  # noqa: F811
    provider = FakeSmsProvider([ok()], delay=0.05)
    phones = [f"139{n:08d}" for n in range(40)]
    OutboxMessage.objects.bulk_create(
        OutboxMessage(channel="sms", recipient=p, recipient_mask=p[:3] + "****" + p[-4:], body=f"测试{p}")
        for p in phones
    )
    with provider.running():
        workers.start(XINFANG_WORKERS="2", **sms_env(provider))
        workers.start(XINFANG_WORKERS="2", **sms_env(provider))
        for _ in range(6):  # the periodic job, queued six times at once
            async_task("xinfang.notifications.tasks.deliver_pending", sync=False)
        wait_until(
            lambda: OutboxMessage.objects.filter(status=OutboxStatus.SENT).count() == 40,
            90,
            "every message sent",
        )
    sent_to = Counter(r["phone"] for r in provider.requests)
    assert sent_to == dict.fromkeys(phones, 1), workers.output()
    assert set(OutboxMessage.objects.values_list("attempts", flat=True)) == {1}


def test_rolled_back_action_sends_nothing_committed_one_is_sent(world, workers, monkeypatch):  # noqa: F811
    # This process queues for the worker processes instead of running the task itself.
    monkeypatch.setattr(Conf, "SYNC", False)
    provider = FakeSmsProvider([ok()])
    first = new_registration(world).petition
    second = new_registration(world).petition
    with provider.running():
        workers.start(XINFANG_WORKERS="1", **sms_env(provider))
        with pytest.raises(RuntimeError), transaction.atomic():
            notify_petitioner(first, "accepted", organisation="甲县人社局", due_on="2027年1月30日")
            raise RuntimeError("the action failed after the message was written")
        notify_petitioner(second, "accepted", organisation="甲县人社局", due_on="2027年1月30日")
        wait_until(lambda: len(provider.requests) == 1, 60, "the committed message sent")
        # A crash between the commit and the queue: the row is committed, the worker never told.
        OutboxMessage.objects.create(
            channel="sms", recipient="13700000000", recipient_mask="137****0000", body="补发"
        )
        async_task("xinfang.notifications.tasks.deliver_pending", sync=False)
        wait_until(lambda: len(provider.requests) == 2, 60, "the orphan sent by the periodic job")
    assert not OutboxMessage.objects.filter(petition=first).exists()
    assert OutboxMessage.objects.get(petition=second).status == OutboxStatus.SENT
    assert [r["phone"] for r in provider.requests] == ["13812345678", "13700000000"]
