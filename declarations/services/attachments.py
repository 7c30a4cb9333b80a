"""Attachments of a notice: checked by content, hashed, and frozen once the notice is filed."""

from __future__ import annotations

import hashlib
import unicodedata
from typing import IO, TYPE_CHECKING

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.files.base import ContentFile
from django.db import transaction
from django.utils.translation import gettext as _

from declarations.models import Attachment, Declaration
from declarations.services.steps import draft_change

if TYPE_CHECKING:
    from django.contrib.auth.models import User

# The formats a notice's evidence comes in. Each is recognised by the signature its own
# specification fixes at the start of the file, so a short table is all the sniffing needed;
# a general "magic" library would recognise hundreds of types we refuse anyway.
SIGNATURES: tuple[tuple[bytes, str], ...] = (
    (b"%PDF-", "application/pdf"),
    (b"\x89PNG\r\n\x1a\n", "image/png"),
    (b"\xff\xd8\xff", "image/jpeg"),
)
ALLOWED_TYPES = tuple(t for _sig, t in SIGNATURES)
# The name a file keeps ends as its content says (the first one is added when it does not): a
# PNG sent as "evil.html" is offered for download as "evil.png" (issue 12).
EXTENSIONS: dict[str, tuple[str, ...]] = {
    "application/pdf": ("pdf",),
    "image/png": ("png",),
    "image/jpeg": ("jpg", "jpeg"),
}
MAX_ATTACHMENTS = 20


class UnsupportedFileType(ValidationError):
    """The content is not one of the allowed formats, whatever its name says (a 415)."""


class FileTooLarge(ValidationError):
    """Over ``COI_ATTACHMENT_MAX_BYTES`` (a 413)."""


def sniff_content_type(head: bytes) -> str | None:
    for signature, content_type in SIGNATURES:
        if head.startswith(signature):
            return content_type
    return None


def _clean_filename(name: str, content_type: str) -> str:
    """A display name only (storage uses the public id): no paths, no control characters, and
    the extension of what the content is.

    An extension that is not the content's is replaced (``evil.html`` → ``evil.png``); a name
    with none, or with a dot that ends no extension (``No 5 of 01.02.2025``), gets one appended.
    """
    name = unicodedata.normalize("NFC", name).replace("\\", "/").rsplit("/", 1)[-1]
    name = "".join(ch for ch in name if unicodedata.category(ch)[0] != "C").strip()
    name = name.rstrip(". ") or "file"  # Windows drops trailing dots, showing the inner suffix
    stem, dot, suffix = name.rpartition(".")
    wanted = EXTENSIONS[content_type]
    if dot and stem and suffix.lower() in wanted:
        extension = "." + suffix
    else:
        extension = "." + wanted[0]
        # "html", "php5", "tar.gz"'s "gz" are extensions; "2025" or a sentence's end are not
        is_extension = len(suffix) <= 10 and suffix.isascii() and suffix.isalnum()
        if not (dot and stem and is_extension and not suffix.isdigit()):
            stem = name
    return stem[: 255 - len(extension)] + extension


def attachment_add(
    *, declaration: Declaration, actor: User, filename: str, content: IO[bytes], size: int
) -> Attachment:
    """The declarant attaches a file to their draft.

    Steps: check size (413) and the type by the file's first bytes (415), whatever its name or
    the client's declared type say; hash the content while reading it; store it under the
    attachment's public id; all under the draft's lock, so a concurrent submission either sees
    the file or refuses it.
    """
    limit: int = settings.COI_ATTACHMENT_MAX_BYTES
    if size > limit:
        raise FileTooLarge(
            {"file": [_("The file is larger than %(mb)s MB.") % {"mb": limit // (1024 * 1024)}]}
        )
    head = content.read(16)
    content_type = sniff_content_type(head)
    if content_type is None:
        raise UnsupportedFileType({"file": [_("Only PDF, PNG and JPEG files can be attached.")]})
    digest = hashlib.sha256(head)
    chunks = [head]
    total = len(head)
    for chunk in iter(lambda: content.read(64 * 1024), b""):
        total += len(chunk)
        if total > limit:  # the declared size lied
            raise FileTooLarge({"file": [_("The file is too large.")]})
        digest.update(chunk)
        chunks.append(chunk)
    with draft_change(
        declaration=declaration,
        actor=actor,
        refused=_("Only the declarant attaches files to their notice."),
        filed=_("Files can be attached only before the notice is filed."),
    ) as locked:
        if locked.attachments.count() >= MAX_ATTACHMENTS:
            raise ValidationError(
                {"file": [_("At most %(n)d files per notice.") % {"n": MAX_ATTACHMENTS}]}
            )
        attachment = Attachment(
            declaration=locked,
            filename=_clean_filename(filename, content_type),
            content_type=content_type,
            size=total,
            sha256=digest.hexdigest(),
        )
        attachment.file.save("", ContentFile(b"".join(chunks)), save=False)
        try:
            attachment.save()
        except Exception:
            attachment.file.delete(save=False)  # no orphan file when the row is not written
            raise
        locked.save(update_fields=["updated_at"])  # a new version for If-Match
    return attachment


def attachment_remove(*, attachment: Attachment, actor: User) -> None:
    """The declarant removes a file from their draft; filed notices keep theirs for good."""
    with draft_change(
        declaration=attachment.declaration,
        actor=actor,
        refused=_("Only the declarant removes files from their notice."),
        filed=_("A filed notice keeps its files."),
    ) as declaration:
        name = attachment.file.name
        attachment.delete()
        declaration.save(update_fields=["updated_at"])
        storage = attachment.file.storage
        transaction.on_commit(lambda: storage.delete(name))
