"""Reception-day rules over the legal calendar (no database): the first working day of a month
after a holiday week, a 调休 Sunday that is worked, the Nth working day, a weekday skipping holidays,
single dates, and the calendar's overrides."""

from __future__ import annotations

import datetime as dt

from xinfang.reception.models import RuleKind
from xinfang.reception.rules import nth_working_day, occurrences, slot_times
from xinfang.workflow.calendar import LegalCalendar

D = dt.date
CAL = LegalCalendar()


def test_first_working_day_of_october_2026_follows_the_national_day_holiday():
    # 国庆节 2026: 1–7 October off; the 8th (a Thursday) is the first working day.
    assert nth_working_day(CAL, 2026, 10, 1) == D(2026, 10, 8)


def test_an_override_that_makes_the_8th_a_holiday_moves_the_session_to_the_9th():
    cal = LegalCalendar(overrides={D(2026, 10, 8): False})
    assert occurrences(
        rule=RuleKind.FIRST_WORKING_DAY, first=D(2026, 10, 1), last=D(2026, 10, 31), calendar=cal
    ) == [D(2026, 10, 9)]


def test_a_worked_tiaoxiu_sunday_is_the_first_working_day():
    # January 2026: 1–3 off, Sunday the 4th is worked (调休), so the reception day is a Sunday.
    assert nth_working_day(CAL, 2026, 1, 1) == D(2026, 1, 4)
    assert D(2026, 1, 4).weekday() == 6


def test_a_tiaoxiu_saturday_counts_as_a_working_day():
    cal = LegalCalendar(overrides={D(2026, 8, 1): True})  # a Saturday declared worked
    assert nth_working_day(cal, 2026, 8, 1) == D(2026, 8, 1)
    assert nth_working_day(CAL, 2026, 8, 1) == D(2026, 8, 3)  # without it: Monday


def test_first_working_day_for_every_month_of_a_range():
    got = occurrences(rule=RuleKind.FIRST_WORKING_DAY, first=D(2026, 1, 1), last=D(2026, 6, 30), calendar=CAL)
    assert got == [D(2026, 1, 4), D(2026, 2, 2), D(2026, 3, 2), D(2026, 4, 1), D(2026, 5, 6), D(2026, 6, 1)]


def test_a_range_that_starts_after_the_first_working_day_skips_that_month():
    got = occurrences(rule=RuleKind.FIRST_WORKING_DAY, first=D(2026, 6, 2), last=D(2026, 7, 31), calendar=CAL)
    assert got == [D(2026, 7, 1)]


def test_nth_working_day_and_a_month_too_short():
    assert nth_working_day(CAL, 2026, 10, 3) == D(2026, 10, 10)  # 8th, 9th, then the 调休 Saturday
    assert nth_working_day(CAL, 2026, 2, 30) is None
    got = occurrences(
        rule=RuleKind.NTH_WORKING_DAY, nth=3, first=D(2026, 10, 1), last=D(2026, 10, 31), calendar=CAL
    )
    assert got == [D(2026, 10, 10)]


def test_every_thursday_skips_the_national_day():
    got = occurrences(
        rule=RuleKind.WEEKDAY, weekday=3, first=D(2026, 9, 28), last=D(2026, 10, 16), calendar=CAL
    )
    assert got == [D(2026, 10, 8), D(2026, 10, 15)]  # 1 October is a holiday: no session, not moved


def test_single_dates_within_the_range_in_order():
    dates = ["2026-12-10", "2026-11-01", "2027-02-01", "2026-12-10"]
    got = occurrences(
        rule=RuleKind.DATES, dates=dates, first=D(2026, 11, 2), last=D(2026, 12, 31), calendar=CAL
    )
    assert got == [D(2026, 12, 10)]


def test_slots_cover_the_window_with_a_shorter_last_one():
    assert slot_times(dt.time(9), dt.time(11, 30), 60) == [
        (dt.time(9), dt.time(10)),
        (dt.time(10), dt.time(11)),
        (dt.time(11), dt.time(11, 30)),
    ]


def test_in_a_year_the_calendar_does_not_know_new_year_s_day_is_still_off():
    # 2027's arrangement is not published yet: Monday–Friday, but never 1 January (a Friday).
    cal = LegalCalendar()
    assert not cal.has_data(2027)
    assert nth_working_day(cal, 2027, 1, 1) == D(2027, 1, 4)
