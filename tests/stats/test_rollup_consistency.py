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

from ..factories import make_draft, make_staff
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


# --- random histories --------------------------------------------------------------------------------

# How far a petition goes, step by step; a plan stops after some of them (or is withdrawn at once).
STEPS = ("forward", "accept", "extend", "reply", "evaluate", "review")

plans = st.lists(
    st.tuples(
        st.booleans(),  # county A (else B)
        st.integers(1, 6),  # headcount: 5 or more is a collective visit
        st.sampled_from(["letter", "visit", "online"]),
        st.integers(0, len(STEPS) + 1),  # steps taken; one more than all of them: withdrawn instead
        st.lists(st.integers(0, 25), min_size=len(STEPS) + 1, max_size=len(STEPS) + 1),  # days between
    ),
    min_size=1,
    max_size=4,
)
refreshes = st.lists(st.integers(0, 150), max_size=4)  # days (from the start) the worker refreshes on


def _leader_b(world) -> User:
    return User.objects.filter(username="leader_b").first() or make_staff(
        "leader_b", world.b.government, "leader"
    )


def _schedule(
    world, plan: list[tuple], refresh_on: list[int]
) -> list[tuple[dt.date, int, Callable[[], object]]]:
    """Every action of the plans and every refresh, each on its day."""
    events: list[tuple[dt.date, int, Callable[[], object]]] = []
    numbers: dict[int, str] = {}
    for i, (in_a, headcount, channel, taken, gaps) in enumerate(plan):
        county, clerk = (world.a, world.intake_a) if in_a else (world.b, world.intake_b)
        handler, leader = (world.handler_a, world.leader_a) if in_a else (world.handler_b, _leader_b(world))
        day = START + dt.timedelta(days=gaps[0])

        def register(i=i, county=county, clerk=clerk, day=day, headcount=headcount, channel=channel):
            draft = make_draft(county.township, received_on=day, headcount=headcount, channel=channel)
            numbers[i] = services.register(draft=draft, office=county.office, actor=clerk).petition.number

        def n(i=i) -> str:
            return numbers[i]

        actions: dict[str, list[Callable[[], object]]] = {
            "forward": [
                lambda n=n, c=clerk, u=county.department: services.forward(user=c, number=n(), unit=u)
            ],
            "accept": [lambda n=n, h=handler: services.unit_accept(user=h, number=n())],
            "extend": [
                lambda n=n, h=handler: services.request_extension(
                    user=h, number=n(), reasons="需补充调查", days=5
                ),
                lambda n=n, lead=leader: services.approve_extension(user=lead, number=n()),
            ],
            "reply": [lambda n=n, h=handler: services.reply(user=h, number=n(), **REPLY)],
            "evaluate": [
                lambda n=n, c=clerk, r=("dissatisfied" if headcount % 2 else "satisfied"): appeals.evaluate(
                    user=c, number=n(), office_rating="satisfied", unit_rating=r, reasons="未完全解决"
                )
            ],
            "review": [
                lambda n=n, c=clerk: appeals.request_review(user=c, number=n(), reasons="处理结果不当")
            ],
        }
        events.append((day, 0, register))
        if taken > len(STEPS):
            events.append(
                (day, 1, lambda n=n, c=clerk: services.withdraw(user=c, number=n(), reasons="申请撤回"))
            )
            continue
        for step, gap in zip(STEPS[:taken], gaps[1:], strict=False):
            day += dt.timedelta(days=gap)
            events.extend((day, 1, action) for action in actions[step])
    events.extend((START + dt.timedelta(days=d), 2, rollup.refresh) for d in refresh_on)
    return sorted(events, key=lambda e: (e[0], e[1]))


@hypothesis_settings(
    max_examples=5,
    derandomize=True,
    deadline=None,
    database=None,
    phases=(Phase.explicit, Phase.generate),  # no shrinking: each example costs seconds
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(plan=plans, refresh_on=refreshes)
def test_incremental_refresh_equals_rebuild_and_is_idempotent(world, plan, refresh_on):
    """Whatever happened on whichever days (over month ends), refreshed at whichever moments, the daily
    and monthly counts after a last refresh are those of a rebuild; refreshing again (nothing marked,
    or every day marked) changes nothing."""
    # given: each action on its day; a refused one (a window passed, say) writes nothing
    for day, _order, action in _schedule(world, plan, refresh_on):
        moment = dt.datetime.combine(day, dt.time(10), tzinfo=TZ)
        with freeze_time(moment), contextlib.suppress(TransitionRefused, ValidationError, PetitionNotFound):
            action()
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
