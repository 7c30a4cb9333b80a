"""Filters of the lists (django-filter). They narrow a scoped queryset, never widen it."""

from __future__ import annotations

from typing import Any

import django_filters
from django import forms
from django.db.models import Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

from declarations.calendar import end_of_day, start_of_day
from declarations.choices import OPEN_STATES, DeclarationState, MeasureKind, MeasureState
from declarations.dates import DATE_CEILING, DATE_FLOOR, validate_typed_date
from declarations.models import Declaration, Measure
from declarations.selectors import containing


class StrictFilterForm(forms.Form):
    """A filter given with an empty value is an error, not "no filter": a client that sends
    ``unit=`` meant some unit, and must not silently get every case."""

    def clean(self) -> dict[str, Any]:
        cleaned: dict[str, Any] = super().clean() or {}
        for name in self.fields:
            raw = self.data.getlist(name) if hasattr(self.data, "getlist") else []
            if any(value == "" for value in raw):
                self.add_error(name, _("Give a value or leave the parameter out."))
        return cleaned


class DeclarationFilter(django_filters.FilterSet):
    state = django_filters.MultipleChoiceFilter(
        choices=DeclarationState.choices, help_text="One or more states (repeat the parameter)."
    )
    overdue = django_filters.ChoiceFilter(
        choices=[("true", "true"), ("false", "false")],
        method="filter_overdue",
        help_text="true: open cases past their earliest running deadline; false: the others.",
    )
    body = django_filters.CharFilter(
        field_name="body__slug", help_text="The state body's short name (slug)."
    )
    unit = django_filters.UUIDFilter(
        field_name="declarant__position__unit__code",
        help_text="The unit the declarant serves in now.",
    )
    # the bounds keep the day's first and last instant convertible to UTC: 0001-01-01 used to
    # overflow and answer 500 (issue 12)
    submitted_from = django_filters.DateFilter(
        method="filter_submitted_from",
        validators=[validate_typed_date],
        help_text=f"Submitted on or after this day (Almaty); {DATE_FLOOR} to {DATE_CEILING}.",
    )
    submitted_to = django_filters.DateFilter(
        method="filter_submitted_to",
        validators=[validate_typed_date],
        help_text=f"Submitted on or before this day (Almaty); {DATE_FLOOR} to {DATE_CEILING}.",
    )
    search = django_filters.CharFilter(
        method="filter_search",
        max_length=200,
        help_text="Words found in the matter or the personal interest (case-insensitive).",
    )

    class Meta:
        model = Declaration
        fields: list[str] = []
        form = StrictFilterForm

    def filter_overdue(self, qs: QuerySet[Declaration], name: str, value: str) -> QuerySet[Any]:
        late = Q(state__in=list(OPEN_STATES), due_at__lt=timezone.now())
        return qs.filter(late) if value == "true" else qs.exclude(late)

    def filter_submitted_from(self, qs: QuerySet[Declaration], name: str, value: Any) -> Any:
        return qs.filter(submitted_at__gte=start_of_day(value))

    def filter_submitted_to(self, qs: QuerySet[Declaration], name: str, value: Any) -> Any:
        return qs.filter(submitted_at__lte=end_of_day(value))

    def filter_search(self, qs: QuerySet[Declaration], name: str, value: str) -> Any:
        return containing(qs, ["matter", "personal_interest"], value)


class MeasureFilter(django_filters.FilterSet):
    state = django_filters.MultipleChoiceFilter(choices=MeasureState.choices)
    kind = django_filters.MultipleChoiceFilter(choices=MeasureKind.choices)

    class Meta:
        model = Measure
        fields: list[str] = []
        form = StrictFilterForm
