"""The legal calendar: real State Council arrangements, the override table, years without data.

Dates are the real arrangements as shipped by chinesecalendar 1.11.0 (pinned): National Day 2025 is
1–8 October with Sunday 28 September and Saturday 11 October worked; Spring Festival 2026 is
15–23 February with Saturdays 14 and 28 February worked.
"""

from __future__ import annotations

import datetime as dt

import chinese_calendar
import pytest

from xinfang.audit.models import AuditEvent
from xinfang.workflow import calendar
from xinfang.workflow.calendar import LegalCalendar, package_knows, package_years
from xinfang.workflow.models import CalendarOverride

D = dt.date
FIRST_YEAR, LAST_YEAR = package_years()
UNKNOWN_YEAR = LAST_YEAR + 1  # 2027 with chinesecalendar 1.11.0


def test_the_package_refuses_years_it_does_not_know():
    """Real behaviour of the package: NotImplementedError outside its years, before and after."""
    # given / when / then
    assert (FIRST_YEAR, LAST_YEAR) == (2004, 2026)
    for year in (FIRST_YEAR - 1, UNKNOWN_YEAR):
        with pytest.raises(NotImplementedError, match="no available data for year"):
            chinese_calendar.is_workday(D(year, 3, 1))
    assert package_knows(LAST_YEAR) and not package_knows(UNKNOWN_YEAR) and not package_knows(FIRST_YEAR - 1)


@pytest.mark.parametrize(
    ("day", "working"),
    [
        (D(2025, 9, 30), True),  # Tuesday before National Day
        (D(2025, 10, 1), False),  # National Day
        (D(2025, 10, 8), False),  # last day of the 2025 National Day / Mid-Autumn break
        (D(2025, 10, 9), True),  # Thursday, back at work
        (D(2025, 9, 28), True),  # Sunday worked (调休)
        (D(2025, 10, 11), True),  # Saturday worked (调休)
        (D(2025, 10, 12), False),  # ordinary Sunday
        (D(2026, 2, 14), True),  # Saturday worked before Spring Festival 2026
        (D(2026, 2, 16), False),  # Spring Festival eve
        (D(2026, 2, 23), False),  # Monday, still on holiday
        (D(2026, 2, 24), True),
        (D(2026, 2, 28), True),  # Saturday worked after Spring Festival 2026
        (D(2026, 1, 4), True),  # Sunday worked after New Year 2026
    ],
)
def test_real_arrangements(day, working):
    """Holidays are not working days; 调休 Saturdays and Sundays are."""
    assert LegalCalendar().is_working_day(day) is working


def test_next_working_day_skips_a_long_holiday():
    legal = LegalCalendar()
    assert legal.next_working_day(D(2025, 9, 30)) == D(2025, 10, 9)
    assert legal.working_day_on_or_after(D(2025, 10, 1)) == D(2025, 10, 9)
    assert legal.working_day_on_or_after(D(2025, 10, 9)) == D(2025, 10, 9)
    # Friday → the next day is a 调休 Saturday, which is worked
    assert legal.next_working_day(D(2025, 10, 10)) == D(2025, 10, 11)


def test_add_working_days_counts_the_worked_saturday_and_skips_the_holiday():
    """Thursday 12 Feb 2026 + 5 working days: Fri 13, Sat 14 (调休), [15–23 off], Tue 24, Wed 25, Thu 26."""
    legal = LegalCalendar()
    assert legal.add_working_days(D(2026, 2, 12), 5) == D(2026, 2, 26)
    assert legal.add_working_days(D(2026, 2, 12), 0) == D(2026, 2, 12)
    assert legal.working_days_between(D(2026, 2, 13), D(2026, 2, 26)) == 5
    with pytest.raises(ValueError):
        legal.add_working_days(D(2026, 2, 12), -1)


def test_a_datetime_counts_as_its_date():
    assert LegalCalendar().is_working_day(dt.datetime(2025, 10, 1, 9, 30)) is False


def test_overrides_win_over_the_package():
    """A day the administrator marks wins both ways."""
    legal = LegalCalendar({D(2025, 10, 9): False, D(2025, 10, 4): True})
    assert legal.is_working_day(D(2025, 10, 9)) is False
    assert legal.is_working_day(D(2025, 10, 4)) is True
    assert legal.next_working_day(D(2025, 10, 1)) == D(2025, 10, 4)
    assert legal.next_working_day(D(2025, 10, 4)) == D(2025, 10, 10)


def test_an_unknown_year_falls_back_to_monday_to_friday_and_says_so():
    legal = LegalCalendar()
    monday = D(UNKNOWN_YEAR, 1, 4) - dt.timedelta(days=D(UNKNOWN_YEAR, 1, 4).weekday())
    assert legal.is_working_day(monday) and not legal.is_working_day(monday + dt.timedelta(days=5))
    assert not legal.has_data(UNKNOWN_YEAR)
    assert legal.missing_years(D(LAST_YEAR, 12, 1), D(UNKNOWN_YEAR, 2, 1)) == [UNKNOWN_YEAR]
    # entered by hand, the year counts as known
    assert LegalCalendar(entered_years=[UNKNOWN_YEAR]).has_data(UNKNOWN_YEAR)


def test_warning_text_names_the_year_and_the_package_range():
    text = calendar.missing_year_warning(UNKNOWN_YEAR)
    assert f"{UNKNOWN_YEAR}年" in text and f"{FIRST_YEAR}—{LAST_YEAR}" in text


@pytest.mark.django_db
def test_the_database_calendar_reads_overrides_and_forgets_them_when_they_change(world):
    """Module-level look-ups use the override table; a save or delete takes effect at once."""
    # given
    assert calendar.is_working_day(D(2025, 10, 9))
    # when
    override = calendar.save_calendar_override(
        actor=world.sysadmin, date=D(2025, 10, 9), is_working_day=False, note="测试：临时放假"
    )
    # then
    assert not calendar.is_working_day(D(2025, 10, 9))
    assert calendar.next_working_day(D(2025, 9, 30)) == D(2025, 10, 10)
    # saving the same date again changes the row instead of failing on the unique date
    calendar.save_calendar_override(actor=world.sysadmin, date=D(2025, 10, 9), is_working_day=True)
    assert CalendarOverride.objects.count() == 1 and calendar.is_working_day(D(2025, 10, 9))
    calendar.delete_calendar_override(
        actor=world.sysadmin, override=CalendarOverride.objects.get(pk=override.pk)
    )
    assert calendar.is_working_day(D(2025, 10, 9))
    actions = list(
        AuditEvent.objects.filter(action__startswith="workflow.calendar").values_list("action", flat=True)
    )
    assert sorted(actions) == [
        "workflow.calendar.change",
        "workflow.calendar.create",
        "workflow.calendar.delete",
    ]


@pytest.mark.django_db
def test_marking_a_year_entered_removes_it_from_the_unknown_years(world):
    assert not calendar.has_holiday_data(UNKNOWN_YEAR)
    calendar.set_year_entered(actor=world.sysadmin, year=UNKNOWN_YEAR, entered=True, note="国办发明电")
    assert calendar.has_holiday_data(UNKNOWN_YEAR)
    calendar.set_year_entered(actor=world.sysadmin, year=UNKNOWN_YEAR, entered=False)
    assert not calendar.has_holiday_data(UNKNOWN_YEAR)
    assert AuditEvent.objects.filter(action="workflow.calendar.year").count() == 2


@pytest.mark.django_db
def test_the_cached_calendar_is_reused_within_the_minute(django_assert_num_queries):
    """One read of the override table serves every look-up until it changes or a minute passes."""
    with django_assert_num_queries(2):  # overrides and entered years
        for offset in range(60):
            calendar.is_working_day(D(2025, 1, 1) + dt.timedelta(days=offset))
