"""Signed PDF records (DESIGN.md §4) and the auditors' bulk exports of dossiers.

A ``Record`` row is written by the transition that calls for it, in the same transaction, as
*pending*, with its verification code already fixed; the worker renders, seals and stores the
PDF and marks it *issued*. From then on the row and its file never change (STYLE.md rule 24):
``save()`` refuses, and the file name is its public id.
"""

from __future__ import annotations

import secrets
from typing import Any, NoReturn

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from declarations.choices import ExportFailure, ExportStatus, RecordKind, RecordStatus
from declarations.models.audit import AppendOnlyError, AuditEvent
from declarations.models.base import PublicIdMixin, TimeStampedModel
from declarations.models.declaration import Declaration

# Crockford's base32 without I, L, O, U: read aloud or typed from paper without ambiguity.
_CODE_ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"


def new_verification_code() -> str:
    """12 random symbols (60 bits) in three groups: ``7K3M-Q9XD-2HPA``."""
    raw = "".join(secrets.choice(_CODE_ALPHABET) for _ in range(12))
    return f"{raw[:4]}-{raw[4:8]}-{raw[8:]}"


def normalize_verification_code(text: str) -> str:
    raw = "".join(ch for ch in text.upper() if ch.isalnum())
    raw = raw.replace("O", "0").replace("I", "1").replace("L", "1")
    return f"{raw[:4]}-{raw[4:8]}-{raw[8:12]}" if len(raw) == 12 else ""


def record_path(instance: Record, filename: str) -> str:
    return f"records/{instance.code.hex[:2]}/{instance.code.hex}.pdf"


def export_path(instance: ExportJob, filename: str) -> str:
    return f"exports/{instance.code.hex}.zip"


class ExportJob(PublicIdMixin, TimeStampedModel):
    """An auditor's bulk export: a ZIP of dossiers, a register CSV and a SHA-256 manifest."""

    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    filters = models.JSONField(_("filters"), default=dict)
    language = models.CharField(_("language"), max_length=8)
    status = models.CharField(
        _("status"), max_length=16, choices=ExportStatus.choices, default=ExportStatus.QUEUED
    )
    total = models.PositiveIntegerField(_("cases"), default=0)
    done = models.PositiveIntegerField(_("dossiers done"), default=0)
    file = models.FileField(upload_to=export_path, max_length=255, blank=True)
    size = models.PositiveBigIntegerField(_("size in bytes"), null=True, blank=True)
    sha256 = models.CharField(max_length=64, blank=True)
    failure = models.CharField(
        _("failure"), max_length=16, choices=ExportFailure.choices, blank=True
    )
    error = models.TextField(_("error"), blank=True)  # the technical detail, for operators
    finished_at = models.DateTimeField(_("finished at"), null=True, blank=True)

    class Meta:
        verbose_name = _("export")
        verbose_name_plural = _("exports")
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"export {self.code} ({self.status})"

    @property
    def failure_reason(self) -> str:
        """Why the job failed, in the active language ("" unless it has)."""
        if self.status != ExportStatus.FAILED:
            return ""
        if not self.failure:  # failed before reasons were kept: a dossier was the only way
            return str(ExportFailure.DOSSIER.label)
        return str(self.get_failure_display())


class Record(PublicIdMixin, TimeStampedModel):
    _loaded_status: str = ""
    declaration = models.ForeignKey(Declaration, on_delete=models.PROTECT, related_name="records")
    kind = models.CharField(_("kind"), max_length=16, choices=RecordKind.choices)
    # The audit event the record attests (none for a dossier, which covers the whole chain).
    event = models.ForeignKey(
        AuditEvent, on_delete=models.PROTECT, null=True, blank=True, related_name="records"
    )
    language = models.CharField(_("language"), max_length=8)
    verification_code = models.CharField(_("verification code"), max_length=14, unique=True)
    status = models.CharField(
        _("status"), max_length=16, choices=RecordStatus.choices, default=RecordStatus.PENDING
    )
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    export = models.ForeignKey(
        ExportJob, on_delete=models.PROTECT, null=True, blank=True, related_name="dossiers"
    )
    # Filled once, when issued.
    file = models.FileField(upload_to=record_path, max_length=255, blank=True)
    sha256 = models.CharField(max_length=64, blank=True, db_index=True)
    size = models.PositiveBigIntegerField(_("size in bytes"), null=True, blank=True)
    pages = models.PositiveIntegerField(_("pages"), null=True, blank=True)
    issued_at = models.DateTimeField(_("issued at"), null=True, blank=True)
    seal_subject = models.CharField(_("sealed by"), max_length=500, blank=True)
    seal_fingerprint = models.CharField(max_length=64, blank=True)
    development_seal = models.BooleanField(_("development seal"), default=False)
    audit_head = models.CharField(max_length=64, blank=True)
    # What the PDF says that some readers of the declaration may not see
    # (``permissions.disclosure``): fixed when the row is written, from the reader a dossier is made
    # for; the records of a step never carry either (they go to everyone on the declaration).
    confidential_source = models.BooleanField(
        _("shows the confidential source"), default=False, editable=False
    )
    internal_comments = models.BooleanField(
        _("shows internal comments"), default=False, editable=False
    )
    # Operators' view of the issuing (the row is not yet immutable while pending or failed).
    attempts = models.PositiveSmallIntegerField(_("attempts"), default=0)
    last_attempt_at = models.DateTimeField(_("last attempt"), null=True, blank=True)
    last_error = models.TextField(_("last error"), blank=True)

    class Meta:
        verbose_name = _("record")
        verbose_name_plural = _("records")
        ordering = ["created_at", "id"]
        constraints = [
            # One record of a kind per event: a retried or duplicated task cannot issue twice.
            models.UniqueConstraint(
                fields=["event", "kind"],
                condition=models.Q(event__isnull=False),
                name="record_once_per_event",
            ),
            models.CheckConstraint(
                condition=~models.Q(status=RecordStatus.ISSUED) | ~models.Q(sha256=""),
                name="record_issued_has_hash",
            ),
        ]
        indexes = [
            models.Index(
                fields=["status", "last_attempt_at"],
                condition=~models.Q(status=RecordStatus.ISSUED),
                name="record_not_issued",
            )
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.verification_code}"

    @classmethod
    def from_db(cls, db: Any, field_names: Any, values: Any) -> Record:
        instance = super().from_db(db, field_names, values)
        instance._loaded_status = str(instance.__dict__.get("status") or "")
        return instance

    def save(self, *args: Any, **kwargs: Any) -> None:
        if getattr(self, "_loaded_status", None) == RecordStatus.ISSUED:
            raise AppendOnlyError("an issued record is immutable")
        if not self.verification_code:
            self.verification_code = new_verification_code()
        super().save(*args, **kwargs)
        self._loaded_status = self.status

    def delete(self, *args: Any, **kwargs: Any) -> NoReturn:
        raise AppendOnlyError("records are never deleted")
