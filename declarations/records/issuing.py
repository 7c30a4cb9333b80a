"""Issuing a record: render, seal and store its PDF, once; the dossier on demand; the retry sweep.

``record_issue`` — run by a task worker (``tasks.issue_record``) — renders a pending record
(``content.record_html``, ``pdf.render_pdf``), seals it (``signing.pdf_sign``) and stores it,
then marks the row issued with one conditional UPDATE, so two workers that raced both render but
only one record is issued. Issuing never blocks or breaks a transition: a failed render is kept
on the row (``attempts``, ``last_error``) and in the task queue's results, and the
``issue_records`` sweep (``tasks.records_sweep``) retries it and reaps tasks whose worker died.
"""

from __future__ import annotations

import hashlib
import logging
import traceback
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.core.files.base import ContentFile
from django.db.models import F, Q
from django.utils import timezone

from declarations import permissions
from declarations.choices import RecordKind, RecordStatus
from declarations.models import Declaration, ExportJob, Record
from declarations.models.records import new_verification_code, record_path
from declarations.records.content import record_html
from declarations.records.labels import Lang
from declarations.records.pdf import render_pdf
from declarations.records.signing import current_seal, pdf_sign

logger = logging.getLogger(__name__)


def _load(record_id: int) -> Record:
    return Record.objects.select_related(
        "declaration__body", "declaration__declarant", "event"
    ).get(pk=record_id)


def record_produce(record: Record) -> tuple[bytes, int]:
    """Render and seal a record's PDF (no database writes)."""
    seal = current_seal()
    html, embedded = record_html(record, development=seal.development)
    rendered = render_pdf(html, attachments=embedded, identifier=record.code.bytes)
    signed = pdf_sign(
        pdf=rendered.data,
        reason=f"{record.get_kind_display()} {record.verification_code}",
        seal=seal,
    )
    return signed, rendered.pages


def record_issue(*, record_id: int) -> str:
    """Issue one pending record; a no-op for an issued one. Returns what happened."""
    record = _load(record_id)
    if record.status == RecordStatus.ISSUED:
        return "already issued"
    now = timezone.now()
    Record.objects.filter(pk=record.pk).exclude(status=RecordStatus.ISSUED).update(
        attempts=F("attempts") + 1, last_attempt_at=now
    )
    try:
        data, pages = record_produce(record)
        return _store(record, data, pages)  # a store that is away fails the attempt the same way
    except Exception:
        attempts = record.attempts + 1
        gave_up = attempts >= settings.COI_RECORD_MAX_ATTEMPTS
        Record.objects.filter(pk=record.pk).exclude(status=RecordStatus.ISSUED).update(
            status=RecordStatus.FAILED if gave_up else RecordStatus.PENDING,
            last_error=traceback.format_exc()[-4000:],
        )
        logger.exception(
            "record %s: render, seal or store failed (attempt %s)", record.pk, attempts
        )
        raise


def _store(record: Record, data: bytes, pages: int) -> str:
    seal = current_seal()
    # the record store (docs/DEPLOY.md): a folder, or a bucket every machine shares; a name of
    # its own per write, so a worker that lost the race below deletes only its own copy
    store = Record.file.field.storage
    # unreachable: the attempt fails as a render's would (``record_issue``), the sweep retries
    name = store.save(record_path(record, ""), ContentFile(data))
    issued = (
        Record.objects.filter(pk=record.pk)
        .exclude(status=RecordStatus.ISSUED)
        .update(
            status=RecordStatus.ISSUED,
            file=name,
            sha256=hashlib.sha256(data).hexdigest(),
            size=len(data),
            pages=pages,
            issued_at=timezone.now(),
            seal_subject=seal.subject[:500],
            seal_fingerprint=seal.fingerprint,
            development_seal=seal.development,
            audit_head=record.declaration.audit_head,  # the head as it was when rendered
            last_error="",
        )
    )
    if not issued:  # another worker issued it first: its copy stands, ours goes
        store.delete(name)
        return "issued by another worker"
    return "issued"


def _shown_in_dossier(declaration: Declaration, shown: permissions.Disclosure) -> dict[str, bool]:
    """The record's flags for a dossier made for a reader who may see ``shown``."""
    return {
        "confidential_source": declaration.source_confidential and shown.source,
        "internal_comments": shown.comments,
    }


def dossier_record(
    *,
    declaration: Declaration,
    reader: Any,
    language: str,
    export: ExportJob | None = None,
    shown: permissions.Disclosure | None = None,
) -> Record:
    """A new pending dossier (each is a new record, DESIGN.md §4), unsaved (an export writes
    them in bulk), made for ``reader``: it shows what ``permissions.disclosure`` lets them see
    (``shown``, when the caller has it already) and says what it withholds."""
    Lang(language)  # validates
    if shown is None:
        shown = permissions.disclosure(reader, declaration)
    return Record(
        declaration=declaration,
        kind=RecordKind.DOSSIER,
        language=language,
        requested_by=reader,
        export=export,
        verification_code=new_verification_code(),
        **_shown_in_dossier(declaration, shown),
    )


def dossier_issue(
    *,
    declaration: Declaration,
    actor: Any,
    language: str,
    shown: permissions.Disclosure | None = None,
) -> Record:
    """Render and seal a dossier now, for the caller waiting on it (who may have it is checked
    by the caller). It is stored and listed like every record."""
    record = dossier_record(declaration=declaration, reader=actor, language=language, shown=shown)
    record.save()
    record_issue(record_id=record.pk)
    return _load(record.pk)


#: How long a reader's dossier is handed out again instead of a new one, while the declaration's
#: audit chain has not moved (``GET …/dossier/`` must not write a record on every request).
DOSSIER_REUSE = timedelta(hours=1)


def dossier_current(
    *,
    declaration: Declaration,
    actor: Any,
    language: str,
    now: datetime,
    shown: permissions.Disclosure | None = None,
) -> Record | None:
    """The reader's own dossier of the declaration in ``language``, issued within ``DOSSIER_REUSE``
    with the chain head the declaration has now and what the reader may see now (``shown``, when the
    caller has it already); else ``None``."""
    if shown is None:
        shown = permissions.disclosure(actor, declaration)
    return (
        Record.objects.filter(
            declaration=declaration,
            kind=RecordKind.DOSSIER,
            status=RecordStatus.ISSUED,
            requested_by=actor,
            export=None,
            language=language,
            audit_head=declaration.audit_head,
            issued_at__gte=now - DOSSIER_REUSE,
            **_shown_in_dossier(declaration, shown),
        )
        .select_related("declaration__body", "declaration__declarant", "event")
        .order_by("-issued_at")
        .first()
    )


# --- the sweep ----------------------------------------------------------------------------


@dataclass
class Sweep:
    reaped: int = 0
    requeued: int = 0
    exports_failed: int = 0


def records_reset_failed() -> int:
    """An operator's decision: records that gave up get a fresh set of attempts."""
    return Record.objects.filter(status=RecordStatus.FAILED).update(
        status=RecordStatus.PENDING, attempts=0
    )


def records_due_for_retry(*, now: datetime) -> list[int]:
    """Pending records whose issuing seems lost: never tried after a grace period, or last
    tried longer ago than a render may take."""
    grace = timedelta(seconds=max(60, 2 * settings.COI_RENDER_TIME_LIMIT))
    return list(
        Record.objects.filter(status=RecordStatus.PENDING)
        .filter(
            Q(last_attempt_at__isnull=True, created_at__lt=now - grace)
            | Q(last_attempt_at__lt=now - grace)
            | Q(attempts=0, last_attempt_at__isnull=False)
        )
        .values_list("pk", flat=True)
    )
