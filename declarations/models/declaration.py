"""The declaration: a written notice of a conflict of interest, or a declaration opened from other
sources."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import TYPE_CHECKING

from django.conf import settings
from django.core.validators import MaxLengthValidator
from django.db import models
from django.utils.translation import gettext_lazy as _
from django_fsm import RETURN_VALUE, ConcurrentTransitionMixin, FSMField, transition

from declarations.choices import (
    OPEN_STATES,
    Addressee,
    Category,
    ConflictType,
    DeclarationState,
    MeasureState,
    Origin,
)
from declarations.models.base import PublicIdMixin, TimeStampedModel
from declarations.models.organization import Servant, StateBody
from declarations.rulebook import fsm_permission

if TYPE_CHECKING:
    from django.contrib.auth.models import User

S = DeclarationState

MATTER_MAX = 2000
INTEREST_MAX = 5000
RELATED_MAX = 2000
REASON_MAX = 5000


def declaration_state_for(measure_states: Iterable[str]) -> str:
    """The declaration state that the states of its live measures call for (DESIGN.md §3).

    Declined measures do not count. Pending consent wins over pending order; a declaration with
    at least one done measure and nothing pending is resolved.
    """
    live = [s for s in measure_states if s != MeasureState.DECLINED]
    if MeasureState.PENDING_CONSENT in live:
        return S.AWAITING_CONSENT
    if MeasureState.PENDING_ORDER in live:
        return S.IMPLEMENTING
    if MeasureState.DONE in live:
        return S.RESOLVED
    return S.IN_REVIEW


#: The fields of a written notice (003 cl. 8; DESIGN.md §6), declared once: what a declarant
#: types and may change while it is a draft, what is frozen into the chain when it is filed,
#: what the forms, the API and the bench fill in.
NOTICE_FIELDS = (
    "conflict_type",
    "category",
    "matter",
    "personal_interest",
    "related_persons",
    "aware_since",
    "addressee",
)


class Declaration(ConcurrentTransitionMixin, PublicIdMixin, TimeStampedModel):
    """One declaration. State changes only through the transition methods, called by the
    services."""

    body = models.ForeignKey(StateBody, on_delete=models.PROTECT, related_name="declarations")
    declarant = models.ForeignKey(
        Servant,
        on_delete=models.PROTECT,
        related_name="declarations",
        verbose_name=_("declarant"),
        db_index=False,  # led by ``declaration_declarant_created``
    )
    origin = models.CharField(
        _("origin"), max_length=16, choices=Origin.choices, default=Origin.SELF
    )
    addressee = models.CharField(
        _("addressee"), max_length=16, choices=Addressee.choices, default=Addressee.MANAGER
    )
    conflict_type = models.CharField(
        _("actual or potential"), max_length=16, choices=ConflictType.choices
    )
    category = models.CharField(_("category"), max_length=32, choices=Category.choices)
    matter = models.TextField(
        _("the matter"), max_length=MATTER_MAX, validators=[MaxLengthValidator(MATTER_MAX)]
    )
    personal_interest = models.TextField(
        _("the personal interest"),
        max_length=INTEREST_MAX,
        validators=[MaxLengthValidator(INTEREST_MAX)],
    )
    related_persons = models.TextField(
        _("related persons"),
        max_length=RELATED_MAX,
        validators=[MaxLengthValidator(RELATED_MAX)],
        blank=True,
    )
    aware_since = models.DateField(_("aware of the conflict since"))

    # "Other source" declarations (003 cl. 8 p.2): who opened it and what the source was. A
    # confidential source (Law 410-V Art. 24) is visible only to ethics commissioners and auditors.
    opened_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    source_description = models.TextField(
        _("the source"),
        max_length=REASON_MAX,
        validators=[MaxLengthValidator(REASON_MAX)],
        blank=True,
    )
    source_confidential = models.BooleanField(_("confidential source"), default=False)

    state = FSMField(
        _("state"), choices=DeclarationState.choices, default=S.DRAFT, protected=True, db_index=True
    )
    reviewer = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        db_index=False,  # led by ``declaration_reviewer_state``
        help_text=_("Who must act. Empty while a notice to management awaits one of its members."),
    )
    # Each body keeps its own register (the prefix is the body's, set by administrators), so
    # the number is unique within the body. NULL (not "") for drafts, so that they do not collide.
    registration_number = models.CharField(  # noqa: DJ001
        _("registration number"), max_length=32, null=True, blank=True
    )
    # Snapshot of the declarant's post when the declaration was registered: the record must say what
    # it was then, not what it is after a transfer.
    position_title = models.CharField(_("position"), max_length=255, blank=True)
    unit_name = models.CharField(_("unit"), max_length=255, blank=True)
    # Who the notice went to when it was filed (issue 14: who knew, 003 cl. 9): the person's name,
    # position and unit then; empty names with a management addressee mean its members.
    addressed_to_name = models.CharField(_("sent to"), max_length=255, blank=True)
    addressed_to_position = models.CharField(_("their position"), max_length=255, blank=True)
    addressed_to_unit = models.CharField(_("their unit"), max_length=255, blank=True)

    submitted_at = models.DateTimeField(_("submitted at"), null=True, blank=True)
    review_started_at = models.DateTimeField(_("review started at"), null=True, blank=True)
    decided_at = models.DateTimeField(_("first decided at"), null=True, blank=True)
    closed_at = models.DateTimeField(_("closed at"), null=True, blank=True)
    closing_reason = models.TextField(
        _("reason"), max_length=REASON_MAX, validators=[MaxLengthValidator(REASON_MAX)], blank=True
    )
    recusal_started_at = models.DateTimeField(_("recusal from"), null=True, blank=True)
    recusal_ended_at = models.DateTimeField(_("recusal until"), null=True, blank=True)

    start_review_due_at = models.DateTimeField(null=True, blank=True)
    decision_due_at = models.DateTimeField(null=True, blank=True)
    #: The earliest running deadline (shown, and ``overdue`` is computed from it).
    due_at = models.DateTimeField(_("due at"), null=True, blank=True)

    # The head of this declaration's audit chain, moved by ``services.audit.audit_record`` only.
    audit_seq = models.PositiveIntegerField(default=0, editable=False)
    audit_head = models.CharField(max_length=64, blank=True, editable=False)

    class Meta:
        verbose_name = _("declaration")
        verbose_name_plural = _("declarations")
        ordering = ["-submitted_at", "-id"]
        indexes = [
            models.Index(
                fields=["due_at"],
                condition=models.Q(state__in=[s.value for s in OPEN_STATES]),
                name="declaration_open_due_at",
            ),
            models.Index(fields=["body", "state", "submitted_at"], name="declaration_body_state"),
            # the API's keyset pagination walks the declarations newest first
            models.Index(fields=["created_at"], name="declaration_created_at"),
            # The narrow reasons of ``selectors.declaration_list_visible_to``, each answered by an
            # index (issue 17): a servant's own declarations, newest first (their list and the
            # API's); a reviewer's, by state (the inbox, and whether to land there); the opener's
            # is the foreign key's own index. These two lead with the foreign key, so its
            # single-column index is not made as well (``db_index=False`` above).
            models.Index(fields=["declarant", "created_at"], name="declaration_declarant_created"),
            models.Index(fields=["reviewer", "state"], name="declaration_reviewer_state"),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["body", "registration_number"], name="registration_number_per_body"
            ),
        ]

    def __str__(self) -> str:
        return self.registration_number or f"draft {self.code}"

    # ---- derived, from the model's own fields only ------------------------------------------

    @property
    def is_open(self) -> bool:
        return self.state in OPEN_STATES

    @property
    def recusal_active(self) -> bool:
        """R2 (003 cl. 6): no powers on the matter from submission until the declaration ends."""
        return self.recusal_started_at is not None and self.recusal_ended_at is None

    # ---- transitions: they set the state and the fields that change with it, nothing else ----

    @transition(
        field=state, source=S.DRAFT, target=S.SUBMITTED, permission=fsm_permission("submit")
    )
    def submit(self, *, at: datetime, registration_number: str) -> None:
        self.submitted_at = at
        self.recusal_started_at = at
        self.registration_number = registration_number

    @transition(
        field=state,
        source=S.DRAFT,
        target=S.SUBMITTED,
        permission=fsm_permission("open_from_source"),
    )
    def open_from_source(self, *, at: datetime, registration_number: str) -> None:
        self.submitted_at = at
        self.recusal_started_at = at
        self.registration_number = registration_number

    @transition(
        field=state,
        source=S.SUBMITTED,
        target=S.IN_REVIEW,
        permission=fsm_permission("start_review"),
    )
    def start_review(self, *, at: datetime) -> None:
        self.review_started_at = at

    @transition(
        field=state,
        source=S.IN_REVIEW,
        target=RETURN_VALUE(S.AWAITING_CONSENT, S.IMPLEMENTING, S.RESOLVED),
        permission=fsm_permission("decide"),
    )
    def decide(self, *, at: datetime, measure_states: list[str]) -> str:
        if self.decided_at is None:
            self.decided_at = at
        target = declaration_state_for(measure_states)
        if target == S.RESOLVED:
            self.closed_at = at
            self.recusal_ended_at = at
        return target

    @transition(
        field=state,
        source=S.IN_REVIEW,
        target=S.NO_CONFLICT,
        permission=fsm_permission("find_no_conflict"),
    )
    def find_no_conflict(self, *, at: datetime, reason: str) -> None:
        self.closing_reason = reason
        self.closed_at = at
        self.recusal_ended_at = at

    def _undecided(self: models.Model) -> bool:
        return getattr(self, "decided_at", None) is None

    @transition(
        field=state,
        source=[S.SUBMITTED, S.IN_REVIEW],
        target=S.WITHDRAWN,
        conditions=[_undecided],
        permission=fsm_permission("withdraw"),
    )
    def withdraw(self, *, at: datetime, reason: str) -> None:
        self.closing_reason = reason
        self.closed_at = at
        self.recusal_ended_at = at

    @transition(
        field=state,
        source=S.AWAITING_CONSENT,
        target=RETURN_VALUE(S.AWAITING_CONSENT, S.IMPLEMENTING, S.RESOLVED),
        permission=fsm_permission("answer_consent"),
    )
    def consent_accept(self, *, at: datetime, measure_states: list[str]) -> str:
        target = declaration_state_for(measure_states)
        if target == S.RESOLVED:
            self.closed_at = at
            self.recusal_ended_at = at
        return target

    @transition(
        field=state,
        source=S.AWAITING_CONSENT,
        target=S.IN_REVIEW,
        permission=fsm_permission("answer_consent"),
    )
    def consent_decline(self, *, at: datetime, decision_due_at: datetime) -> None:
        # The reviewer must decide again "timely" (003 cl. 8): a new decision clock starts.
        self.decision_due_at = decision_due_at

    @transition(
        field=state,
        source=S.IMPLEMENTING,
        target=S.RESOLVED,
        permission=fsm_permission("implement"),
    )
    def complete(self, *, at: datetime) -> None:
        self.closed_at = at
        self.recusal_ended_at = at

    @transition(
        field=state,
        source=list(OPEN_STATES),
        target=None,
        permission=fsm_permission("reassign_reviewer"),
    )
    def reassign_reviewer(self, *, reviewer: User | None) -> None:
        self.reviewer = reviewer

    # A template must never run a transition: ``{{ declaration.submit }}`` renders nothing.
    submit.alters_data = True
    open_from_source.alters_data = True
    start_review.alters_data = True
    decide.alters_data = True
    find_no_conflict.alters_data = True
    withdraw.alters_data = True
    consent_accept.alters_data = True
    consent_decline.alters_data = True
    complete.alters_data = True
    reassign_reviewer.alters_data = True


class RegistrationCounter(models.Model):
    """The last registration number issued per body and year (locked while incremented)."""

    body = models.ForeignKey(StateBody, on_delete=models.CASCADE, related_name="+")
    year = models.PositiveSmallIntegerField()
    last = models.PositiveIntegerField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["body", "year"], name="registration_counter_unique")
        ]

    def __str__(self) -> str:
        return f"{self.body_id}/{self.year}: {self.last}"
