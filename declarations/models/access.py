"""Who read what (issue 14): an append-only, hash-chained access log, one chain for the whole
installation, in its own table so reads do not lengthen the declarations' chains.

Written only by ``services.access``; on PostgreSQL a trigger refuses UPDATE and DELETE
(migration 0016), as for audit events.
"""

from __future__ import annotations

from typing import Any, NoReturn

from django.conf import settings
from django.core.serializers.json import DjangoJSONEncoder
from django.db import models
from django.utils.translation import gettext_lazy as _

from declarations.choices import AccessAction, CheckpointReason
from declarations.models.audit import AppendOnlyError
from declarations.models.declaration import Declaration


class AccessEventQuerySet(models.QuerySet["AccessEvent"]):
    def update(self, **kwargs: Any) -> NoReturn:
        raise AppendOnlyError("access events are append-only")

    def delete(self) -> NoReturn:
        raise AppendOnlyError("access events are append-only")


class AccessEvent(models.Model):
    seq = models.PositiveBigIntegerField(_("sequence number"), unique=True)
    at = models.DateTimeField(_("at"))
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, related_name="+"
    )
    action = models.CharField(_("action"), max_length=32, choices=AccessAction.choices)
    declaration = models.ForeignKey(
        Declaration, on_delete=models.PROTECT, null=True, blank=True, related_name="accesses"
    )
    object_code = models.CharField(_("what was read"), max_length=64, blank=True)
    data = models.JSONField(_("payload"), encoder=DjangoJSONEncoder, default=dict)
    prev_hash = models.CharField(max_length=64)
    hash = models.CharField(max_length=64, unique=True)

    objects = AccessEventQuerySet.as_manager()

    class Meta:
        verbose_name = _("access event")
        verbose_name_plural = _("access events")
        ordering = ["seq"]
        indexes = [
            models.Index(fields=["declaration", "seq"], name="access_declaration_seq"),
            models.Index(fields=["user", "seq"], name="access_user_seq"),
        ]

    def __str__(self) -> str:
        return f"access#{self.seq} {self.action}"

    def save(self, *args: Any, **kwargs: Any) -> None:
        if not self._state.adding:
            raise AppendOnlyError("access events are append-only")
        super().save(*args, **kwargs)

    def delete(self, *args: Any, **kwargs: Any) -> NoReturn:
        raise AppendOnlyError("access events are append-only")


class Checkpoint(models.Model):
    """A signed commitment to the state of every chain at one moment (issue 14): a Merkle tree
    over each declaration's chain head and the access log's head, written outside the database
    (a file store, every export ZIP) so the database owner cannot silently replace it."""

    created_at = models.DateTimeField(_("made"))
    reason = models.CharField(_("reason"), max_length=16, choices=CheckpointReason.choices)
    tree_size = models.PositiveIntegerField(_("leaves"))
    root_hash = models.CharField(_("root"), max_length=64)
    # The signed statement (canonical JSON: the leaves, the root, the time), as signed.
    statement = models.BinaryField()
    signature = models.BinaryField(help_text=_("CMS (detached) by the seal over the statement."))
    timestamp_token = models.BinaryField(null=True, blank=True)
    file_name = models.CharField(_("stored as"), max_length=255, blank=True)
    access_seq = models.PositiveBigIntegerField(_("access log length"), default=0)
    # The newest audit event when the checkpoint was made (read before the heads): whether any
    # chain moved since is then one indexed MAX, not a tree over every declaration (issue 16).
    audit_event_max = models.PositiveBigIntegerField(_("last audit event"), default=0)

    class Meta:
        verbose_name = _("checkpoint")
        verbose_name_plural = _("checkpoints")
        ordering = ["-created_at", "-id"]
        get_latest_by = "created_at"

    def __str__(self) -> str:
        return f"checkpoint {self.created_at:%Y-%m-%d %H:%M} {self.root_hash[:12]}"
