"""The counts the worker keeps up action by action are exactly what ``rebuild`` computes from the facts
(docs/statistics.md §4): after random sequences of actions on random days with refreshes in between,
a refresh repeated changes nothing, and a refresh running while an action commits loses nothing
(PostgreSQL: two connections)."""

from __future__ import annotations

import contextlib
import datetime as dt
import threading
from collections.abc import Callable
from zoneinfo import ZoneInfo

import pytest
from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import connections
from django.utils import timezone
from freezegun import freeze_time
from hypothesis import HealthCheck, Phase, given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st

from xinfang.organisations.models import User
from xinfang.petitions.access import PetitionNotFound
from xinfang.stats import receivers, rollup
from xinfang.stats.models import DailyCount, DirtyDay, MonthlyCount
from xinfang.workflow import appeals, services
from xinfang.workflow.engine import TransitionRefused

from ..factories import make_draft
from ..procedure import REPLY

TZ = ZoneInfo("Asia/Shanghai")
START = dt.date(2025, 6, 23)
ON_POSTGRES = settings.DATABASES["default"]["ENGINE"].endswith("postgresql")


def snapshot() -> tuple[list[tuple], list[tuple]]:
    """Both count tables, row by row, in a stable order."""
    fields = ("metric", "organisation_id", "organisation_path", "dimension", "key", "value")
    daily = sorted(DailyCount.objects.values_list("day", *fields))
    monthly = sorted(MonthlyCount.objects.values_list("month", *fields))
    return daily, monthly


def rebuilt() -> tuple[list[tuple], list[tuple]]:
    rollup.rebuild()
    return snapshot()


# --- random sequences of actions ---------------------------------------------------------------------

ACTIONS = ("register", "register", "forward", "accept", "reply", "evaluate", "withdraw", "extend",
           "approve", "review", "refresh")  # fmt: skip


def _act(world, numbers: list[tuple[str, bool]], action: str, index: int, today: dt.date) -> None:
    """One action on one of the petitions (refused ones are part of life: nothing is written)."""
    if action == "register":
        draft = make_draft(
            world.a.township if index % 2 else world.b.township,
            received_on=today - dt.timedelta(days=index),
            channel="visit" if index % 3 == 0 else "letter",
            headcount=1 + 2 * index,
        )
        in_a = bool(index % 2)
        office, clerk = (world.a.office, world.intake_a) if in_a else (world.b.office, world.intake_b)
        numbers.append((services.register(draft=draft, office=office, actor=clerk).petition.number, in_a))
        return
    if action == "refresh":
        rollup.refresh()
        return
    if not numbers:
        return
    number, in_a = numbers[index % len(numbers)]
    intake, handler = (world.intake_a, world.handler_a) if in_a else (world.intake_b, world.handler_b)
    unit = world.a.department if in_a else world.b.department
    steps: dict[str, Callable[[], object]] = {
        "forward": lambda: services.forward(user=intake, number=number, unit=unit),
        "accept": lambda: services.unit_accept(user=handler, number=number),
        "reply": lambda: services.reply(user=handler, number=number, **REPLY),
        "evaluate": lambda: appeals.evaluate(
            user=intake,
            number=number,
            office_rating="satisfied",
            unit_rating="dissatisfied" if index % 2 else "basically_satisfied",
            reasons="未完全解决",
        ),  # fmt: skip
        "withdraw": lambda: services.withdraw(user=intake, number=number, reasons="信访人申请撤回"),
        "extend": lambda: services.request_extension(
            user=handler, number=number, reasons="需补充调查", days=5
        ),
        "approve": lambda: services.approve_extension(user=world.leader_a, number=number),
        "review": lambda: appeals.request_review(user=intake, number=number, reasons="处理结果不当"),
    }
    # Refused, or not for this caller (county A's leader approves county A's extensions only).
    with contextlib.suppress(TransitionRefused, ValidationError, PetitionNotFound):
        steps[action]()


steps = st.lists(
    st.tuples(st.sampled_from(ACTIONS), st.integers(0, 5), st.integers(0, 12)), min_size=3, max_size=9
)


@hypothesis_settings(
    max_examples=4,
    derandomize=True,
    deadline=None,
    database=None,
    phases=(Phase.explicit, Phase.generate),  # no shrinking: each example costs seconds
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(sequence=steps)
def test_incremental_refresh_equals_rebuild_and_is_idempotent(world, sequence):
    """Whatever happened on whichever days, refreshed at whichever moments, the daily and monthly
    counts after a last refresh are those of a rebuild; refreshing again (nothing marked, or every
    day marked) changes nothing."""
    # given: the actions, each on its day (days move forward, sometimes over a month's end)
    numbers: list[tuple[str, bool]] = []
    day = START
    for action, index, forward in sequence:
        day += dt.timedelta(days=forward)
        with freeze_time(dt.datetime.combine(day, dt.time(10), tzinfo=TZ)):
            _act(world, numbers, action, index, day)
    # when
    rollup.refresh()
    incremental = snapshot()
    # then
    assert not DirtyDay.objects.exists()
    assert incremental == rebuilt()
    rollup.refresh()
    assert snapshot() == incremental
    rollup.mark_days(rollup.fact_days())
    rollup.refresh()
    assert snapshot() == incremental


# --- a refresh and an action at the same time (PostgreSQL) -------------------------------------------

TIMEOUT = 60


def _in_thread(work: Callable[[], object], errors: list[BaseException]) -> threading.Thread:
    def run() -> None:
        try:
            work()
        except BaseException as exc:  # reported by the test
            errors.append(exc)
        finally:
            connections.close_all()

    thread = threading.Thread(target=run)
    thread.start()
    return thread


def _register(world) -> None:
    """County A registers a petition received yesterday (marks yesterday and today)."""
    clerk = User.objects.get(pk=world.intake_a.pk)
    draft = make_draft(world.a.township, received_on=timezone.localdate() - dt.timedelta(days=1))
    services.register(draft=draft, office=world.a.office, actor=clerk)


@pytest.mark.postgres
@pytest.mark.skipif(not ON_POSTGRES, reason="needs PostgreSQL: two connections committing at once")
# Committed data, visible to the threads' connections (the flush is handled by tests/conftest.py).
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
@pytest.mark.parametrize(
    "first", ["refresh reads, then the action commits", "the action marks, then refresh runs"]
)
def test_a_refresh_during_an_action_loses_nothing(world, monkeypatch, first):
    """Either order of the race leaves the day marked, so the next refresh counts the action:
    (a) the refresh has read the facts of the day when the action commits its petition and its mark;
    (b) the action has written its mark (not committed) when the refresh deletes the day's marks."""
    _register(world)
    rollup.refresh()
    before = snapshot()
    today = timezone.localdate()
    rollup.mark_days([today - dt.timedelta(days=1), today])  # something for the racing refresh to do
    errors: list[BaseException] = []
    paused, resume = threading.Event(), threading.Event()

    def hold(real: Callable) -> Callable:
        def held(*args, **kwargs):
            result = real(*args, **kwargs)
            paused.set()
            assert resume.wait(TIMEOUT)
            return result

        return held

    if first.startswith("refresh"):
        # the refresh stops after recomputing, its transaction still open; the action runs and commits
        monkeypatch.setattr(rollup, "recompute_day", hold(rollup.recompute_day))
        refresher = _in_thread(rollup.refresh, errors)
        assert paused.wait(TIMEOUT)
        monkeypatch.undo()
        _in_thread(lambda: _register(world), errors).join(TIMEOUT)
        resume.set()
        refresher.join(TIMEOUT)
    else:
        # the action stops after marking, its transaction still open; the refresh runs and commits
        monkeypatch.setattr(receivers, "mark_days", hold(receivers.mark_days))
        actor = _in_thread(lambda: _register(world), errors)
        assert paused.wait(TIMEOUT)
        monkeypatch.undo()
        _in_thread(rollup.refresh, errors).join(TIMEOUT)
        resume.set()
        actor.join(TIMEOUT)
    assert not errors, errors
    # then: the day is marked again, and the next refresh makes the counts those of a rebuild
    assert DirtyDay.objects.exists()
    rollup.refresh()
    after = snapshot()
    assert after != before
    assert after == rebuilt()
