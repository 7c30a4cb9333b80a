from __future__ import annotations

from django.conf import settings
from django.core.serializers.json import DjangoJSONEncoder
from django.db import models
from django.utils.translation import gettext_lazy as _

from declarations.choices import NotificationKind
from declarations.models.declaration import Declaration


class Notification(models.Model):
    """An outbox row: written in the same transaction as the change it reports, sent later.

    Sending (e-mail templates, retries) is claimed by a worker with a conditional update on
    ``claimed_at`` so that two workers never send the same row.
    """

    recipient = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="notifications"
    )
    kind = models.CharField(_("kind"), max_length=64, choices=NotificationKind.choices)
    declaration = models.ForeignKey(
        Declaration, on_delete=models.CASCADE, null=True, blank=True, related_name="notifications"
    )
    context = models.JSONField(encoder=DjangoJSONEncoder, default=dict)
    created_at = models.DateTimeField(auto_now_add=True)
    claimed_at = models.DateTimeField(null=True, blank=True)
    sent_at = models.DateTimeField(null=True, blank=True)
    error = models.TextField(blank=True)

    class Meta:
        verbose_name = _("notification")
        verbose_name_plural = _("notifications")
        ordering = ["created_at", "id"]
        indexes = [
            models.Index(
                fields=["created_at"],
                condition=models.Q(claimed_at__isnull=True),
                name="notification_unclaimed",
            )
        ]

    def __str__(self) -> str:
        return f"{self.kind} → {self.recipient_id}"
