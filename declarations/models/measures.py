"""Measures decided on a declaration (003 cl. 8 p.2; Law 410-V Art. 15 p.3)."""

from __future__ import annotations

from datetime import date, datetime
from typing import TYPE_CHECKING

from django.conf import settings
from django.core.validators import MaxLengthValidator
from django.db import models
from django.utils.translation import gettext_lazy as _
from django_fsm import ConcurrentTransitionMixin, FSMField, transition

from declarations.choices import MeasureKind, MeasureState
from declarations.models.base import PublicIdMixin, TimeStampedModel
from declarations.models.declaration import MATTER_MAX, REASON_MAX, Declaration
from declarations.models.organization import Position, Servant
from declarations.rulebook import fsm_permission

if TYPE_CHECKING:
    from django.contrib.auth.models import User

M = MeasureState

#: A measure that HR has to act on (an order to issue) or has acted on (the order's number): a
#: declaration with one is in its body's HR officers' scope (``selectors``), found through the
#: partial index of the same condition below.
NEEDS_HR = models.Q(state=M.PENDING_ORDER) | ~models.Q(order_number="")


class Decision(PublicIdMixin, TimeStampedModel):
    """One decision of a reviewer: a reason and one or more measures."""

    declaration = models.ForeignKey(Declaration, on_delete=models.PROTECT, related_name="decisions")
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    decided_at = models.DateTimeField(_("decided at"))
    reason = models.TextField(
        _("reason"), max_length=REASON_MAX, validators=[MaxLengthValidator(REASON_MAX)]
    )

    class Meta:
        verbose_name = _("decision")
        verbose_name_plural = _("decisions")
        ordering = ["decided_at", "id"]

    def __str__(self) -> str:
        return f"{self.declaration} @ {self.decided_at:%Y-%m-%d}"


class Measure(ConcurrentTransitionMixin, PublicIdMixin, TimeStampedModel):
    declaration = models.ForeignKey(Declaration, on_delete=models.PROTECT, related_name="measures")
    decision = models.ForeignKey(Decision, on_delete=models.PROTECT, related_name="measures")
    kind = models.CharField(_("kind"), max_length=16, choices=MeasureKind.choices)
    state = FSMField(_("state"), choices=MeasureState.choices, protected=True)

    # reassign
    substitute = models.ForeignKey(
        Servant, on_delete=models.PROTECT, null=True, blank=True, related_name="substitutions"
    )
    matter = models.TextField(
        _("the matter"),
        max_length=MATTER_MAX,
        validators=[MaxLengthValidator(MATTER_MAX)],
        blank=True,
    )
    # change_duties, other
    description = models.TextField(
        _("description"),
        max_length=REASON_MAX,
        validators=[MaxLengthValidator(REASON_MAX)],
        blank=True,
    )
    effective_date = models.DateField(_("effective date"), null=True, blank=True)
    needs_order = models.BooleanField(_("needs an HR order"), default=False)
    # transfer
    position = models.ForeignKey(
        Position, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    proposed_date = models.DateField(_("proposed date"), null=True, blank=True)
    consent_due_at = models.DateTimeField(null=True, blank=True)
    answered_at = models.DateTimeField(null=True, blank=True)
    answer_reason = models.TextField(
        _("the servant's reason"),
        max_length=REASON_MAX,
        validators=[MaxLengthValidator(REASON_MAX)],
        blank=True,
    )
    # HR order
    order_due_at = models.DateTimeField(null=True, blank=True)
    order_number = models.CharField(_("order number"), max_length=64, blank=True)
    order_date = models.DateField(_("order date"), null=True, blank=True)
    implemented_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    implemented_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("measure")
        verbose_name_plural = _("measures")
        ordering = ["created_at", "id"]
        indexes = [
            models.Index(fields=["declaration"], condition=NEEDS_HR, name="measure_needs_hr"),
        ]
        constraints = [
            # A transfer is never done without the servant's consent (003 cl. 8 p.2(3)).
            models.CheckConstraint(
                condition=~models.Q(kind=MeasureKind.TRANSFER, state=M.DONE)
                | models.Q(answered_at__isnull=False),
                name="transfer_done_only_with_consent",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} ({self.get_state_display()})"

    @transition(
        field=state,
        source=M.PENDING_CONSENT,
        target=M.PENDING_ORDER,
        permission=fsm_permission("measure.answer_consent"),
    )
    def accept(self, *, at: datetime, reason: str, order_due_at: datetime) -> None:
        self.answered_at = at
        self.answer_reason = reason
        self.order_due_at = order_due_at

    @transition(
        field=state,
        source=M.PENDING_CONSENT,
        target=M.DECLINED,
        permission=fsm_permission("measure.answer_consent"),
    )
    def decline(self, *, at: datetime, reason: str) -> None:
        self.answered_at = at
        self.answer_reason = reason

    @transition(
        field=state,
        source=M.PENDING_ORDER,
        target=M.DONE,
        permission=fsm_permission("measure.implement"),
    )
    def implement(self, *, at: datetime, by: User, order_number: str, order_date: date) -> None:
        self.order_number = order_number
        self.order_date = order_date
        self.implemented_by = by
        self.implemented_at = at

    accept.alters_data = True
    decline.alters_data = True
    implement.alters_data = True
