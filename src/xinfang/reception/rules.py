"""Reception-day rules over the legal calendar: which dates a schedule falls on.

Pure functions of a ``LegalCalendar`` (workflow/calendar.py), so tests build calendars with chosen
overrides and need no database.  A "working day" is the legal one: a 调休 Saturday or Sunday that is
worked counts (January 2026's first working day is Sunday the 4th), a public holiday does not
(October 2026's is the 8th, after the National Day week).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from typing import Any

from xinfang.workflow.calendar import ONE_DAY, LegalCalendar

from .models import RuleKind

# Days off by statute whatever the year's arrangement (《全国年节及纪念日放假办法》 Art. 2: 元旦, 劳动节,
# 国庆节 1–3 October).  In a year whose arrangement is not yet known (the calendar falls back to
# Monday–Friday) a rule must at least not put a reception day on them; the session is still marked
# ``calendar_unconfirmed`` until the State Council publishes the year.
FIXED_HOLIDAYS = frozenset({(1, 1), (5, 1), (10, 1), (10, 2), (10, 3)})


def is_reception_working_day(calendar: LegalCalendar, day: dt.date) -> bool:
    """The legal calendar's answer, except the fixed statutory holidays of a year it does not know."""
    if not calendar.has_data(day.year) and (day.month, day.day) in FIXED_HOLIDAYS:
        return False
    return calendar.is_working_day(day)


def _months(first: dt.date, last: dt.date) -> Iterator[tuple[int, int]]:
    year, month = first.year, first.month
    while (year, month) <= (last.year, last.month):
        yield year, month
        year, month = (year + 1, 1) if month == 12 else (year, month + 1)


def nth_working_day(calendar: LegalCalendar, year: int, month: int, n: int) -> dt.date | None:
    """The ``n``-th working day of a month (1 = the first), or None when the month has fewer."""
    day = dt.date(year, month, 1)
    seen = 0
    while day.month == month:
        if is_reception_working_day(calendar, day):
            seen += 1
            if seen == n:
                return day
        day += ONE_DAY
    return None


def occurrences(
    *,
    rule: str,
    nth: int = 1,
    weekday: int | None = None,
    dates: list[Any] | None = None,
    first: dt.date,
    last: dt.date,
    calendar: LegalCalendar,
) -> list[dt.date]:
    """Every date from ``first`` to ``last`` (inclusive) on which the rule places a session, in order."""
    if last < first:
        return []
    found: list[dt.date] = []
    if rule in (RuleKind.FIRST_WORKING_DAY, RuleKind.NTH_WORKING_DAY):
        n = 1 if rule == RuleKind.FIRST_WORKING_DAY else max(1, nth)
        for year, month in _months(first, last):
            day = nth_working_day(calendar, year, month, n)
            if day is not None and first <= day <= last:
                found.append(day)
    elif rule == RuleKind.WEEKDAY:
        if weekday is None:
            return []
        day = first + dt.timedelta(days=(weekday - first.weekday()) % 7)
        while day <= last:
            # A holiday on that weekday has no session; it is not moved (the rule says "every Monday").
            if is_reception_working_day(calendar, day):
                found.append(day)
            day += dt.timedelta(days=7)
    elif rule == RuleKind.DATES:
        # Single dates are the office's own choice: kept even on a rest day (a weekend outreach day).
        parsed = sorted({d if isinstance(d, dt.date) else dt.date.fromisoformat(str(d)) for d in dates or []})
        found = [d for d in parsed if first <= d <= last]
    return found


def schedule_occurrences(
    schedule: Any, first: dt.date, last: dt.date, calendar: LegalCalendar
) -> list[dt.date]:
    """The dates of ``schedule`` between ``first`` and ``last``, within its own start and end."""
    first = max(first, schedule.starts_on)
    if schedule.ends_on is not None:
        last = min(last, schedule.ends_on)
    return occurrences(
        rule=schedule.rule,
        nth=schedule.nth,
        weekday=schedule.weekday,
        dates=schedule.dates,
        first=first,
        last=last,
        calendar=calendar,
    )


def slot_times(start: dt.time, end: dt.time, minutes: int) -> list[tuple[dt.time, dt.time]]:
    """The slots of a time window, ``minutes`` long each; a last, shorter remainder is a slot too."""
    base = dt.date(2000, 1, 1)
    at, stop = dt.datetime.combine(base, start), dt.datetime.combine(base, end)
    step = dt.timedelta(minutes=max(5, minutes))
    slots = []
    while at < stop:
        slots.append((at.time(), min(at + step, stop).time()))
        at += step
    return slots
