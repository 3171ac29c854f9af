"""The scheduled job that concludes matters whose review or recheck window passed unused."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core.management import call_command
from freezegun import freeze_time

from xinfang.audit.models import AuditEvent
from xinfang.petitions.models import Petition, PetitionEvent
from xinfang.workflow import appeals, services
from xinfang.workflow.engine import System, TransitionRefused

from ..procedure import new_registration, to_replied, to_reviewed, to_under_review

START = dt.datetime(2026, 3, 2, 2, 0, tzinfo=dt.UTC)  # 10:00 in Asia/Shanghai


@pytest.fixture
def clock():
    with freeze_time(START) as frozen:
        yield frozen


def _at(world, step) -> str:  # noqa: ANN001
    number = new_registration(world).petition.number
    step(world, number)
    return number


def test_lapsed_windows_are_concluded_and_open_ones_left(world, clock):
    replied, reviewed, appealed = _at(world, to_replied), _at(world, to_reviewed), _at(world, to_under_review)
    # the office has checked the completion report of the assigned reply (issue #7 point 12)
    services.approve_completion(user=world.intake_a, number=replied)
    windows = {n: Petition.objects.get(number=n).due_on for n in (replied, reviewed)}
    # on the last day of the windows nothing happens
    clock.move_to(dt.datetime.combine(max(windows.values()), dt.time(10)))
    assert appeals.conclude_lapsed() == (0, 0)
    clock.tick(dt.timedelta(days=1))
    assert appeals.conclude_lapsed() == (2, 0)
    for number, reason in ((replied, "review_lapsed"), (reviewed, "recheck_lapsed")):
        petition = Petition.objects.get(number=number)
        assert (petition.status, petition.conclusion, petition.due_on) == ("concluded", reason, None)
        event = PetitionEvent.objects.filter(petition=petition).latest("at", "id")
        assert event.kind == "concluded" and event.actor is None and event.is_public
        audit = AuditEvent.objects.filter(action="petition.conclude", object_repr=number).get()
        assert audit.actor is None
    # an open review is no lapse; a second run changes nothing
    assert Petition.objects.get(number=appealed).status == "under_review"
    assert appeals.conclude_lapsed() == (0, 0)


def test_a_window_counted_from_the_letter_wins_over_a_wrong_stored_date(world, clock):
    """The stored due date only selects candidates; the window itself is checked again."""
    number = _at(world, to_replied)
    services.approve_completion(user=world.intake_a, number=number)
    Petition.objects.filter(number=number).update(due_on=dt.date(2026, 3, 1))
    assert appeals.conclude_lapsed() == (0, 1)
    assert Petition.objects.get(number=number).status == "replied"


def test_the_system_takes_only_what_the_calendar_decides(world, clock):
    number = _at(world, to_replied)
    with pytest.raises(TransitionRefused) as refused:
        appeals.request_review(user=System(), number=number, reasons="x")
    assert refused.value.code == "not_allowed"
    with pytest.raises(TransitionRefused) as refused:
        appeals.conclude(user=System(), number=number, conclusion="review_lapsed")
    assert refused.value.code == "window_open"


def test_the_command_reports_its_figures(world, clock, capsys):
    number = _at(world, to_replied)
    services.approve_completion(user=world.intake_a, number=number)
    clock.move_to(
        dt.datetime.combine(Petition.objects.get(number=number).due_on, dt.time(10)) + dt.timedelta(days=1)
    )
    call_command("conclude_lapsed")
    assert "concluded 1, skipped 0" in capsys.readouterr().out
