"""Files attached to a notice: evidence the declarant files with it (DESIGN.md §4 "notice")."""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _

from declarations.models.base import PublicIdMixin, TimeStampedModel
from declarations.models.declaration import Declaration


def attachment_path(instance: Attachment, filename: str) -> str:
    # The stored name never comes from the client: the public id, nothing else.
    return f"attachments/{instance.code.hex[:2]}/{instance.code.hex}"


class Attachment(PublicIdMixin, TimeStampedModel):
    """One file of a notice. Added and removed only while the notice is a draft; frozen after.

    ``content_type`` is what the content turned out to be when sniffed, never what the client
    said; ``sha256`` is printed on the notice record so the file can be matched to it later.
    """

    declaration = models.ForeignKey(
        Declaration, on_delete=models.PROTECT, related_name="attachments"
    )
    file = models.FileField(upload_to=attachment_path, max_length=255)
    filename = models.CharField(_("file name"), max_length=255)
    content_type = models.CharField(_("type"), max_length=100)
    size = models.PositiveBigIntegerField(_("size in bytes"))
    sha256 = models.CharField(max_length=64)

    class Meta:
        verbose_name = _("attachment")
        verbose_name_plural = _("attachments")
        ordering = ["created_at", "id"]

    def __str__(self) -> str:
        return self.filename
