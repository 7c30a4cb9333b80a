"""Bulk export of dossiers for auditors: a ZIP with the signed dossiers, a register CSV, a
manifest of SHA-256 sums (DESIGN.md §6 ``/exports/``) and a checkpoint of every chain
(``checkpoint.json``, issue 14).

The job is planned once (one pending dossier record per declaration in scope), rendered in chunks by
as many workers as run, and packed by whichever chunk finishes last. Progress is the number of
dossiers issued so far. A dossier does not render again what was already issued: it carries the
declaration's signed records as PDF/A-3 attachments and renders only its cover, the deadline
analysis and the timeline.
"""

from __future__ import annotations

import csv
import hashlib
import io
import tempfile
import zipfile
from collections.abc import Collection
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files import File
from django.db import transaction
from django.db.models import QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

from declarations import permissions
from declarations.calendar import end_of_day, start_of_day
from declarations.choices import (
    CheckpointReason,
    DeclarationState,
    ExportFailure,
    ExportStatus,
    RecordStatus,
)
from declarations.dates import typed_bounds
from declarations.models import Declaration, ExportJob, Record, StateBody, Unit
from declarations.records.checkpoints import checkpoint_file_bytes, checkpoint_make
from declarations.records.issuing import dossier_record, record_issue
from declarations.records.labels import LANGUAGES, Lang
from declarations.records.register import register_header, register_row
from declarations.side_effects import Effect, after_commit
from declarations.stores import stored_bytes


@dataclass(frozen=True)
class ExportFilters:
    bodies: list[str]
    unit: str = ""
    submitted_from: date | None = None
    submitted_to: date | None = None
    states: tuple[str, ...] = ()

    def as_json(self) -> dict[str, Any]:
        return {
            "body": self.bodies,
            "unit": self.unit,
            "submitted_from": self.submitted_from.isoformat() if self.submitted_from else None,
            "submitted_to": self.submitted_to.isoformat() if self.submitted_to else None,
            "state": list(self.states),
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> ExportFilters:
        return cls(
            bodies=list(data.get("body") or []),
            unit=data.get("unit") or "",
            submitted_from=date.fromisoformat(data["submitted_from"])
            if data.get("submitted_from")
            else None,
            submitted_to=date.fromisoformat(data["submitted_to"])
            if data.get("submitted_to")
            else None,
            states=tuple(data.get("state") or ()),
        )


def _validate(actor: Any, filters: ExportFilters, language: str) -> None:
    errors: dict[str, list[str]] = {}
    allowed = set(permissions.bodies_for(actor, "export"))
    if not allowed:
        raise PermissionDenied(_("Only an auditor may export dossiers."))
    known = dict(StateBody.objects.filter(slug__in=filters.bodies).values_list("slug", "pk"))
    unknown = [s for s in filters.bodies if s not in known or known[s] not in allowed]
    if unknown:
        errors["body"] = [_("No state body you audit is called %(slug)s.") % {"slug": unknown[0]}]
    if filters.unit and not Unit.objects.filter(code=filters.unit, body_id__in=allowed).exists():
        errors["unit"] = [_("No unit of a state body you audit has this id.")]
    bad = [s for s in filters.states if s not in DeclarationState.values]
    if bad or DeclarationState.DRAFT in filters.states:
        errors["state"] = [
            _("Not a state of a registered case: %(state)s.")
            % {"state": bad[0] if bad else DeclarationState.DRAFT}
        ]
    # refused here, at creation, rather than by the planning task: 0001-01-01 overflows when the
    # day's first instant in Almaty is turned into UTC (issue 12)
    bounds = typed_bounds()
    for name in ("submitted_from", "submitted_to"):
        day = getattr(filters, name)
        if day is not None and (error := bounds.error(day)):
            errors[name] = [error]
    if (
        not {"submitted_from", "submitted_to"} & errors.keys()
        and filters.submitted_from
        and filters.submitted_to
        and (filters.submitted_from > filters.submitted_to)
    ):
        errors["submitted_to"] = [_("The end of the period is before its start.")]
    if language not in LANGUAGES:
        errors["language"] = [_("Choose kk, ru, en or kk-ru.")]
    if errors:
        raise ValidationError(errors)


def export_declarations(*, actor: Any, filters: ExportFilters) -> QuerySet[Declaration]:
    """The registered declarations in the auditor's scope that the filters select."""
    audited = permissions.bodies_for(actor, "export")
    qs = Declaration.objects.filter(body_id__in=audited).exclude(state=DeclarationState.DRAFT)
    if filters.bodies:
        qs = qs.filter(body__slug__in=filters.bodies)
    if filters.unit:
        qs = qs.filter(declarant__position__unit__code=filters.unit)
    if filters.submitted_from:
        qs = qs.filter(submitted_at__gte=start_of_day(filters.submitted_from))
    if filters.submitted_to:
        qs = qs.filter(submitted_at__lte=end_of_day(filters.submitted_to))
    if filters.states:
        qs = qs.filter(state__in=filters.states)
    return qs.order_by("submitted_at", "pk")


def export_create(
    *, actor: Any, filters: ExportFilters, language: str, start: bool = True
) -> ExportJob:
    """Queue an export job; with ``start`` the task queue plans and renders it after commit."""
    _validate(actor, filters, language)
    with transaction.atomic():
        job = ExportJob.objects.create(
            requested_by=actor, filters=filters.as_json(), language=language
        )
        if start:
            after_commit(Effect.EXPORTS_START, export_id=job.pk)
    return job


def export_plan(*, export_id: int, workers: int = 2) -> list[list[int]]:
    """One pending dossier per declaration (once), and the chunks of those not yet issued: small
    enough that ``workers`` processes share the work evenly, at most ``COI_EXPORT_CHUNK``."""
    with transaction.atomic():
        job = ExportJob.objects.select_for_update().get(pk=export_id)
        if job.status == ExportStatus.QUEUED:
            declarations = export_declarations(
                actor=job.requested_by, filters=ExportFilters.from_json(job.filters)
            ).select_related("declarant")
            # each dossier made for the auditor, as if they asked for it on the declaration
            shown = permissions.dossier_disclosures(job.requested_by)
            Record.objects.bulk_create(
                dossier_record(
                    declaration=declaration,
                    reader=job.requested_by,
                    language=job.language,
                    export=job,
                    shown=shown(declaration),
                )
                for declaration in declarations.iterator(chunk_size=500)
            )
            job.total = job.dossiers.count()
            job.status = ExportStatus.RUNNING
            job.save(update_fields=["total", "status", "updated_at"])
    todo = list(
        job.dossiers.exclude(status=RecordStatus.ISSUED).order_by("pk").values_list("pk", flat=True)
    )
    size = max(1, min(settings.COI_EXPORT_CHUNK, -(-len(todo) // (4 * max(1, workers)))))
    return [todo[i : i + size] for i in range(0, len(todo), size)]


def export_render_chunk(*, export_id: int, record_ids: list[int]) -> None:
    """Issue some of a job's dossiers, then record the progress (and pack when all are in)."""
    failed: Exception | None = None
    for record_id in record_ids:
        try:
            record_issue(record_id=record_id)
        except Exception as exc:  # noqa: BLE001 - the others still render; the sweep retries it
            failed = exc
    export_progress(export_id=export_id)
    if failed is not None:
        raise failed


def export_progress(*, export_id: int) -> ExportJob:
    """Count what is issued; pack the ZIP when everything is, fail the job if a dossier gave up."""
    with transaction.atomic():
        job = ExportJob.objects.select_for_update().get(pk=export_id)
        if job.status != ExportStatus.RUNNING:
            return job
        job.done = job.dossiers.filter(status=RecordStatus.ISSUED).count()
        failed = job.dossiers.filter(status=RecordStatus.FAILED).first()
        if failed is not None:
            job.status = ExportStatus.FAILED
            job.failure = ExportFailure.DOSSIER
            job.error = f"record {failed.code}: {failed.last_error[-1000:]}"
            job.finished_at = timezone.now()
        elif job.done >= job.total:
            job.status = ExportStatus.ASSEMBLING
        job.save(update_fields=["done", "status", "failure", "error", "finished_at", "updated_at"])
    if job.status == ExportStatus.ASSEMBLING:
        export_assemble(export_id=export_id)
        job.refresh_from_db()
    return job


def export_fail(*, export_id: int, failure: str, detail: str = "") -> bool:
    """Mark a job that has not finished as failed, with the reason the auditor sees and the
    technical detail operators need. Returns whether it was still unfinished."""
    return bool(
        ExportJob.objects.filter(pk=export_id)
        .exclude(status__in=[ExportStatus.DONE, ExportStatus.FAILED])
        .update(
            status=ExportStatus.FAILED,
            failure=failure,
            error=detail[-2000:],
            finished_at=timezone.now(),
            updated_at=timezone.now(),
        )
    )


def exports_fail_stalled(*, now: datetime, waiting: Collection[int] = ()) -> int:
    """Fail the jobs that made no progress for ``COI_EXPORT_STALL_MINUTES``: queued with no
    worker to plan them, or left running or packing by a worker that died. Every chunk of
    dossiers and every 50 dossiers packed record progress, so a job at work is never this
    quiet; ``waiting`` are the jobs that still have a task in the queue (behind another
    export, say), which are not stalled however long they wait."""
    since = now - timedelta(minutes=settings.COI_EXPORT_STALL_MINUTES)
    stalled = (
        ExportJob.objects.filter(
            status__in=[ExportStatus.QUEUED, ExportStatus.RUNNING, ExportStatus.ASSEMBLING],
            updated_at__lt=since,
        )
        .exclude(pk__in=list(waiting))
        .values_list("pk", flat=True)
    )
    return sum(
        export_fail(
            export_id=pk, failure=ExportFailure.STALLED, detail=f"no progress since {since}"
        )
        for pk in list(stalled)
    )


#: Dossiers packed between two marks of progress (``exports_fail_stalled`` reads them).
PROGRESS_EVERY = 50


def export_assemble(*, export_id: int) -> None:
    """Pack the ZIP: the dossiers, ``register.csv`` and ``SHA256SUMS`` over both. A failure
    fails the job with its reason (and is raised again for the task queue's record)."""
    job = ExportJob.objects.get(pk=export_id)
    if job.status not in (ExportStatus.ASSEMBLING, ExportStatus.RUNNING):
        return
    try:
        _pack(job)
    except Exception as exc:
        export_fail(export_id=export_id, failure=ExportFailure.PACKING, detail=repr(exc))
        raise


def _pack(job: ExportJob) -> None:
    dossiers = (
        job.dossiers.filter(status=RecordStatus.ISSUED)
        .select_related("declaration__body", "declaration__declarant")
        .prefetch_related("declaration__measures", "declaration__deadlines")
        .order_by("declaration__submitted_at", "pk")
    )
    lang, now = Lang(job.language), timezone.now()
    sums: list[tuple[str, str]] = []
    register = io.StringIO()
    writer = csv.writer(register)
    writer.writerow(register_header(lang))
    with tempfile.TemporaryFile() as tmp:
        with zipfile.ZipFile(tmp, "w", compression=zipfile.ZIP_STORED) as zf:
            for packed, record in enumerate(dossiers.iterator(chunk_size=200), start=1):
                if packed % PROGRESS_EVERY == 0:  # a long pack is not a stalled one
                    ExportJob.objects.filter(pk=job.pk).update(updated_at=timezone.now())
                declaration = record.declaration
                number = declaration.registration_number or str(declaration.code)
                name = f"dossiers/{number.replace('/', '-')}-{record.verification_code}.pdf"
                zf.writestr(name, stored_bytes(record.file))
                sums.append((record.sha256, name))
                writer.writerow(register_row(lang, declaration, record, name, now))
            data = register.getvalue().encode("utf-8-sig")  # opens right in spreadsheet tools
            zf.writestr("register.csv", data)
            sums.append((hashlib.sha256(data).hexdigest(), "register.csv"))
            zf.writestr("SHA256SUMS", "".join(f"{h}  {n}\n" for h, n in sums))
            # The state of every chain as the export is packed (issue 14); signed on its own, so
            # it is not in SHA256SUMS.
            checkpoint = checkpoint_make(reason=CheckpointReason.EXPORT)
            zf.writestr("checkpoint.json", checkpoint_file_bytes(checkpoint))
        tmp.seek(0)
        digest = hashlib.file_digest(tmp, "sha256").hexdigest()
        size = tmp.tell()
        tmp.seek(0)
        job.file.save(f"{job.code.hex}.zip", File(tmp), save=False)
    packed = (
        ExportJob.objects.filter(pk=job.pk)
        .filter(status__in=[ExportStatus.ASSEMBLING, ExportStatus.RUNNING])
        .update(
            file=job.file.name,
            sha256=digest,
            size=size,
            status=ExportStatus.DONE,
            failure="",
            finished_at=timezone.now(),
        )
    )
    if not packed:  # failed meanwhile (the sweep judged it stalled): its verdict stands
        job.file.delete(save=False)
