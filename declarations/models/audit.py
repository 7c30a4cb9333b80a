"""The append-only, hash-chained audit trail (DESIGN.md §5)."""

from __future__ import annotations

from typing import Any, NoReturn

from django.conf import settings
from django.core.serializers.json import DjangoJSONEncoder
from django.db import models
from django.utils.translation import gettext_lazy as _

from declarations.choices import AuditAction
from declarations.models.declaration import Declaration


class AppendOnlyError(RuntimeError):
    """Raised when code tries to change or delete an audit event."""


class AuditEventQuerySet(models.QuerySet["AuditEvent"]):
    def update(self, **kwargs: Any) -> NoReturn:
        raise AppendOnlyError("audit events are append-only")

    def delete(self) -> NoReturn:
        raise AppendOnlyError("audit events are append-only")


class AuditEvent(models.Model):
    """One event of a declaration's chain; ``hash`` covers the canonical JSON of its fields and
    prev_hash.

    Written only by ``services.audit.audit_record``. On PostgreSQL a trigger refuses UPDATE and
    DELETE as well (migration 0003).
    """

    declaration = models.ForeignKey(Declaration, on_delete=models.PROTECT, related_name="events")
    seq = models.PositiveIntegerField(_("sequence number"))
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        help_text=_("Empty for the system (deadline sweeps)."),
    )
    action = models.CharField(_("action"), max_length=64, choices=AuditAction.choices)
    from_state = models.CharField(_("from state"), max_length=32, blank=True)
    to_state = models.CharField(_("to state"), max_length=32, blank=True)
    data = models.JSONField(_("payload"), encoder=DjangoJSONEncoder, default=dict)
    created_at = models.DateTimeField(_("at"))
    prev_hash = models.CharField(max_length=64)
    hash = models.CharField(max_length=64, unique=True)

    objects = AuditEventQuerySet.as_manager()

    class Meta:
        verbose_name = _("audit event")
        verbose_name_plural = _("audit events")
        ordering = ["declaration_id", "seq"]
        constraints = [
            models.UniqueConstraint(fields=["declaration", "seq"], name="audit_event_seq_unique")
        ]

    def __str__(self) -> str:
        return f"{self.declaration_id}#{self.seq} {self.action}"

    def save(self, *args: Any, **kwargs: Any) -> None:
        if not self._state.adding:
            raise AppendOnlyError("audit events are append-only")
        super().save(*args, **kwargs)

    def delete(self, *args: Any, **kwargs: Any) -> NoReturn:
        raise AppendOnlyError("audit events are append-only")
