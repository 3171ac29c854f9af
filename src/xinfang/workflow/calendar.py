"""The legal calendar: which days are working days in the People's Republic of China.

Sources, in order of precedence:

1. ``CalendarOverride`` rows the system administrator enters (a year the package does not know yet,
   or a correction): they always win;
2. the ``chinesecalendar`` package (import name ``chinese_calendar``), which carries the State Council's
   yearly arrangement of public holidays and of the 调休 Saturdays and Sundays that are worked;
3. for a year neither knows: Monday to Friday.  Such a year is *unknown*, and every deadline computed
   through it carries a warning (deadlines.Deadline.warnings), because weekends alone are wrong around
   each public holiday.

The package's behaviour for unknown years (checked against chinesecalendar 1.11.0): ``is_workday`` and
``is_holiday`` raise ``NotImplementedError("no available data for year 2027, only year between [2004,
2026] supported")`` for any date outside the years of its data, in the past as in the future.  Each
release adds the next year after the State Council publishes it (around November).

The override table is small, so it is read whole into a process-wide ``LegalCalendar`` and kept for a
minute (``CACHE_SECONDS``); a save through the models drops it at once in the saving process.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from functools import lru_cache
from typing import TYPE_CHECKING, Any

import chinese_calendar
from django.db import transaction
from django.utils.translation import gettext as _

from xinfang.audit.services import record_event
from xinfang.core.caching import ProcessCache

if TYPE_CHECKING:
    from .models import CalendarOverride

# How long another process may keep using a calendar after an administrator changed the overrides.
CACHE_SECONDS = 60

ONE_DAY = dt.timedelta(days=1)


@lru_cache(maxsize=256)
def package_knows(year: int) -> bool:
    """True when the ``chinesecalendar`` package has the holiday arrangement of ``year``.

    Asked of the package itself (it raises NotImplementedError for a year outside its data) rather
    than of its internal tables, so a new release that changes them still answers correctly.
    """
    try:
        chinese_calendar.is_workday(dt.date(year, 6, 1))
    except NotImplementedError:
        return False
    return True


@lru_cache(maxsize=1)
def package_years() -> tuple[int, int]:
    """The first and last year of the package's data, for messages (``holidays`` is part of its API)."""
    years = [day.year for day in chinese_calendar.holidays]
    return min(years), max(years)


class LegalCalendar:
    """Working days: the administrator's overrides, else the package, else Monday to Friday.

    Pure and immutable once built, so one instance is shared by every thread of a process; tests build
    their own with chosen overrides and need no database.
    """

    def __init__(
        self, overrides: Mapping[dt.date, bool] | None = None, entered_years: Iterable[int] = ()
    ) -> None:
        self._overrides: dict[dt.date, bool] = dict(overrides or {})
        self._entered_years = frozenset(entered_years)

    # --- single days -----------------------------------------------------------------------------

    def is_working_day(self, day: dt.date) -> bool:
        """Whether ``day`` is worked: 调休 Saturdays and Sundays are, public holidays are not."""
        if isinstance(day, dt.datetime):  # a datetime is a date subclass: use its date, never its time
            day = day.date()
        override = self._overrides.get(day)
        if override is not None:
            return override
        if package_knows(day.year):
            return bool(chinese_calendar.is_workday(day))
        return day.weekday() < 5

    def has_data(self, year: int) -> bool:
        """True when ``year``'s holidays are known: from the package, or entered by the administrator."""
        return year in self._entered_years or package_knows(year)

    def missing_years(self, first: dt.date, last: dt.date) -> list[int]:
        """The years between two dates (inclusive) whose holidays are not known."""
        return [y for y in range(min(first, last).year, max(first, last).year + 1) if not self.has_data(y)]

    # --- moving and counting ---------------------------------------------------------------------

    def next_working_day(self, day: dt.date) -> dt.date:
        """The first working day strictly after ``day``."""
        return self.working_day_on_or_after(day + ONE_DAY)

    def working_day_on_or_after(self, day: dt.date) -> dt.date:
        """``day`` itself when it is worked, else the next working day (民法典 Art. 203 ¶1)."""
        # The longest run of rest days in any arrangement is 9 (Spring Festival 2026: 15–23 February);
        # the bound only stops an override table marking a whole year as holidays from looping forever.
        for _step in range(400):
            if self.is_working_day(day):
                return day
            day += ONE_DAY
        raise ValueError(f"no working day within 400 days of {day}")

    def add_working_days(self, start: dt.date, count: int) -> dt.date:
        """The ``count``-th working day after ``start`` (``start`` itself is not counted).

        ``count`` = 0 gives ``start`` unchanged; 调休 working days count, holidays and weekends do not.
        """
        if count < 0:
            raise ValueError("count must not be negative")
        day = start
        for _n in range(count):
            day = self.next_working_day(day)
        return day

    def working_days_between(self, first: dt.date, last: dt.date) -> int:
        """How many working days lie between ``first`` and ``last``, both included."""
        count, day = 0, first
        while day <= last:
            count += self.is_working_day(day)
            day += ONE_DAY
        return count


# --- the process-wide calendar, read from the database -------------------------------------------


def _load_calendar() -> LegalCalendar:
    from .models import CalendarOverride, CalendarYear

    return LegalCalendar(
        overrides=dict(CalendarOverride.objects.values_list("date", "is_working_day")),
        entered_years=CalendarYear.objects.values_list("year", flat=True),
    )


_calendar: ProcessCache[LegalCalendar] = ProcessCache(_load_calendar, CACHE_SECONDS)


def get_calendar() -> LegalCalendar:
    """The calendar with the current overrides, reloaded at most once a minute per process."""
    return _calendar.get()


def clear_cache() -> None:
    """Forget the cached calendar; the next look-up reads the override table again."""
    _calendar.clear()


def is_working_day(day: dt.date) -> bool:
    """Whether ``day`` is a working day (overrides, then the State Council arrangement, then Mon–Fri)."""
    return get_calendar().is_working_day(day)


def next_working_day(day: dt.date) -> dt.date:
    """The first working day strictly after ``day``."""
    return get_calendar().next_working_day(day)


def working_day_on_or_after(day: dt.date) -> dt.date:
    """``day`` when it is a working day, else the next one."""
    return get_calendar().working_day_on_or_after(day)


def add_working_days(start: dt.date, count: int) -> dt.date:
    """The ``count``-th working day after ``start``, which is not counted."""
    return get_calendar().add_working_days(start, count)


def has_holiday_data(year: int) -> bool:
    """Whether the public holidays of ``year`` are known (package or administrator)."""
    return get_calendar().has_data(year)


def missing_year_warning(year: int) -> str:
    """The warning shown on a deadline that was computed through a year without holiday data."""
    first, last = package_years()
    return _(
        "{year}年的法定节假日和调休安排尚无数据（节假日数据包覆盖{first}—{last}年，管理员也未录入），"
        "该时限暂按周一至周五为工作日推算，请在国务院公布安排后核对。"
    ).format(year=year, first=first, last=last)


# --- editing the overrides (system administrator) ------------------------------------------------


def save_calendar_override(
    *,
    actor: Any,
    date: dt.date,
    is_working_day: bool,
    note: str = "",
    override: CalendarOverride | None = None,
) -> CalendarOverride:
    """Set one day as worked or as a holiday, whatever the package says; audited."""
    from .models import CalendarOverride

    target = override or CalendarOverride.objects.filter(date=date).first() or CalendarOverride()
    created = target.pk is None
    before = (
        None
        if created
        else {"date": target.date, "is_working_day": target.is_working_day, "note": target.note}
    )
    target.date, target.is_working_day, target.note = date, is_working_day, note.strip()
    target.full_clean()
    with transaction.atomic():
        target.save()
        record_event(
            actor=actor,
            action="workflow.calendar.create" if created else "workflow.calendar.change",
            obj=target,
            data={"before": before, "is_working_day": is_working_day},
        )
    return target


def delete_calendar_override(*, actor: Any, override: CalendarOverride) -> None:
    """Remove an override: the day follows the package (or Monday to Friday) again; audited."""
    with transaction.atomic():
        record_event(
            actor=actor,
            action="workflow.calendar.delete",
            obj=override,
            data={"date": override.date, "is_working_day": override.is_working_day},
        )
        override.delete()


def set_year_entered(*, actor: Any, year: int, entered: bool, note: str = "") -> None:
    """Mark ``year``'s arrangement as entered by hand (the no-data warning stops), or unmark it; audited."""
    from .models import CalendarYear

    if entered:
        CalendarYear(year=year, note=note.strip()).full_clean(validate_unique=False)
    with transaction.atomic():
        if entered:
            CalendarYear.objects.update_or_create(year=year, defaults={"note": note.strip()})
        else:
            row = CalendarYear.objects.filter(year=year).first()
            if row is None:
                return
            row.delete()
        record_event(
            actor=actor, action="workflow.calendar.year", obj=None, data={"year": year, "entered": entered}
        )
