"""The organisation: state bodies, units, positions, servants and role grants."""

from __future__ import annotations

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.utils.translation import gettext_lazy as _

from declarations.choices import GRANTED_ROLES, Role, SignaturePolicy
from declarations.identifiers import validate_bin, validate_iin
from declarations.models.base import PublicIdMixin, TimeStampedModel
from declarations.text import validate_visible_text

_DAYS = [MinValueValidator(1), MaxValueValidator(60)]


class StateBody(PublicIdMixin, TimeStampedModel):
    """A state body. Its deadline settings are in working days (DESIGN.md §3, defaults there)."""

    slug = models.SlugField(_("short name"), max_length=64, unique=True)
    name = models.CharField(_("name"), max_length=255, validators=[validate_visible_text])
    registration_prefix = models.CharField(
        _("registration number prefix"), max_length=16, default="COI"
    )
    start_review_days = models.PositiveSmallIntegerField(
        _("working days to start the review"), default=1, validators=_DAYS
    )
    decision_days = models.PositiveSmallIntegerField(
        _("working days to decide the measures"), default=3, validators=_DAYS
    )
    consent_days = models.PositiveSmallIntegerField(
        _("working days to answer a transfer proposal"), default=3, validators=_DAYS
    )
    hr_order_days = models.PositiveSmallIntegerField(
        _("working days to record the HR order"), default=5, validators=_DAYS
    )
    # 003 cl. 8: the servant notifies "as soon as" they learn of the conflict; the body sets how
    # many working days after the day they became aware still count as on time (issue 14).
    filing_tolerance_days = models.PositiveSmallIntegerField(
        _("working days to file a notice on time"),
        default=1,
        validators=_DAYS,
        help_text=_("After the day the servant became aware of the conflict (003 cl. 8)."),
    )
    # Issue 16: a clock still missed this many working days after its last escalation is
    # escalated again, one level up the structure.
    escalation_step_days = models.PositiveSmallIntegerField(
        _("working days before a missed deadline is escalated again"),
        default=2,
        validators=_DAYS,
    )
    bin = models.CharField(
        _("BIN"),
        max_length=12,
        blank=True,
        validators=[validate_bin],
        help_text=_("The body's business identification number: its employees' certificates."),
    )
    # Which steps need the person's own signature (ЭЦП) through NCALayer (issue 15): off, the
    # person may sign, or they must.
    sign_notice = models.CharField(
        _("signature of the notice"),
        max_length=8,
        choices=SignaturePolicy.choices,
        default=SignaturePolicy.OPTIONAL,
    )
    sign_answer = models.CharField(
        _("signature of the answer to a transfer"),
        max_length=8,
        choices=SignaturePolicy.choices,
        default=SignaturePolicy.OPTIONAL,
    )
    sign_addendum = models.CharField(
        _("signature of an addendum"),
        max_length=8,
        choices=SignaturePolicy.choices,
        default=SignaturePolicy.OPTIONAL,
    )
    sign_decision = models.CharField(
        _("signature of the decision"),
        max_length=8,
        choices=SignaturePolicy.choices,
        default=SignaturePolicy.OPTIONAL,
        help_text=_("The reviewer's decision on measures, and a finding of no conflict."),
    )
    # A notice that nobody in the body could review (the head's own, when the head is the only
    # member of management) goes to this official of the superior body; when empty, to the
    # body's ethics commissioner (decisions.md "The head's own notice").
    head_notice_reviewer = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("reviewer of the head's own notices"),
        help_text=_(
            "An official of the superior body who reviews the notices of the head of this body "
            "when nobody else in its management can. Empty: the body's ethics commissioner."
        ),
    )

    class Meta:
        verbose_name = _("state body")
        verbose_name_plural = _("state bodies")
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class Unit(PublicIdMixin, TimeStampedModel):
    """A structural unit; units form a tree inside one body."""

    body = models.ForeignKey(StateBody, on_delete=models.PROTECT, related_name="units")
    parent = models.ForeignKey(
        "self", on_delete=models.PROTECT, null=True, blank=True, related_name="children"
    )
    name = models.CharField(_("name"), max_length=255, validators=[validate_visible_text])
    external_id = models.CharField(_("external id"), max_length=64, blank=True)

    class Meta:
        verbose_name = _("unit")
        verbose_name_plural = _("units")
        ordering = ["name"]
        constraints = [
            models.UniqueConstraint(
                fields=["body", "external_id"],
                condition=~models.Q(external_id=""),
                name="unit_external_id_unique_per_body",
            )
        ]

    def __str__(self) -> str:
        return self.name


class Position(PublicIdMixin, TimeStampedModel):
    """A post in a unit. ``is_head`` marks the head of the unit. Vacant when no servant holds it."""

    body = models.ForeignKey(StateBody, on_delete=models.PROTECT, related_name="positions")
    unit = models.ForeignKey(Unit, on_delete=models.PROTECT, related_name="positions")
    title = models.CharField(_("title"), max_length=255, validators=[validate_visible_text])
    is_head = models.BooleanField(_("head of the unit"), default=False)
    external_id = models.CharField(_("external id"), max_length=64, blank=True)

    class Meta:
        verbose_name = _("position")
        verbose_name_plural = _("positions")
        ordering = ["title"]
        constraints = [
            models.UniqueConstraint(
                fields=["unit"], condition=models.Q(is_head=True), name="one_head_per_unit"
            ),
            models.UniqueConstraint(
                fields=["body", "external_id"],
                condition=~models.Q(external_id=""),
                name="position_external_id_unique_per_body",
            ),
        ]

    def __str__(self) -> str:
        return self.title


class Servant(PublicIdMixin, TimeStampedModel):
    """A civil servant, linked to one user account, holding at most one position."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="servant"
    )
    body = models.ForeignKey(StateBody, on_delete=models.PROTECT, related_name="servants")
    position = models.OneToOneField(
        Position, on_delete=models.SET_NULL, null=True, blank=True, related_name="holder"
    )
    full_name = models.CharField(_("full name"), max_length=255, validators=[validate_visible_text])
    iin = models.CharField(
        _("IIN"),
        max_length=12,
        blank=True,
        validators=[validate_iin],
        help_text=_("The individual identification number: a personal signature must carry it."),
    )
    personnel_number = models.CharField(_("personnel number"), max_length=64, blank=True)
    manager_override = models.ForeignKey(
        "self",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("direct manager (explicit override)"),
        help_text=_("Wins over the manager derived from the structure."),
    )
    is_active = models.BooleanField(_("in service"), default=True)

    class Meta:
        verbose_name = _("servant")
        verbose_name_plural = _("servants")
        ordering = ["full_name"]
        constraints = [
            models.UniqueConstraint(
                fields=["body", "personnel_number"],
                condition=~models.Q(personnel_number=""),
                name="servant_personnel_number_unique_per_body",
            ),
            models.UniqueConstraint(
                fields=["iin"], condition=~models.Q(iin=""), name="servant_iin_unique"
            ),
        ]

    def __str__(self) -> str:
        return self.full_name


class RoleGrant(TimeStampedModel):
    """A role held in one state body: management, ethics commissioner, HR officer or auditor.

    Auditors may hold grants for several bodies; a person may hold several roles.
    """

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="role_grants"
    )
    body = models.ForeignKey(StateBody, on_delete=models.CASCADE, related_name="role_grants")
    role = models.CharField(
        _("role"), max_length=32, choices=[(r.value, r.label) for r in GRANTED_ROLES]
    )

    class Meta:
        verbose_name = _("role grant")
        verbose_name_plural = _("role grants")
        constraints = [
            models.UniqueConstraint(fields=["user", "body", "role"], name="role_grant_unique")
        ]

    def __str__(self) -> str:
        return f"{self.user} — {Role(self.role).label} — {self.body}"
