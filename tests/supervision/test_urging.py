"""The daily urging pass (supervision/urging.py): which petitions are urged, to whom, once."""

from __future__ import annotations

import datetime as dt

import pytest
from django.db import transaction

from xinfang.audit.models import AuditEvent
from xinfang.notifications.models import Notification, OutboxMessage
from xinfang.organisations.models import User
from xinfang.petitions.choices import EventKind, Status
from xinfang.petitions.models import Petition, PetitionEvent
from xinfang.supervision.models import Reminder
from xinfang.supervision.tasks import urge_pass
from xinfang.supervision.urging import UrgingPolicy, reminders_for, run_urge_pass, thresholds
from xinfang.workflow import calendar

from ..factories import make_staff
from ..procedure import new_registration, to_accepted, to_replied

# 2026-12-01 is a Tuesday; 1–4 December are working days, 5–6 a weekend, 7 a Monday.
TUE = dt.date(2026, 12, 1)
FRI = dt.date(2026, 12, 4)
SAT = dt.date(2026, 12, 5)
MON = dt.date(2026, 12, 7)

pytestmark = pytest.mark.django_db


class Day:
    """Petitions in each situation the pass must tell apart, with the people it must reach."""

    def __init__(self, world) -> None:
        self.world = world
        self.dept_leader = make_staff("dept_leader", world.a.department, "leader")
        self.office_leader = make_staff("office_leader", world.a.office, "leader")
        self.retired_leader = make_staff("retired_leader", world.a.department, "leader")
        User.objects.filter(pk=self.retired_leader.pk).update(is_active=False)
        User.objects.filter(pk=world.handler_a.pk).update(email="handler_a@example.cn")

        # Registered, not yet disposed of: the office handles it (its leaders are told).
        self.before = self._petition(due_on=calendar.add_working_days(TUE, 2))
        self.far = self._petition(due_on=calendar.add_working_days(TUE, 4))
        # Accepted by county A's department, with a named handler.
        self.due = self._petition(due_on=TUE, accepted=True, handler=world.handler_a)
        self.overdue = self._petition(
            due_on=TUE - dt.timedelta(days=10), accepted=True, handler=world.handler_a
        )
        # Replied: due_on is the petitioner's review window, never urged even when passed.
        replied = new_registration(world).petition
        to_replied(world, replied.number)
        Petition.objects.filter(pk=replied.pk).update(due_on=TUE - dt.timedelta(days=3))
        self.replied = replied
        # Final states are never urged.
        self.withdrawn = self._petition(due_on=TUE - dt.timedelta(days=3))
        Petition.objects.filter(pk=self.withdrawn.pk).update(status=Status.WITHDRAWN)

    def _petition(self, *, due_on, accepted=False, handler=None) -> Petition:
        petition = new_registration(self.world).petition
        if accepted:
            to_accepted(self.world, petition.number)
        Petition.objects.filter(pk=petition.pk).update(due_on=due_on, handler=handler)
        petition.refresh_from_db()
        return petition


@pytest.fixture
def day(world) -> Day:
    return Day(world)


def urges():
    """The pass's notifications (the procedure's own actions notify too)."""
    return Notification.objects.filter(kind__startswith="urge_")


def urged(on: dt.date) -> dict[int, str]:
    return dict(Reminder.objects.filter(on=on).values_list("petition_id", "step"))


def test_urges_exactly_the_staff_deadlines_in_the_window(day):
    counts = run_urge_pass(today=TUE)
    assert urged(TUE) == {day.before.pk: "before", day.due.pk: "due", day.overdue.pk: "overdue"}
    assert counts["reminders"] == 3
    assert (counts["before"], counts["due"], counts["overdue"]) == (1, 1, 1)
    assert counts["skipped"] == 0


def test_notifications_go_to_the_handler_and_the_handling_bodys_leaders_only(day):
    world = day.world
    run_urge_pass(today=TUE)
    rows = set(urges().values_list("user__username", "petition_id", "kind"))
    assert rows == {
        ("office_leader", day.before.pk, "urge_before"),
        ("handler_a", day.due.pk, "urge_due"),
        ("dept_leader", day.due.pk, "urge_due"),
        ("handler_a", day.overdue.pk, "urge_overdue"),
        ("dept_leader", day.overdue.pk, "urge_overdue"),
    }
    # Not the government's leader (not the handling body), not an inactive account, not the clerk.
    others = [world.leader_a, day.retired_leader, world.intake_a]
    assert not urges().filter(user__in=others).exists()
    note = urges().get(user=world.handler_a, petition=day.overdue)
    assert note.title == f"【催办】已超期：{day.overdue.number}"
    assert str(day.overdue.due_on) in note.body and "已超期" in note.body
    assert note.url == f"/staff/petitions/{day.overdue.number}/"
    assert note.dedupe_key == f"urge:{day.overdue.pk}:{day.overdue.due_on}:overdue:{TUE}"
    assert note.read_at is None


def test_a_department_without_its_own_leader_passes_to_the_government_leaders(day):
    """As engine.leader_line: a department's leaders may sit on its government's staff list."""
    world = day.world
    User.objects.filter(pk=day.dept_leader.pk).update(is_active=False)
    run_urge_pass(today=TUE)
    told = set(urges().filter(petition=day.overdue).values_list("user__username", flat=True))
    assert told == {"handler_a", "leader_a"}
    # The office has its own leader: the government's is not told of the office's petitions.
    office_told = set(urges().filter(petition=day.before).values_list("user__username", flat=True))
    assert office_told == {"office_leader"}
    assert not urges().filter(user=world.leader_a, petition=day.before).exists()


def test_timeline_gets_one_internal_urged_event_per_petition(day):
    run_urge_pass(today=TUE)
    events = PetitionEvent.objects.filter(kind=EventKind.URGED)
    expected = sorted([day.before.pk, day.due.pk, day.overdue.pk])
    assert sorted(events.values_list("petition_id", flat=True)) == expected
    event = events.get(petition=day.overdue)
    assert not event.is_public and event.actor_id is None
    assert event.comment == f"系统催办：已超期，办理时限 {day.overdue.due_on}"
    assert event.data == {"step": "overdue", "due_on": str(day.overdue.due_on), "on": str(TUE)}


def test_one_email_digest_per_recipient_for_due_and_overdue(day):
    counts = run_urge_pass(today=TUE)
    # handler_a has an address; the leaders have none on record.
    assert counts["emails"] == 1
    message = OutboxMessage.objects.get(template_code="urge_digest")
    assert message.subject == "【催办】今日到期 1 件，已超期 1 件"
    assert message.dedupe_key == f"urge:digest:{TUE}:{day.world.handler_a.pk}"


def test_second_pass_the_same_day_sends_nothing_again(day):
    run_urge_pass(today=TUE)
    before = (Reminder.objects.count(), urges().count(), PetitionEvent.objects.count())
    counts = run_urge_pass(today=TUE)
    assert counts["reminders"] == counts["notifications"] == counts["events"] == counts["emails"] == 0
    assert (Reminder.objects.count(), urges().count(), PetitionEvent.objects.count()) == before
    assert OutboxMessage.objects.filter(template_code="urge_digest").count() == 1


def test_overdue_is_urged_again_each_working_day_before_and_due_once(day):
    run_urge_pass(today=TUE)
    run_urge_pass(today=FRI)
    # Friday: the "before" petition's deadline (Thursday) passed, the "due" one is overdue; the
    # "far" one enters the three-working-day window.
    assert urged(FRI) == {
        day.before.pk: "overdue",
        day.due.pk: "overdue",
        day.overdue.pk: "overdue",
        day.far.pk: "before",
    }
    assert Reminder.objects.filter(petition=day.overdue, step="overdue").count() == 2
    assert Reminder.objects.filter(petition=day.before, step="before").count() == 1


def test_nothing_on_a_non_working_day(day):
    counts = run_urge_pass(today=SAT)
    assert counts["skipped"] == 1 and counts["reminders"] == 0
    assert not Reminder.objects.exists() and not urges().exists()
    counts = run_urge_pass(today=MON)
    assert counts["reminders"] == 4


def test_no_reminder_on_a_declared_holiday(day, world):
    calendar.save_calendar_override(actor=world.sysadmin, date=TUE, is_working_day=False, note="测试假日")
    calendar.clear_cache()
    assert run_urge_pass(today=TUE)["skipped"] == 1
    assert not Reminder.objects.exists()


def test_a_new_deadline_is_urged_afresh(day):
    run_urge_pass(today=TUE)
    # An approved extension moves the deadline: its own reminders start again.
    Petition.objects.filter(pk=day.due.pk).update(due_on=calendar.add_working_days(TUE, 1))
    run_urge_pass(today=TUE)
    assert set(Reminder.objects.filter(petition=day.due).values_list("step", flat=True)) == {"due", "before"}


def test_a_rolled_back_pass_leaves_nothing(day):
    with pytest.raises(RuntimeError), transaction.atomic():
        run_urge_pass(today=TUE)
        raise RuntimeError("worker killed")
    assert not Reminder.objects.exists()
    assert not urges().exists()
    assert not PetitionEvent.objects.filter(kind=EventKind.URGED).exists()
    assert not OutboxMessage.objects.filter(template_code="urge_digest").exists()
    assert run_urge_pass(today=TUE)["reminders"] == 3


def test_pass_is_audited(day):
    run_urge_pass(today=TUE)
    event = AuditEvent.objects.filter(action="supervision.urge_pass").latest("id")
    assert event.data["reminders"] == 3 and event.data["today"] == "2026-12-01"


def test_policy_from_settings(day, settings):
    settings.XINFANG_URGE_DAYS_BEFORE = 0
    settings.XINFANG_URGE_STEPS = ["before", "due"]
    counts = urge_pass(today="2026-12-01")
    assert urged(TUE) == {day.due.pk: "due"}
    assert counts["reminders"] == 1


def test_policy_rejects_unknown_steps(settings):
    settings.XINFANG_URGE_STEPS = ["before", "later"]
    with pytest.raises(ValueError, match="later"):
        UrgingPolicy.from_settings()


def test_thresholds():
    t = thresholds(TUE, UrgingPolicy())
    assert t.horizon == FRI and t.lowest is None and not t.skip_today
    t = thresholds(FRI, UrgingPolicy(days_before=1, steps=frozenset({"before"})))
    assert t.horizon == MON and t.lowest == SAT and t.skip_today


def test_reminders_for(day):
    run_urge_pass(today=TUE)
    run_urge_pass(today=FRI)
    assert [(r.step, r.on) for r in reminders_for(day.overdue)] == [("overdue", FRI), ("overdue", TUE)]


def test_petition_page_shows_the_system_urging(client, day):
    run_urge_pass(today=TUE)
    client.force_login(day.world.handler_a)
    page = client.get(f"/staff/petitions/{day.overdue.number}/").content.decode()
    assert "系统催办：已超期" in page


def test_audit_labels_registered():
    from xinfang.audit import labels

    assert labels.action_label("supervision.urge_pass") == "系统催办（每日）"
    assert labels.action_label("supervision.accountability_recorded") == "发出约谈、通报或改进工作建议"


def test_a_leader_who_is_also_the_handler_is_told_once(day):
    Petition.objects.filter(pk=day.due.pk).update(handler=day.dept_leader)
    counts = run_urge_pass(today=TUE)
    assert urges().filter(petition=day.due, user=day.dept_leader).count() == 1
    assert counts["notifications"] == urges().count() == 4
