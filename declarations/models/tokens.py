"""API tokens (issue 18): one per signed-in client, so that each device or integration keeps
its own and can be ended alone."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from declarations.models.base import PublicIdMixin

#: characters of the label that names a client in a user's list of tokens
CLIENT_MAX = 100


class ApiToken(PublicIdMixin, models.Model):
    """A client signed in to the API: made by a sign-in, ended by sign-out, by its owner from
    the list, by the cap on a user's tokens, or when it expires.

    Only the SHA-256 of the key is stored. The key is shown once, in the sign-in's answer, and
    a copy of the database holds nothing a client could send. The key is 32 random bytes, so a
    plain digest is enough: there is nothing to guess that a slow hash would protect.

    ``last_used_at`` moves at most once a minute (``services/tokens.py``), so that a read does
    not become a write.
    """

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="api_tokens",
        verbose_name=_("user"),
    )
    digest = models.CharField(max_length=64, unique=True, editable=False)
    client = models.CharField(_("client"), max_length=CLIENT_MAX, blank=True)
    created_at = models.DateTimeField(_("created at"), default=timezone.now, editable=False)
    last_used_at = models.DateTimeField(_("last used"), default=timezone.now)
    expires_at = models.DateTimeField(_("expires"), db_index=True)

    class Meta:
        verbose_name = _("API token")
        verbose_name_plural = _("API tokens")
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"{self.user_id}: {self.client or self.code}"
