"""The Kazakhstan working-day calendar (DESIGN.md §3).

Public holidays, including the library's "observed" days off when a holiday falls on a weekend,
come from ``holidays`` (country KZ). Days moved by government decree each year are entered by
administrators as ``CalendarOverride`` rows and win over both the weekend and the library.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import holidays

from declarations.choices import CalendarDayKind
from declarations.models import CalendarOverride

ALMATY = ZoneInfo("Asia/Almaty")


@functools.lru_cache(maxsize=64)
def _public_holidays(year: int) -> frozenset[date]:
    return frozenset(holidays.country_holidays("KZ", years=[year]).keys())


@dataclass(frozen=True)
class WorkingCalendar:
    """Weekends and KZ public holidays, with administrators' overrides on top."""

    extra_days_off: frozenset[date] = field(default_factory=frozenset)
    extra_working_days: frozenset[date] = field(default_factory=frozenset)

    def is_working_day(self, day: date) -> bool:
        if day in self.extra_working_days:
            return True
        if day in self.extra_days_off:
            return False
        if day.weekday() >= 5:
            return False
        return day not in _public_holidays(day.year)

    def add_working_days(self, start: datetime, days: int) -> datetime:
        """The deadline ``days`` working days after ``start``.

        Counting begins on the day after the event, as periods in days usually do; the deadline is
        the end of the last working day in Almaty (23:59:59.999999 local, stored in UTC), and a
        declaration is overdue once that instant has passed.
        """
        if days < 1:
            raise ValueError("a deadline is at least one working day")
        day = start.astimezone(ALMATY).date()
        counted = 0
        while counted < days:
            day += timedelta(days=1)
            if self.is_working_day(day):
                counted += 1
        return end_of_day(day)

    def working_days_between(self, first: date, last: date) -> int:
        """How many working days after ``first`` up to and including ``last`` (0 when ``last``
        is not after ``first``): a notice filed on the next working day after the servant
        learned of the conflict is 1 working day late in this count."""
        count, day = 0, first
        while day < last:
            day += timedelta(days=1)
            if self.is_working_day(day):
                count += 1
        return count


def start_of_day(day: date) -> datetime:
    """The first instant of ``day`` in Almaty."""
    return datetime.combine(day, time.min, tzinfo=ALMATY)


def end_of_day(day: date) -> datetime:
    """The last instant of ``day`` in Almaty."""
    return datetime.combine(day, time.max, tzinfo=ALMATY)


def working_calendar() -> WorkingCalendar:
    """The calendar with the overrides currently in the table (one small query)."""
    off: set[date] = set()
    working: set[date] = set()
    for day, kind in CalendarOverride.objects.values_list("date", "kind"):
        (off if kind == CalendarDayKind.DAY_OFF else working).add(day)
    return WorkingCalendar(frozenset(off), frozenset(working))
