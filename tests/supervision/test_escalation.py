"""The daily escalation of unanswered supervision notices (supervision.tasks.escalate_unanswered):
0→1 tells the unit's leaders, 1→2 (a few working days later) tells the petition office one level
above, which gains sight of the petition; running twice the same day escalates once."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from xinfang.notifications.models import Notification
from xinfang.petitions.choices import EventKind, InvolvementReason
from xinfang.petitions.models import Involvement, PetitionEvent
from xinfang.supervision import services
from xinfang.supervision.models import EscalationLevel, NoticeKind, SupervisionNotice
from xinfang.supervision.tasks import escalate_unanswered
from xinfang.workflow.calendar import add_working_days
from xinfang.workflow.engine import TransitionRefused

from ..factories import make_staff


@pytest.fixture
def notice(world, petition) -> SupervisionNotice:
    """County A's office supervises its department; the date has passed (set back by hand)."""
    made = services.supervise(user=world.supervisor_a, number=petition.number, kind=NoticeKind.FORMAL,
                              requirements="请于期限内反馈办理进展。")  # fmt: skip
    past = timezone.localdate() - dt.timedelta(days=1)
    SupervisionNotice.objects.filter(pk=made.pk).update(respond_by=past)
    made.refresh_from_db()
    return made


def test_nothing_before_the_date(world, petition):
    services.supervise(user=world.supervisor_a, number=petition.number, kind=NoticeKind.FORMAL,
                       requirements="请反馈")  # fmt: skip
    assert escalate_unanswered() == {"level_1": 0, "level_2": 0, "skipped": 0}
    assert not PetitionEvent.objects.filter(kind=EventKind.SUPERVISION_ESCALATED).exists()


def test_level_one_tells_the_unit_leaders_once(world, petition, notice):
    petition.refresh_from_db()
    version = petition.version
    today = timezone.localdate()
    assert escalate_unanswered(today)["level_1"] == 1
    notice.refresh_from_db()
    assert notice.escalation_level == EscalationLevel.UNIT_LEADERS and notice.escalated_at is not None
    # the department has no leader of its own: its government's leader (leader_a) is told
    told = Notification.objects.filter(kind="supervision_escalated")
    assert list(told.values_list("user__username", flat=True)) == ["leader_a"]
    event = PetitionEvent.objects.get(kind=EventKind.SUPERVISION_ESCALATED)
    assert event.actor is None and not event.is_public and event.data["level"] == 1
    petition.refresh_from_db()
    assert petition.version == version + 1 and petition.status == "accepted"
    # a second run the same day (or a second worker) changes nothing
    assert escalate_unanswered(today) == {"level_1": 0, "level_2": 0, "skipped": 1}
    assert PetitionEvent.objects.filter(kind=EventKind.SUPERVISION_ESCALATED).count() == 1
    assert told.count() == 1


def test_level_two_tells_the_office_above_after_the_further_period(world, petition, notice):
    today = timezone.localdate()
    escalate_unanswered(today)
    later = add_working_days(today, services.escalation_days())
    assert escalate_unanswered(later - dt.timedelta(days=1))["level_2"] == 0  # not yet
    assert escalate_unanswered(later)["level_2"] == 1
    notice.refresh_from_db()
    assert notice.escalation_level == EscalationLevel.LEVEL_ABOVE
    involvement = Involvement.objects.get(petition=petition, reason=InvolvementReason.SUPERVISOR)
    assert involvement.organisation.name == "A市信访局"
    told = Notification.objects.filter(kind="supervision_escalated", user=world.city_supervisor)
    assert told.count() == 1
    # nothing beyond level 2
    assert escalate_unanswered(later + dt.timedelta(days=30)) == {"level_1": 0, "level_2": 0, "skipped": 0}


def test_answered_or_lifted_notices_do_not_escalate(world, petition, notice):
    services.answer_supervision(user=world.handler_a, number=petition.number, text="已办理")
    assert escalate_unanswered()["level_1"] == 0
    assert services.escalate_supervision(number=petition.number, notice=notice.pk) is None


def test_only_the_system_escalates(world, petition, notice):
    from xinfang.workflow.engine import perform

    with pytest.raises(TransitionRefused) as excinfo:
        perform(user=world.city_supervisor, number=petition.number, action="escalate_supervision",
                apply=lambda p: None)  # fmt: skip
    assert excinfo.value.code == "not_allowed"


def test_a_returned_answer_escalates_again_from_its_new_date(world, petition, notice):
    escalate_unanswered()
    services.answer_supervision(user=world.handler_a, number=petition.number, text="正在办理")
    services.return_supervision_answer(user=world.supervisor_a, number=petition.number, reasons="未说明结果")
    notice.refresh_from_db()
    assert notice.escalation_level == EscalationLevel.NONE
    assert escalate_unanswered(notice.respond_by + dt.timedelta(days=1))["level_1"] == 1


def test_unit_leaders_of_the_unit_itself_come_first(world, petition, notice):
    make_staff("dept_leader", world.a.department, "leader")
    escalate_unanswered()
    told = Notification.objects.filter(kind="supervision_escalated")
    assert list(told.values_list("user__username", flat=True)) == ["dept_leader"]


def test_notices_on_a_closed_petition_do_not_escalate(world, registration):
    """A notice on a petition that reached a final state is no longer chased (and the job does not
    stop on it)."""
    from xinfang.workflow import services as workflow

    number = registration.petition.number
    workflow.assign(user=world.intake_a, number=number, unit=world.a.department)
    made = services.supervise(user=world.city_supervisor, number=number, kind=NoticeKind.URGE,
                              requirements="请尽快受理")  # fmt: skip
    past = timezone.localdate() - dt.timedelta(days=2)
    SupervisionNotice.objects.filter(pk=made.pk).update(respond_by=past)
    workflow.withdraw(user=world.intake_a, number=number, reasons="信访人撤回")
    assert escalate_unanswered() == {"level_1": 0, "level_2": 0, "skipped": 0}
    # and should one still be tried (listed before the petition closed), the engine refuses it
    assert services.escalate_supervision(number=number, notice=made.pk) is None


def test_a_notice_whose_unit_no_longer_handles_the_petition_is_not_chased(client, world, staff, registration):
    """The department objected and the petition went to the township: the department can no longer
    answer, so its leaders are not chased; the petition page tells the issuing office why."""
    from django.urls import reverse

    from xinfang.workflow import services as workflow

    number = registration.petition.number
    workflow.assign(user=world.intake_a, number=number, unit=world.a.department)
    made = services.supervise(user=world.city_supervisor, number=number, kind=NoticeKind.URGE,
                              requirements="请尽快受理")  # fmt: skip
    workflow.return_petition(user=world.handler_a, number=number, reasons="不属于本单位职责")
    workflow.forward(user=world.intake_a, number=number, unit=world.a.township)
    past = timezone.localdate() - dt.timedelta(days=2)
    SupervisionNotice.objects.filter(pk=made.pk).update(respond_by=past)
    assert escalate_unanswered() == {"level_1": 0, "level_2": 0, "skipped": 1}
    client.force_login(world.city_supervisor)
    page = client.get(reverse("petitions:detail", args=[number])).content.decode()
    assert "被督办单位无法再反馈" in page
    # the issuing office lifts it and supervises the township instead
    services.lift_supervision(user=world.city_supervisor, number=number, reasons="承办单位已变更")
    again = services.supervise(user=world.city_supervisor, number=number, kind=NoticeKind.URGE,
                               requirements="请尽快受理")  # fmt: skip
    assert again.unit == world.a.township
