"""Procedure defects found in the trial (issue #7, points 11–14): extensions (Art. 34), the daily
conclusion job and the completion report (Art. 22(3)), re-handling ordered by review in the routing
history, and the appeal windows counted from the letter's date (docs/procedure.md §8)."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone
from freezegun import freeze_time

from xinfang.petitions.models import Petition
from xinfang.workflow import appeals, routing, services
from xinfang.workflow.engine import TransitionRefused, allowed_actions
from xinfang.workflow.models import Assignment, ExtensionRequest

from ..factories import make_staff
from ..procedure import (
    OPINION,
    REPLY,
    new_registration,
    serve_reply,
    to_accepted,
    to_replied,
    to_under_review,
)

D = dt.date


def at(day: dt.date) -> dt.datetime:
    """10:00 in Asia/Shanghai on ``day``."""
    return dt.datetime.combine(day, dt.time(2, 0), tzinfo=dt.UTC)


def refused(code: str, call, **kwargs) -> TransitionRefused:  # noqa: ANN001
    with pytest.raises(TransitionRefused) as excinfo:
        call(**kwargs)
    assert excinfo.value.code == code, excinfo.value.messages
    return excinfo.value


def petition_of(number: str) -> Petition:
    return Petition.objects.get(number=number)


def offered(number: str, user) -> set[str]:  # noqa: ANN001
    return {t.action for t in allowed_actions(petition_of(number), user)}


# --- 11. extensions (Art. 34) ---------------------------------------------------------------------


def test_a_leader_may_not_approve_an_extension_they_requested_themselves(world):
    """Issue #7 point 11: the department's own leader is both the handling side and its leader line;
    they may ask for more time, but another leader of that line must approve it (Art. 34: 经本机关、
    单位负责人批准 — approval is a second person's check, not a formality)."""
    # given: a leader of the handling department asks for an extension
    dept_leader = make_staff("dept_leader", world.a.department, "leader")
    number = new_registration(world).petition.number
    to_accepted(world, number)
    services.request_extension(user=dept_leader, number=number, days=10, reasons="需现场核查")
    due_before = petition_of(number).due_on
    # when / then: they cannot approve it, and the panel does not offer it to them
    refused("own_extension", services.approve_extension, user=dept_leader, number=number)
    assert "approve_extension" not in offered(number, dept_leader)
    assert petition_of(number).due_on == due_before
    assert ExtensionRequest.objects.get(petition__number=number).decision == "pending"
    # another leader of the line (the county government's) can
    services.approve_extension(user=world.leader_a, number=number)
    assert petition_of(number).due_on > due_before


def test_no_extension_can_be_requested_once_the_handling_deadline_has_passed(world):
    """Issue #7 point 11: an extension lengthens a period that is still running; after the due date
    the matter is overdue and the panel no longer offers it."""
    with freeze_time(at(D(2026, 3, 2))) as clock:
        number = new_registration(world).petition.number
        to_accepted(world, number)
        due_on = petition_of(number).due_on
        # on the last day it may still be asked for
        clock.move_to(at(due_on))
        assert "request_extension" in offered(number, world.handler_a)
        # the day after, not any more
        clock.move_to(at(due_on + dt.timedelta(days=1)))
        error = refused("deadline_passed", services.request_extension, user=world.handler_a, number=number,
                        days=10, reasons="需现场核查")  # fmt: skip
        assert due_on.isoformat() in error.messages[0]
        assert "request_extension" not in offered(number, world.handler_a)
        assert not ExtensionRequest.objects.filter(petition__number=number).exists()


def test_the_extension_counts_from_the_sixtieth_day_not_from_the_holiday_shifted_due_date(world):
    """Issue #7 point 11, decided in docs/procedure.md §8: accepted 3 Nov 2025, day 60 is Friday 2 Jan
    2026 (New Year holiday), so the period ends on Sunday 4 Jan (a 调休 working day; 民法典 Art. 203).
    30 more days run from 2 Jan, the end of the statutory period: 1 Feb, a Sunday, so Monday 2 Feb —
    not 3 Feb, which counting from the shifted date would give."""
    with freeze_time(at(D(2025, 11, 3))) as clock:
        number = new_registration(world).petition.number
        to_accepted(world, number)
        assert petition_of(number).due_on == D(2026, 1, 4)
        clock.move_to(at(D(2025, 12, 20)))
        services.request_extension(user=world.handler_a, number=number, days=30, reasons="需司法鉴定")
        services.approve_extension(user=world.leader_a, number=number)
    assert petition_of(number).due_on == D(2026, 2, 2)
    request = ExtensionRequest.objects.get(petition__number=number)
    assert (request.old_due_on, request.new_due_on) == (D(2026, 1, 4), D(2026, 2, 2))


def test_a_re_handling_ordered_by_review_gets_no_second_extension(world):
    """Issue #7 point 11, decided in docs/procedure.md §8: the 30 days of Art. 34 are the most a
    matter's handling is ever extended.  A re-handling ordered by review has a fresh handling period
    and may be extended once if the first handling was not; after an approved extension, never again."""
    extended, plain = (new_registration(world).petition.number for _ in range(2))
    for number in (extended, plain):
        to_accepted(world, number)
    services.request_extension(user=world.handler_a, number=extended, days=10, reasons="需鉴定")
    services.approve_extension(user=world.leader_a, number=extended)
    for number in (extended, plain):
        services.reply(user=world.handler_a, number=number, **REPLY)
        appeals.request_review(user=world.intake_a, number=number, reasons="不服")
        appeals.review(user=world.leader_a, number=number, **{**OPINION, "outcome": "rehandle"})
        assert petition_of(number).status == "accepted"
    refused("already_extended", services.request_extension, user=world.handler_a, number=extended,
            days=10, reasons="重新办理需鉴定")  # fmt: skip
    services.request_extension(user=world.handler_a, number=plain, days=10, reasons="重新办理需鉴定")
    assert ExtensionRequest.objects.get(petition__number=plain).decision == "pending"


# --- 12. the daily conclusion and the completion report (Art. 22(3)) -------------------------------


def test_the_daily_job_does_not_conclude_a_reply_whose_completion_report_was_never_approved(world):
    """Issue #7 point 12: an assigned matter (交办) is finished only when the office has checked the
    unit's completion report; until then the lapsed review window does not conclude it.  Once the
    office approves the report, the next run concludes it."""
    with freeze_time(at(D(2026, 3, 2))) as clock:
        number = new_registration(world).petition.number
        to_replied(world, number)  # assigned: the completion report is due
        clock.move_to(at(petition_of(number).due_on + dt.timedelta(days=1)))
        assert appeals.conclude_lapsed() == (0, 1)
        assert petition_of(number).status == "replied"
        assert Assignment.objects.get(petition__number=number).ended_at is None
        services.approve_completion(user=world.intake_a, number=number)
        assert appeals.conclude_lapsed() == (1, 0)
        petition = petition_of(number)
    assert (petition.status, petition.conclusion) == ("concluded", "review_lapsed")


def test_the_daily_job_concludes_a_forwarded_reply_which_needs_no_report(world):
    """A forwarded matter (转送) has no completion report: the lapsed window concludes it."""
    with freeze_time(at(D(2026, 3, 2))) as clock:
        number = new_registration(world).petition.number
        services.forward(user=world.intake_a, number=number, unit=world.a.department)
        services.unit_accept(user=world.handler_a, number=number)
        services.reply(user=world.handler_a, number=number, **REPLY)
        serve_reply(number)  # the window runs from service
        clock.move_to(at(petition_of(number).due_on + dt.timedelta(days=1)))
        assert appeals.conclude_lapsed() == (1, 0)


# --- 13. re-handling ordered by review is not a misroute -------------------------------------------


def test_re_handling_ordered_by_review_is_not_recorded_as_a_misroute(world):
    """Issue #7 point 13: the routing history counts ``rerouted`` assignments as misrouted (the
    routing proposal ignores them).  Review ordering the same unit to handle again is no misroute."""
    number = new_registration(world).petition.number
    to_under_review(world, number)  # the assignment is still open (report not yet approved)
    appeals.review(user=world.leader_a, number=number, **{**OPINION, "outcome": "rehandle"})
    history = list(
        Assignment.objects.filter(petition__number=number).order_by("assigned_at", "pk")
        .values_list("unit", "ended_at", "end_reason")
    )  # fmt: skip
    assert [reason for _unit, _ended, reason in history] == ["rehandled", ""]
    assert {unit for unit, _ended, _reason in history} == {world.a.department.pk}
    assert not set(routing.MISROUTED) & {reason for *_rest, reason in history}


# --- 14. the appeal windows and the letter's date ---------------------------------------------------


def test_the_appeals_module_says_the_windows_run_from_service():
    """Issue #7 point 14, fixed by issue #10 point 8: a window counted from the day the letter was
    issued gave the petitioner less time; the windows now run from service (送达)."""
    doc = " ".join((appeals.__doc__ or "").split())
    assert "never gets less time" not in doc
    assert "送达" in doc and "from the day the document that opens it reached them" in doc


def test_approve_extension_after_the_request_still_counts_from_the_handling_period(world):
    """The approval may come after the due date (the request was made in time): the new date is
    still counted from the end of the handling period, not from the day of approval."""
    with freeze_time(at(D(2026, 3, 2))) as clock:
        number = new_registration(world).petition.number
        to_accepted(world, number)
        due_on = petition_of(number).due_on
        clock.move_to(at(due_on))
        services.request_extension(user=world.handler_a, number=number, days=10, reasons="需鉴定")
        clock.move_to(at(due_on + dt.timedelta(days=3)))
        services.approve_extension(user=world.leader_a, number=number)
        assert petition_of(number).due_on <= due_on + dt.timedelta(days=12)
        assert petition_of(number).due_on >= timezone.localdate()
