"""A person's own electronic signature (ЭЦП) on a step (issue 15): the CMS as NCALayer made it,
the exact bytes it signs, and what the verifier found, kept beside the audit event whose data
holds their hashes (so the chain covers them)."""

from __future__ import annotations

from typing import Any, NoReturn

from django.conf import settings
from django.core.serializers.json import DjangoJSONEncoder
from django.db import models
from django.utils.translation import gettext_lazy as _

from declarations.models.audit import AppendOnlyError, AuditEvent
from declarations.models.declaration import Declaration


class PersonalSignature(models.Model):
    event = models.OneToOneField(
        AuditEvent, on_delete=models.PROTECT, related_name="personal_signature"
    )
    declaration = models.ForeignKey(
        Declaration, on_delete=models.PROTECT, related_name="personal_signatures"
    )
    signer = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    #: the canonical JSON the person signed (``services.personal_signatures.statement_bytes``)
    statement = models.BinaryField()
    statement_sha256 = models.CharField(max_length=64)
    #: the detached CMS (CAdES) as the signer's NCALayer returned it
    cms = models.BinaryField()
    cms_sha256 = models.CharField(max_length=64)
    #: what the verifier established: signer, IIN, BIN, roles, certificate, times, result
    facts = models.JSONField(encoder=DjangoJSONEncoder, default=dict)
    signed_at = models.DateTimeField(_("signed at"), null=True, blank=True)
    verified_at = models.DateTimeField(_("verified at"))

    class Meta:
        verbose_name = _("personal signature")
        verbose_name_plural = _("personal signatures")
        ordering = ["declaration_id", "event_id"]

    def __str__(self) -> str:
        return f"{self.declaration_id}#{self.event_id} {self.facts.get('signer_name', '')}"

    def save(self, *args: Any, **kwargs: Any) -> None:
        if not self._state.adding:
            raise AppendOnlyError("a personal signature is kept as it was given")
        super().save(*args, **kwargs)

    def delete(self, *args: Any, **kwargs: Any) -> NoReturn:
        raise AppendOnlyError("a personal signature is kept as it was given")
