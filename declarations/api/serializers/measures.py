"""Serializers of measures: one measure of a decision as the reviewer gives it, the servant's
answer to a transfer, HR's order, and the measure as everyone reads it."""

from __future__ import annotations

from rest_framework import serializers

from declarations.api.serializers.common import (
    PersonOutput,
    StrictBooleanField,
    StrictCharField,
    StrictSerializer,
    StrictUUIDField,
    VersionField,
)
from declarations.api.serializers.people import PositionOutput
from declarations.choices import MeasureKind, MeasureState
from declarations.models.declaration import MATTER_MAX, REASON_MAX
from declarations.services.measures import ACCEPT, DECLINE

#: the servant's answer to a transfer proposal
CONSENT_DECISIONS = [(ACCEPT, ACCEPT), (DECLINE, DECLINE)]

# ---- inputs -------------------------------------------------------------------------------


class MeasureInput(StrictSerializer):
    kind = serializers.ChoiceField(choices=MeasureKind.choices)
    substitute = StrictUUIDField(
        required=False, allow_null=True, help_text="reassign: the servant who takes the matter."
    )
    matter = StrictCharField(
        max_length=MATTER_MAX,
        required=False,
        allow_blank=True,
        default="",
        help_text="reassign: the matter handed over (default: the matter of the notice).",
    )
    description = StrictCharField(
        max_length=REASON_MAX,
        required=False,
        allow_blank=True,
        default="",
        help_text="change_duties, other: what changes or what is done.",
    )
    effective_date = serializers.DateField(
        required=False,
        allow_null=True,
        help_text="change_duties: from the day of the decision to two years after it.",
    )
    position = StrictUUIDField(
        required=False, allow_null=True, help_text="transfer: the vacant position."
    )
    proposed_date = serializers.DateField(
        required=False,
        allow_null=True,
        help_text="transfer: from the day of the decision to two years after it.",
    )
    needs_order = StrictBooleanField(
        required=False, default=False, help_text="other: HR records an order to carry it out."
    )


class ConsentInput(StrictSerializer):
    decision = serializers.ChoiceField(choices=CONSENT_DECISIONS)
    reason = StrictCharField(
        max_length=REASON_MAX,
        required=False,
        allow_blank=True,
        default="",
        help_text="Required to decline.",
    )


class ImplementInput(StrictSerializer):
    order_number = StrictCharField(max_length=64, multiline=False)
    order_date = serializers.DateField(
        help_text="Not before the day the measure was decided, not in the future (Almaty).",
    )


# ---- outputs ------------------------------------------------------------------------------


class MeasureOutput(serializers.Serializer):
    id = serializers.UUIDField(source="code")
    version = VersionField()
    declaration = serializers.UUIDField(source="declaration.code")
    registration_number = serializers.CharField(
        source="declaration.registration_number", allow_null=True
    )
    kind = serializers.ChoiceField(choices=MeasureKind.choices)
    kind_display = serializers.CharField(source="get_kind_display")
    state = serializers.ChoiceField(choices=MeasureState.choices)
    state_display = serializers.CharField(source="get_state_display")
    decided_at = serializers.DateTimeField(source="decision.decided_at")
    reason = serializers.CharField(source="decision.reason")
    substitute = PersonOutput(allow_null=True)
    matter = serializers.CharField()
    description = serializers.CharField()
    effective_date = serializers.DateField(allow_null=True)
    needs_order = serializers.BooleanField()
    position = PositionOutput(allow_null=True)
    proposed_date = serializers.DateField(allow_null=True)
    consent_due_at = serializers.DateTimeField(allow_null=True)
    answered_at = serializers.DateTimeField(allow_null=True)
    answer_reason = serializers.CharField()
    order_due_at = serializers.DateTimeField(allow_null=True)
    order_number = serializers.CharField()
    order_date = serializers.DateField(allow_null=True)
    implemented_at = serializers.DateTimeField(allow_null=True)
