"""Filters of the lists (django-filter). They narrow a scoped queryset, never widen it."""

from __future__ import annotations

from typing import Any

import django_filters
from django import forms
from django.db.models import QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _
from drf_spectacular.utils import extend_schema_field

from declarations.choices import DeclarationState, MeasureKind, MeasureState
from declarations.dates import DATE_CEILING, DATE_FLOOR, validate_typed_date
from declarations.models import Declaration, Measure
from declarations.selectors import DeclarationFilters, declaration_filtered


class StrictFilterForm(forms.Form):
    """A filter given with an empty value is an error, not "no filter": a client that sends
    ``unit=`` meant some unit, and must not silently get every declaration."""

    def clean(self) -> dict[str, Any]:
        cleaned: dict[str, Any] = super().clean() or {}
        for name in self.fields:
            raw = self.data.getlist(name) if hasattr(self.data, "getlist") else []
            if any(value == "" for value in raw):
                self.add_error(name, _("Give a value or leave the parameter out."))
        return cleaned


class DeclarationFilter(django_filters.FilterSet):
    """Every filter is applied at once, by ``filter_queryset``; the filters' own types are what
    the schema documents (no ``method``: a method's ``Any`` would hide them)."""

    state = django_filters.MultipleChoiceFilter(
        choices=DeclarationState.choices,
        help_text="One or more states (repeat the parameter).",
    )
    # checked as the words true and false (anything else is a 400), documented as a boolean
    # (drf-spectacular reads the override on a filter too; its types name only fields)
    overdue = extend_schema_field(  # type: ignore[type-var]
        {
            "type": "boolean",
            "description": "true: open declarations past their earliest running deadline; "
            "false: the others.",
        }
    )(django_filters.ChoiceFilter(choices=[("true", "true"), ("false", "false")]))
    body = django_filters.CharFilter(help_text="The state body's short name (slug).")
    unit = django_filters.UUIDFilter(help_text="The unit the declarant serves in now.")
    # the bounds keep the day's first and last instant convertible to UTC: 0001-01-01 used to
    # overflow and answer 500 (issue 12)
    submitted_from = django_filters.DateFilter(
        validators=[validate_typed_date],
        help_text=f"Submitted on or after this day (Almaty); {DATE_FLOOR} to {DATE_CEILING}.",
    )
    submitted_to = django_filters.DateFilter(
        validators=[validate_typed_date],
        help_text=f"Submitted on or before this day (Almaty); {DATE_FLOOR} to {DATE_CEILING}.",
    )
    search = extend_schema_field(  # type: ignore[type-var]
        {
            "type": "string",
            "maxLength": 200,
            "description": "Words found in the registration number, the matter, the personal "
            "interest or the servant's name (case-insensitive).",
        }
    )(django_filters.CharFilter(max_length=200))

    class Meta:
        model = Declaration
        fields: list[str] = []
        form = StrictFilterForm

    def filter_queryset(self, queryset: QuerySet[Declaration]) -> QuerySet[Declaration]:
        """Every filter through the one selector the pages use too."""
        d = self.form.cleaned_data
        filters = DeclarationFilters(
            search=d.get("search") or "",
            states=tuple(d.get("state") or ()),
            overdue=None if not d.get("overdue") else d["overdue"] == "true",
            body=d.get("body") or "",
            unit=d.get("unit"),
            submitted_from=d.get("submitted_from"),
            submitted_to=d.get("submitted_to"),
        )
        return declaration_filtered(queryset, filters, now=timezone.now())


class MeasureFilter(django_filters.FilterSet):
    state = django_filters.MultipleChoiceFilter(choices=MeasureState.choices)
    kind = django_filters.MultipleChoiceFilter(choices=MeasureKind.choices)

    class Meta:
        model = Measure
        fields: list[str] = []
        form = StrictFilterForm
