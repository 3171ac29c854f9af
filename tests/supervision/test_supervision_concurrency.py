"""Two workers run the daily escalation at the same moment, and two supervisors decide on the same
answer at once: the engine's row lock and the re-check of the notice inside it let exactly one win.

PostgreSQL only (like tests/workflow/test_concurrency.py): SQLite's shared in-memory test database
refuses the second writer instead of queueing it.
"""

from __future__ import annotations

import datetime as dt
import threading
import time
from typing import Any

import pytest
from django.conf import settings
from django.db import connections
from django.utils import timezone

from xinfang.notifications.models import Notification
from xinfang.organisations.models import User
from xinfang.petitions.choices import EventKind
from xinfang.petitions.models import PetitionEvent
from xinfang.supervision import services
from xinfang.supervision.models import EscalationLevel, FeedbackDecision, NoticeStatus, SupervisionNotice
from xinfang.supervision.tasks import escalate_unanswered
from xinfang.workflow import engine

from ..factories import make_staff
from ..procedure import new_registration, to_accepted

ON_POSTGRES = settings.DATABASES["default"]["ENGINE"].endswith("postgresql")
pytestmark = [
    pytest.mark.postgres,
    pytest.mark.skipif(
        not ON_POSTGRES, reason="needs PostgreSQL: concurrent connections waiting on a row lock"
    ),
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]
TIMEOUT = 60


@pytest.fixture
def slow_check(monkeypatch):
    """Hold the row lock a little after the check, so the two runs surely overlap."""
    real = engine.check_allowed

    def slow(petition: Any, user: Any, transition: Any, sides: Any = None) -> None:
        real(petition, user, transition, sides)
        time.sleep(0.4)

    monkeypatch.setattr(engine, "check_allowed", slow)


def race(*actions) -> list[Any]:  # noqa: ANN002
    barrier = threading.Barrier(len(actions))
    results: list[Any] = []
    errors: list[BaseException] = []

    def work(action) -> None:  # noqa: ANN001
        try:
            barrier.wait(timeout=TIMEOUT)
            results.append(action())
        except BaseException as exc:
            errors.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=work, args=(a,)) for a in actions]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=TIMEOUT)
    assert not any(t.is_alive() for t in threads), "a worker hung"
    return [*results, *errors]


def test_two_workers_escalate_once(world, slow_check):
    number = new_registration(world).petition.number
    to_accepted(world, number)
    notice = services.supervise(user=world.supervisor_a, number=number, kind="formal", requirements="请反馈")
    SupervisionNotice.objects.filter(pk=notice.pk).update(
        respond_by=timezone.localdate() - dt.timedelta(days=1)
    )
    today = timezone.localdate()
    results = race(lambda: escalate_unanswered(today), lambda: escalate_unanswered(today))
    assert sorted(r["level_1"] for r in results) == [0, 1], results
    notice.refresh_from_db()
    assert notice.escalation_level == EscalationLevel.UNIT_LEADERS
    assert PetitionEvent.objects.filter(kind=EventKind.SUPERVISION_ESCALATED).count() == 1
    assert Notification.objects.filter(kind="supervision_escalated").count() == 1


def test_two_supervisors_decide_on_the_same_answer_once(world, slow_check):
    number = new_registration(world).petition.number
    to_accepted(world, number)
    leader = make_staff("office_leader_a", world.a.office, "leader")
    services.supervise(user=world.supervisor_a, number=number, kind="formal", requirements="请反馈")
    services.answer_supervision(user=world.handler_a, number=number, text="已办理")

    def accept():  # noqa: ANN202
        user = User.objects.select_related("organisation").get(pk=world.supervisor_a.pk)
        return services.accept_supervision_answer(user=user, number=number)

    def send_back():  # noqa: ANN202
        user = User.objects.select_related("organisation").get(pk=leader.pk)
        return services.return_supervision_answer(user=user, number=number, reasons="未说明结果")

    results = race(accept, send_back)
    refused = [r for r in results if isinstance(r, engine.TransitionRefused)]
    done = [r for r in results if isinstance(r, SupervisionNotice)]
    assert len(done) == 1 and len(refused) == 1, results
    assert refused[0].code == "no_answer"
    notice = SupervisionNotice.objects.get()
    feedback = notice.feedback.get()
    assert (notice.status, feedback.decision) in {
        (NoticeStatus.ACCEPTED, FeedbackDecision.ACCEPTED),
        (NoticeStatus.OPEN, FeedbackDecision.RETURNED),
    }
