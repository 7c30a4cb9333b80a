"""Issuing the signed records of DESIGN.md §4, and the dossier on demand.

A transition names the records it calls for (``Step.records``); ``records_schedule`` writes
them as *pending* rows in the transition's transaction, with their verification codes, and asks
for them to be issued after commit. ``record_issue`` — run by a task worker — renders, seals
and stores the PDF, then marks the row issued with one conditional UPDATE, so two workers that
raced both render but only one record is issued. Issuing never blocks or breaks a transition:
a failed render is kept on the row (``attempts``, ``last_error``) and in the task queue's
results, and the ``issue_records`` sweep retries it and reaps tasks whose worker died.
"""

from __future__ import annotations

import hashlib
import logging
import traceback
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import segno
from django.conf import settings
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.db.models import F, Q
from django.template.loader import render_to_string
from django.utils import timezone

from declarations import permissions
from declarations.audit_chain import audit_verify_chain
from declarations.choices import AuditAction, DeclarationState, RecordKind, RecordStatus
from declarations.models import AuditEvent, Declaration, ExportJob, Measure, Record
from declarations.models.records import new_verification_code, record_path
from declarations.services import record_content as rc
from declarations.services.pdf import EmbeddedFile, render_pdf
from declarations.services.signing import current_seal, pdf_sign
from declarations.side_effects import after_commit

logger = logging.getLogger(__name__)

#: The record each audited step calls for (DESIGN.md §4 "produced when").
RECORD_FOR_ACTION: dict[str, str] = {
    AuditAction.DECLARATION_SUBMITTED: RecordKind.NOTICE,
    AuditAction.DECLARATION_OPENED: RecordKind.NOTICE,
    AuditAction.DECIDED: RecordKind.DECISION,
    AuditAction.NO_CONFLICT: RecordKind.DECISION,
    AuditAction.WITHDRAWN: RecordKind.DECISION,
    AuditAction.CONSENT_ACCEPTED: RecordKind.CONSENT,
    AuditAction.CONSENT_DECLINED: RecordKind.CONSENT,
}


def records_for_step(action: str, to_state: str) -> list[str]:
    """The kinds of record a step issues; an HR order that resolves the case closes it with a
    final decision record (the measures with their orders)."""
    if action == AuditAction.MEASURE_IMPLEMENTED and to_state == DeclarationState.RESOLVED:
        return [RecordKind.DECISION]
    kind = RECORD_FOR_ACTION.get(action)
    return [kind] if kind else []


def records_schedule(*, declaration: Declaration, event: AuditEvent, kinds: list[str]) -> None:
    """Inside the step's transaction: the pending rows, then issuing after commit."""
    if not kinds:
        return
    records = Record.objects.bulk_create(
        Record(
            declaration=declaration,
            event=event,
            kind=kind,
            language=settings.COI_RECORD_LANGUAGE,
            verification_code=new_verification_code(),
        )
        for kind in kinds
    )
    after_commit("records.issue", record_ids=[r.pk for r in records])


# --- what goes on the page -------------------------------------------------------------------


def _common(record: Record, lang: rc.Lang, *, development: bool) -> dict[str, Any]:
    L = rc.Labels(lang)
    case = record.declaration
    url = f"{settings.COI_PUBLIC_URL}/verify/{record.verification_code}"
    footer = L["page_footer"] % {
        "body": case.body.name,
        "url": url,
        "code": record.verification_code,
    }
    return {
        "L": L,
        "html_lang": lang.languages[0],
        "title": rc.title(lang, record),
        "kind_label": lang.choice(RecordKind, record.kind),
        "case": case,
        "regnum": case.registration_number or "—",
        "code": record.verification_code,
        "verify_url": url,
        "qr": segno.make(url, error="m").svg_data_uri(scale=4, border=0),
        "development": development,
        "footer": footer,
    }


def _case_events(case: Declaration, *, upto: AuditEvent | None = None) -> list[AuditEvent]:
    events = case.events.order_by("seq")
    if upto is not None:
        events = events.filter(seq__lte=upto.seq)
    return list(events)


def _measures(case: Declaration) -> list[Measure]:
    return list(
        case.measures.select_related("substitute", "position", "decision").order_by("created_at")
    )


def _event_of(record: Record) -> AuditEvent:
    if record.event is None:
        raise ValueError(f"record {record.pk} ({record.kind}) attests no event")
    return record.event


def _notice_context(record: Record, lang: rc.Lang, ctx: dict[str, Any]) -> None:
    case, event, L = record.declaration, record.event, ctx["L"]
    event = _event_of(record)
    people = rc.People.load([case.opened_by_id])
    ctx["facts"] = rc.notice_facts(lang, L, case, people, show_source=False)
    ctx["attachments"] = event.data.get("notice", {}).get("attachments", [])
    ctx["basis"] = rc.basis_for(lang, [event])
    ctx["late_days"] = event.data.get("late_by_days")


def _decision_context(record: Record, lang: rc.Lang, ctx: dict[str, Any]) -> None:
    case, event, L = record.declaration, record.event, ctx["L"]
    event = _event_of(record)
    events = _case_events(case, upto=event)
    measures = _measures(case)
    people = rc.People.load([e.actor_id for e in events] + [case.reviewer_id])
    if event.action == AuditAction.DECIDED:
        shown = [m for m in measures if str(m.decision.code) == event.data.get("decision")]
    elif event.action == AuditAction.MEASURE_IMPLEMENTED:
        shown = measures
    else:
        shown = []
    ctx.update(
        {
            "facts": [
                (L["registration_number"], case.registration_number or "—"),
                (L["declarant"], case.declarant.full_name),
                (L["position"], case.position_title or "—"),
                (L["matter"], case.matter),
                (L["state"], lang.choice(DeclarationState, event.to_state)),
            ],
            "outcome": lang.choice(AuditAction, event.action),
            "actor": people(event.actor_id),
            "at": rc.when(event.created_at),
            "reason": event.data.get("reason", ""),
            "measures": rc.measure_rows(lang, L, shown),
            "deadlines": rc.deadline_rows(
                lang,
                L,
                case,
                [m for m in measures if m.created_at <= event.created_at],
                events,
                people,
                event.created_at,
            ),
            "basis": rc.basis_for(lang, events),
        }
    )


def _consent_context(record: Record, lang: rc.Lang, ctx: dict[str, Any]) -> None:
    case, event, L = record.declaration, record.event, ctx["L"]
    event = _event_of(record)
    measure = Measure.objects.select_related("position", "substitute").get(
        code=event.data["measure"]
    )
    accepted = event.action == AuditAction.CONSENT_ACCEPTED
    ctx.update(
        {
            "facts": [
                (L["registration_number"], case.registration_number or "—"),
                (L["declarant"], case.declarant.full_name),
                (L["position"], case.position_title or "—"),
                (L["transfer_to"], measure.position.title if measure.position else "—"),
                (L["effective_date"], rc.day(measure.proposed_date)),
                (L["answer"], L["accepted"] if accepted else L["declined"]),
                (L["answered_at"], rc.when(event.created_at)),
                (L["reason"], event.data.get("reason") or "—"),
            ],
            "basis": rc.basis_for(lang, [event]),
        }
    )


def _dossier_context(record: Record, lang: rc.Lang, ctx: dict[str, Any]) -> list[EmbeddedFile]:
    case, L = record.declaration, ctx["L"]
    events = _case_events(case)
    measures = _measures(case)
    people = rc.People.load(
        [e.actor_id for e in events]
        + [case.reviewer_id, case.opened_by_id, record.requested_by_id]
        + [u for e in events for u in e.data.get("due_to_act", []) if isinstance(u, int)]
        + [m.implemented_by_id for m in measures]
    )
    broken = audit_verify_chain(case, events)
    of_case = Record.objects.filter(declaration=case).exclude(kind=RecordKind.DOSSIER)
    issued = list(of_case.filter(status=RecordStatus.ISSUED))
    other = list(of_case.exclude(status=RecordStatus.ISSUED))
    embedded = []
    for r in issued:
        with r.file.open("rb") as f:
            embedded.append(
                EmbeddedFile(
                    name=f"{r.kind}-{r.verification_code}.pdf",
                    data=f.read(),
                    description=f"{lang.choice(RecordKind, r.kind)} {r.verification_code}",
                )
            )
    first = events[0] if events else None

    def texts(action: str) -> list[dict[str, str]]:
        return [
            {"at": rc.when(e.created_at), "actor": people(e.actor_id), "text": e.data["text"]}
            for e in events
            if e.action == action
        ]

    if not record.internal_comments:
        events = [e for e in events if e.action != AuditAction.COMMENTED]
    ctx.update(
        {
            "facts": rc.notice_facts(lang, L, case, people, show_source=record.confidential_source),
            "attachments": (first.data.get("notice", {}).get("attachments", []) if first else []),
            "late_days": first.data.get("late_by_days") if first else None,
            "measures": rc.measure_rows(lang, L, measures),
            "deadlines": rc.deadline_rows(lang, L, case, measures, events, people, timezone.now()),
            "timeline": rc.timeline_rows(lang, L, events, people),
            "comments": texts(AuditAction.COMMENTED),
            "comments_withheld": not record.internal_comments,
            "addenda": texts(AuditAction.ADDENDUM),
            "records": [
                {
                    "kind": lang.choice(RecordKind, r.kind),
                    "code": r.verification_code,
                    "issued": rc.when(r.issued_at),
                    "sha256": r.sha256,
                    "embedded": True,
                }
                for r in issued
            ]
            + [
                {
                    "kind": lang.choice(RecordKind, r.kind),
                    "code": r.verification_code,
                    "issued": L["pending"],
                    "sha256": "",
                    "embedded": False,
                }
                for r in other
            ],
            "closing_reason": case.closing_reason,
            "closed_at": rc.when(case.closed_at) if case.closed_at else "",
            "head_seq": case.audit_seq,
            "head_hash": case.audit_head,
            "chain_broken": str(broken) if broken else "",
            "basis": rc.basis_for(lang, events),
            "generated_for": people(record.requested_by_id),
            "generated_at": rc.when(timezone.now()),
        }
    )
    return embedded


_BUILDERS: dict[str, Any] = {
    RecordKind.NOTICE: _notice_context,
    RecordKind.DECISION: _decision_context,
    RecordKind.CONSENT: _consent_context,
}


def record_html(record: Record, *, development: bool) -> tuple[str, list[EmbeddedFile]]:
    """The record's HTML from its template (autoescaped), and the files it embeds."""
    lang = rc.Lang(record.language)
    ctx = _common(record, lang, development=development)
    embedded: list[EmbeddedFile] = []
    if record.kind == RecordKind.DOSSIER:
        embedded = _dossier_context(record, lang, ctx)
    else:
        _BUILDERS[record.kind](record, lang, ctx)
    with rc.translation.override(lang.languages[0]):
        html = render_to_string(f"declarations/pdf/{record.kind}.html", ctx)
    return html, embedded


# --- issuing ------------------------------------------------------------------------------


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
    except Exception:
        attempts = record.attempts + 1
        gave_up = attempts >= settings.COI_RECORD_MAX_ATTEMPTS
        Record.objects.filter(pk=record.pk).exclude(status=RecordStatus.ISSUED).update(
            status=RecordStatus.FAILED if gave_up else RecordStatus.PENDING,
            last_error=traceback.format_exc()[-4000:],
        )
        logger.exception("record %s: render or seal failed (attempt %s)", record.pk, attempts)
        raise
    return _store(record, data, pages)


def _store(record: Record, data: bytes, pages: int) -> str:
    seal = current_seal()
    name = default_storage.save(record_path(record, ""), ContentFile(data))
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
        default_storage.delete(name)
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
    rc.Lang(language)  # validates
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


def dossier_issue(*, declaration: Declaration, actor: Any, language: str) -> Record:
    """Render and seal a dossier now, for the caller waiting on it (who may have it is checked
    by the caller). It is stored and listed like every record."""
    record = dossier_record(declaration=declaration, reader=actor, language=language)
    record.save()
    record_issue(record_id=record.pk)
    return _load(record.pk)


#: How long a reader's dossier is handed out again instead of a new one, while the case's
#: audit chain has not moved (``GET …/dossier/`` must not write a record on every request).
DOSSIER_REUSE = timedelta(hours=1)


def dossier_current(
    *, declaration: Declaration, actor: Any, language: str, now: datetime
) -> Record | None:
    """The reader's own dossier of the case in ``language``, issued within ``DOSSIER_REUSE``
    with the chain head the case has now and what the reader may see now; else ``None``."""
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
