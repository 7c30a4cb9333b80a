"""Filters of the lists (django-filter). They narrow a scoped queryset, never widen it."""

from __future__ import annotations

from datetime import datetime, time
from typing import Any

import django_filters
from django.db.models import Q, QuerySet
from django.utils import timezone

from declarations.choices import OPEN_STATES, DeclarationState, MeasureKind, MeasureState
from declarations.models import Declaration, Measure
from declarations.services.calendar import ALMATY


def _start_of(day: Any) -> datetime:
    return datetime.combine(day, time.min, tzinfo=ALMATY)


def _end_of(day: Any) -> datetime:
    return datetime.combine(day, time.max, tzinfo=ALMATY)


class DeclarationFilter(django_filters.FilterSet):
    state = django_filters.MultipleChoiceFilter(
        choices=DeclarationState.choices, help_text="One or more states (repeat the parameter)."
    )
    overdue = django_filters.BooleanFilter(
        method="filter_overdue", help_text="Open cases past their earliest running deadline."
    )
    body = django_filters.CharFilter(
        field_name="body__slug", help_text="The state body's short name (slug)."
    )
    unit = django_filters.UUIDFilter(
        field_name="declarant__position__unit__code",
        help_text="The unit the declarant serves in now.",
    )
    submitted_from = django_filters.DateFilter(
        method="filter_submitted_from", help_text="Submitted on or after this day (Almaty)."
    )
    submitted_to = django_filters.DateFilter(
        method="filter_submitted_to", help_text="Submitted on or before this day (Almaty)."
    )
    search = django_filters.CharFilter(
        method="filter_search",
        max_length=200,
        help_text="Words found in the matter or the personal interest (case-insensitive).",
    )

    class Meta:
        model = Declaration
        fields: list[str] = []

    def filter_overdue(self, qs: QuerySet[Declaration], name: str, value: bool) -> QuerySet[Any]:
        late = Q(state__in=list(OPEN_STATES), due_at__lt=timezone.now())
        return qs.filter(late) if value else qs.exclude(late)

    def filter_submitted_from(self, qs: QuerySet[Declaration], name: str, value: Any) -> Any:
        return qs.filter(submitted_at__gte=_start_of(value))

    def filter_submitted_to(self, qs: QuerySet[Declaration], name: str, value: Any) -> Any:
        return qs.filter(submitted_at__lte=_end_of(value))

    def filter_search(self, qs: QuerySet[Declaration], name: str, value: str) -> Any:
        for word in value.split()[:8]:
            qs = qs.filter(Q(matter__icontains=word) | Q(personal_interest__icontains=word))
        return qs


class MeasureFilter(django_filters.FilterSet):
    state = django_filters.MultipleChoiceFilter(choices=MeasureState.choices)
    kind = django_filters.MultipleChoiceFilter(choices=MeasureKind.choices)

    class Meta:
        model = Measure
        fields: list[str] = []
