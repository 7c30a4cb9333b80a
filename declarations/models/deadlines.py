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

from declarations.choices import Clock, DeadlineOutcome, Duty
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

    class Meta:
        verbose_name = _("deadline")
        verbose_name_plural = _("deadlines")
        ordering = ["declaration_id", "started_at", "id"]
        indexes = [
            models.Index(
                fields=["due_at"],
                condition=models.Q(outcome="running", escalated_at__isnull=True),
                name="deadline_unescalated",
            ),
            models.Index(fields=["declaration", "outcome"], name="deadline_declaration_outcome"),
        ]

    def __str__(self) -> str:
        return f"{self.declaration_id} {self.clock} due {self.due_at:%Y-%m-%d %H:%M}"

    def missed(self, now: datetime) -> bool:
        """Ended, or still running at ``now``, after its due time."""
        end = self.ended_at if self.outcome != DeadlineOutcome.RUNNING else now
        return end is not None and end > self.due_at
