"""Property-based tests of the calendar and the counting rules (hypothesis).

Most run on a ``LegalCalendar`` built in memory (the real State Council data plus random overrides),
so thousands of examples need no database; the last ones go through ``due_date`` and the seeded rules.
Dates range over known years and the unknown ones around them (before 2004, after the package's last).
"""

from __future__ import annotations

import datetime as dt

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from xinfang.workflow.calendar import LegalCalendar, get_calendar, package_years
from xinfang.workflow.deadlines import count_period, due_date, paused_days_between, resume
from xinfang.workflow.models import PeriodRule, PeriodUnit, Step

FIRST_YEAR, LAST_YEAR = package_years()
DATES = st.dates(min_value=dt.date(FIRST_YEAR - 1, 1, 1), max_value=dt.date(LAST_YEAR + 2, 12, 31))
UNITS = st.sampled_from([PeriodUnit.CALENDAR_DAYS, PeriodUnit.WORKING_DAYS])
LENGTHS = st.integers(min_value=1, max_value=90)
# Random overrides: a handful of days forced to work or to rest, as an administrator might enter.
OVERRIDES = st.dictionaries(DATES, st.booleans(), max_size=20)

PROPERTY_SETTINGS = settings(max_examples=300, deadline=None)


def make_rule(length: int, unit: str, *, roll_forward: bool = True) -> PeriodRule:
    """An unsaved rule: count_period needs no database."""
    return PeriodRule(step="handling", length=length, unit=unit, roll_forward=roll_forward, source="测试")


@PROPERTY_SETTINGS
@given(start=DATES, length=LENGTHS, overrides=OVERRIDES)
def test_calendar_day_deadlines_that_move_never_fall_on_a_rest_day(start, length, overrides):
    """With roll_forward, the due date is a working day, and every day skipped to reach it was not."""
    legal = LegalCalendar(overrides)
    deadline = count_period(rule=make_rule(length, PeriodUnit.CALENDAR_DAYS), start=start, calendar=legal)
    assert deadline.nominal_end == start + dt.timedelta(days=length)
    assert legal.is_working_day(deadline.due_on)
    day = deadline.nominal_end
    while day < deadline.due_on:
        assert not legal.is_working_day(day)
        day += dt.timedelta(days=1)


@PROPERTY_SETTINGS
@given(start=DATES, length=LENGTHS, overrides=OVERRIDES)
def test_a_rule_that_does_not_move_ends_exactly_on_its_last_day(start, length, overrides):
    rule = make_rule(length, PeriodUnit.CALENDAR_DAYS, roll_forward=False)
    deadline = count_period(rule=rule, start=start, calendar=LegalCalendar(overrides))
    assert deadline.due_on == start + dt.timedelta(days=length) and deadline.warnings == []


@PROPERTY_SETTINGS
@given(start=DATES, length=LENGTHS, overrides=OVERRIDES)
def test_working_day_deadlines_are_working_days_with_exactly_length_working_days(start, length, overrides):
    """The due date is a working day and exactly ``length`` working days follow the trigger day up to it."""
    legal = LegalCalendar(overrides)
    deadline = count_period(rule=make_rule(length, PeriodUnit.WORKING_DAYS), start=start, calendar=legal)
    assert legal.is_working_day(deadline.due_on)
    assert legal.working_days_between(start + dt.timedelta(days=1), deadline.due_on) == length
    assert deadline.due_on >= start + dt.timedelta(days=length)


@PROPERTY_SETTINGS
@given(a=DATES, b=DATES, length=LENGTHS, unit=UNITS, overrides=OVERRIDES)
def test_due_date_is_monotonic_in_the_start_date(a, b, length, unit, overrides):
    """A later trigger never gives an earlier deadline."""
    legal = LegalCalendar(overrides)
    rule = make_rule(length, unit)
    early, late = sorted((a, b))
    assert (
        count_period(rule=rule, start=early, calendar=legal).due_on
        <= count_period(rule=rule, start=late, calendar=legal).due_on
    )


@PROPERTY_SETTINGS
@given(
    start=DATES,
    length=LENGTHS,
    unit=UNITS,
    pause_after=st.integers(min_value=1, max_value=60),
    pause_length=st.integers(min_value=0, max_value=40),
    overrides=OVERRIDES,
)
def test_pausing_then_resuming_adds_exactly_the_paused_days(
    start, length, unit, pause_after, pause_length, overrides
):
    """Calendar days: the period's last day moves by exactly the days paused.  Working days: the due
    date moves by exactly the working days paused."""
    legal = LegalCalendar(overrides)
    deadline = count_period(rule=make_rule(length, unit), start=start, calendar=legal)
    paused_on = start + dt.timedelta(days=pause_after)
    resumed_on = paused_on + dt.timedelta(days=pause_length)
    after = resume(deadline, paused_on=paused_on, resumed_on=resumed_on, calendar=legal)
    if unit == PeriodUnit.CALENDAR_DAYS:
        assert after.paused_days == pause_length
        assert after.nominal_end == deadline.nominal_end + dt.timedelta(days=pause_length)
        assert after.due_on == legal.working_day_on_or_after(after.nominal_end)
    else:
        paused = legal.working_days_between(paused_on, resumed_on - dt.timedelta(days=1))
        assert after.paused_days == paused
        assert after.due_on == legal.add_working_days(deadline.due_on, paused)
    # the same result as counting with paused_days from the start
    assert after == count_period(
        rule=deadline.rule, start=start, calendar=legal, paused_days=after.paused_days
    )


@PROPERTY_SETTINGS
@given(
    start=DATES,
    length=LENGTHS,
    unit=UNITS,
    pauses=st.lists(st.tuples(st.integers(1, 30), st.integers(0, 10)), min_size=1, max_size=4),
)
def test_successive_pauses_add_up(start, length, unit, pauses):
    """Two hearings (or more) add the sum of their days; order does not matter."""
    legal = LegalCalendar()
    deadline = count_period(rule=make_rule(length, unit), start=start, calendar=legal)
    total = 0
    for after, days in pauses:
        paused_on = start + dt.timedelta(days=after)
        resumed_on = paused_on + dt.timedelta(days=days)
        deadline = resume(deadline, paused_on=paused_on, resumed_on=resumed_on, calendar=legal)
        total += paused_days_between(paused_on, resumed_on, unit=unit, calendar=legal)
    assert deadline.paused_days == total


@PROPERTY_SETTINGS
@given(start=DATES, length=LENGTHS, unit=UNITS)
def test_warnings_appear_exactly_when_an_unknown_year_was_consulted(start, length, unit):
    legal = LegalCalendar()
    deadline = count_period(rule=make_rule(length, unit), start=start, calendar=legal)
    first = start + dt.timedelta(days=1) if unit == PeriodUnit.WORKING_DAYS else deadline.nominal_end
    unknown = [y for y in range(first.year, deadline.due_on.year + 1) if not FIRST_YEAR <= y <= LAST_YEAR]
    assert len(deadline.warnings) == len(unknown)
    for year, text in zip(unknown, deadline.warnings, strict=True):
        assert f"{year}年" in text


# --- through the database: the seeded rules and the cached calendar ------------------------------


@pytest.mark.django_db
@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(start=DATES, step=st.sampled_from(Step.values), paused=st.integers(min_value=0, max_value=20))
def test_seeded_rules_never_end_on_a_rest_day(start, step, paused):
    """Every seeded national rule moves off rest days or counts working days: no due date is a rest day."""
    deadline = due_date(step, start, None, paused_days=paused)
    assert get_calendar().is_working_day(deadline.due_on)
    assert deadline.due_on > start
    assert deadline.paused_days == paused
