"""A declaration's stored clocks (issue 14): the same rows the page and the dossier read."""

from __future__ import annotations

from django.utils import timezone
from rest_framework import serializers

from declarations.api.serializers.common import UserRefField
from declarations.choices import Clock, DeadlineOutcome, Duty
from declarations.models import Deadline


class DeadlineOutput(serializers.Serializer):
    clock = serializers.ChoiceField(choices=Clock.choices)
    clock_display = serializers.CharField(source="get_clock_display")
    measure = serializers.SerializerMethodField(help_text="The measure's id for its own clocks.")
    duty = serializers.ChoiceField(
        choices=Duty.choices, help_text="The role due to act when the clock started."
    )
    due_to_act = UserRefField(help_text="The person due to act; null when a role is due.")
    due_to_act_name = serializers.CharField(help_text="Their name when the clock started.")
    due_to_act_position = serializers.CharField(help_text="Their position then.")
    started_at = serializers.DateTimeField()
    due_at = serializers.DateTimeField()
    legal_topic = serializers.CharField(help_text="The rulebook topic of its legal basis.")
    outcome = serializers.ChoiceField(choices=DeadlineOutcome.choices)
    ended_at = serializers.DateTimeField(allow_null=True)
    ended_by = UserRefField(help_text="Who met it; null unless met.")
    escalated_at = serializers.DateTimeField(allow_null=True)
    missed = serializers.SerializerMethodField(
        help_text="Ended, or still running now, after its due time: charged to `due_to_act` "
        "(or the role) (003 cl. 9)."
    )

    def get_measure(self, deadline: Deadline) -> str | None:
        return str(deadline.measure.code) if deadline.measure is not None else None

    def get_missed(self, deadline: Deadline) -> bool:
        return deadline.missed(timezone.now())
