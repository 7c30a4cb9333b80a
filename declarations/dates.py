"""The bounds of every date a person types (issue 12; docs/decisions.md "Dates").

A leaf module: it imports only Django and the standard library, so the models, the services, the
API filters and the web forms can all use it without bending the import direction
(models ← services ← api/web) and without pulling the working-day calendar into a form.

The bounds, and why:

- ``DATE_FLOOR`` (2000-01-01) for anything typed: no declaration of this system predates it (the
  rules and laws it cites are of 2013 and 2015), so an earlier day is a mistyped year. It also
  keeps every date far from ``date.min``, where turning the first instant of a day in Almaty
  into UTC overflows (the 500 of issue 12).
- ``DATE_CEILING`` (2099-12-31) for the list and export filters, which may look ahead but need
  no more than this century; it keeps clear of ``date.max`` for the same reason.
- A notice's ``aware_since``: from the floor to today (Almaty).
- An HR ``order_date``: from the day the measure was decided (Almaty) to today.
- A measure's ``effective_date`` / ``proposed_date``: from the day of the decision to two years
  after it (``MEASURE_HORIZON_YEARS``). A measure settles a conflict that exists now and the
  rules ask for it "timely" (003 cl. 8); a day further ahead than two years is a mistyped year or
  a measure that settles nothing, while two years still leaves room for a transfer planned into
  the next budget year's staff schedule.

``today`` and the decision day are passed in by the caller: services take them from the step's
instant in Almaty, forms from ``timezone.localdate()`` (``TIME_ZONE`` is Asia/Almaty).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

DATE_FLOOR = date(2000, 1, 1)
DATE_CEILING = date(2099, 12, 31)
MEASURE_HORIZON_YEARS = 2
OUT_OF_BOUNDS = "date_out_of_bounds"  # the ``code`` of the ValidationError


@dataclass(frozen=True)
class DateBounds:
    """A closed range of days, with what to say on each side of it.

    The messages may name the bound as ``%(date)s`` (ISO, as the date pickers send it).
    """

    earliest: date
    latest: date
    too_early: str
    too_late: str

    def error(self, value: date) -> str | None:
        """The message for ``value`` if it falls outside the range, else ``None``."""
        if value < self.earliest:
            return self.too_early % {"date": self.earliest.isoformat()}
        if value > self.latest:
            return self.too_late % {"date": self.latest.isoformat()}
        return None

    def validate(self, value: date) -> None:
        """The same, as a Django ``ValidationError`` (for form and filter fields)."""
        error = self.error(value)
        if error is not None:
            raise ValidationError(error, code=OUT_OF_BOUNDS)


def _before_floor() -> str:
    return _("The earliest date accepted is %(date)s; check the year.")


def typed_bounds() -> DateBounds:
    """Any typed date, e.g. the list and export filters: ``DATE_FLOOR``..``DATE_CEILING``."""
    return DateBounds(
        earliest=DATE_FLOOR,
        latest=DATE_CEILING,
        too_early=_before_floor(),
        too_late=_("The latest date accepted is %(date)s; check the year."),
    )


def past_bounds(*, today: date) -> DateBounds:
    """A day that has happened (a notice's ``aware_since``): ``DATE_FLOOR``..``today``."""
    return DateBounds(
        earliest=DATE_FLOOR,
        latest=today,
        too_early=_before_floor(),
        too_late=_("This date cannot be in the future."),
    )


def order_bounds(*, decided_on: date, today: date) -> DateBounds:
    """An HR order carrying out a measure: from the day it was decided to today."""
    return DateBounds(
        earliest=max(decided_on, DATE_FLOOR),
        latest=today,
        too_early=_("The order cannot be dated before the decision (%(date)s)."),
        too_late=_("This date cannot be in the future."),
    )


def measure_bounds(*, decided_on: date) -> DateBounds:
    """When a decided measure takes effect or a transfer is proposed: the decision day to
    ``MEASURE_HORIZON_YEARS`` after it."""
    return DateBounds(
        earliest=max(decided_on, DATE_FLOOR),
        latest=years_after(decided_on, MEASURE_HORIZON_YEARS),
        too_early=_("This date cannot be before the decision (%(date)s)."),
        too_late=_("This date is more than two years after the decision; the latest is %(date)s."),
    )


def years_after(day: date, years: int) -> date:
    """The same day ``years`` later; 29 February becomes 28 February in a common year."""
    try:
        return day.replace(year=day.year + years)
    except ValueError:
        return day.replace(year=day.year + years, day=28)


def validate_typed_date(value: date) -> None:
    """A field validator (forms, filters, serializers): the date is within the typed bounds."""
    typed_bounds().validate(value)
