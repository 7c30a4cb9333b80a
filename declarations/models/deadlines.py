"""Clocks as facts (issue 14): every deadline instance is stored when it starts, with the person
due to act at that moment, and closed when it ends; nothing is overwritten. The declaration's
``start_review_due_at``/``decision_due_at``/``due_at`` are the running clocks' summary; these
rows are the history a disciplinary commission reads (003 cl. 9).
"""

from __future__ import annotations

from datetime import datetime

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from declarations.choices import Clock, DeadlineOutcome, Duty, ReminderUnit
from declarations.models.declaration import Declaration
from declarations.models.measures import Measure


class Deadline(models.Model):
    """One clock of one declaration (DESIGN.md §3), for one person or role."""

    declaration = models.ForeignKey(Declaration, on_delete=models.PROTECT, related_name="deadlines")
    measure = models.ForeignKey(
        Measure, on_delete=models.PROTECT, null=True, blank=True, related_name="deadlines"
    )
    clock = models.CharField(_("deadline"), max_length=32, choices=Clock.choices)
    duty = models.CharField(_("due to act as"), max_length=16, choices=Duty.choices)
    due_to_act = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        help_text=_("Empty when a role is due (management awaiting a member; HR)."),
    )
    # Who the person was when the clock started: the record says what was true then.
    due_to_act_name = models.CharField(_("due to act"), max_length=255, blank=True)
    due_to_act_position = models.CharField(_("position"), max_length=255, blank=True)
    started_at = models.DateTimeField(_("started"))
    due_at = models.DateTimeField(_("due"))
    legal_topic = models.CharField(_("legal basis"), max_length=64, blank=True)
    outcome = models.CharField(
        _("outcome"),
        max_length=16,
        choices=DeadlineOutcome.choices,
        default=DeadlineOutcome.RUNNING,
    )
    ended_at = models.DateTimeField(_("ended"), null=True, blank=True)
    ended_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    escalated_at = models.DateTimeField(_("escalated"), null=True, blank=True)
    # Issue 16: when the scheduler next looks at this clock. ``remind_at`` is the next reminder
    # before the due time (none left: empty); ``escalate_at`` the next escalation after it, one
    # level further up each time (``escalation_level`` so far). Both are set when the clock
    # starts, from the body's reminder rules and the working-day calendar, and moved on by the
    # sweep; a clock that ends is never looked at again (the indexes hold running ones only).
    remind_at = models.DateTimeField(_("next reminder"), null=True, blank=True)
    escalate_at = models.DateTimeField(_("next escalation"), null=True, blank=True)
    escalation_level = models.PositiveSmallIntegerField(_("escalation level"), default=0)

    class Meta:
        verbose_name = _("deadline")
        verbose_name_plural = _("deadlines")
        ordering = ["declaration_id", "started_at", "id"]
        indexes = [
            models.Index(
                fields=["remind_at"],
                condition=models.Q(outcome="running", remind_at__isnull=False),
                name="deadline_remind_at",
            ),
            models.Index(
                fields=["escalate_at"],
                condition=models.Q(outcome="running", escalate_at__isnull=False),
                name="deadline_escalate_at",
            ),
            models.Index(fields=["declaration", "outcome"], name="deadline_declaration_outcome"),
        ]

    def __str__(self) -> str:
        return f"{self.declaration_id} {self.clock} due {self.due_at:%Y-%m-%d %H:%M}"

    def missed(self, now: datetime) -> bool:
        """Ended, or still running at ``now``, after its due time."""
        end = self.ended_at if self.outcome != DeadlineOutcome.RUNNING else now
        return end is not None and end > self.due_at


class ReminderRule(models.Model):
    """When the person due to act is reminded before a deadline (issue 16), per body and clock.

    A body with no rule for a clock uses the deployment's defaults (``COI_REMINDERS``: one
    working day before and on the due day, at 09:00 Almaty). ``working_days`` rules fire at
    ``at_time`` (Almaty) on the working day that many working days before the due day (0: the
    due day itself); ``hours`` rules that many hours before the due instant.
    """

    body = models.ForeignKey(
        "declarations.StateBody", on_delete=models.CASCADE, related_name="reminder_rules"
    )
    clock = models.CharField(_("deadline"), max_length=32, choices=Clock.choices)
    unit = models.CharField(
        pgettext_lazy("reminder rule", "unit"),
        max_length=16,
        choices=ReminderUnit.choices,
        default=ReminderUnit.WORKING_DAYS,
    )
    amount = models.PositiveSmallIntegerField(_("how many before"), default=1)
    at_time = models.TimeField(_("time of day (Almaty)"), null=True, blank=True)

    class Meta:
        verbose_name = _("reminder rule")
        verbose_name_plural = _("reminder rules")
        ordering = ["body_id", "clock", "unit", "-amount"]
        constraints = [
            models.UniqueConstraint(
                fields=["body", "clock", "unit", "amount", "at_time"], name="reminder_rule_once"
            )
        ]

    def __str__(self) -> str:
        return f"{self.clock}: {self.amount} {self.unit}"
