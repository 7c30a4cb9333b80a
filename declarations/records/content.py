"""What goes on each record's page: the template context of every record kind.

``record_html`` renders a record's template (``templates/declarations/pdf/<kind>.html``,
autoescaped) with the context its kind's builder prepares from the declaration, the audit event the
record attests and the rows of ``rows.py``; a dossier also returns the declaration's issued records,
to embed them as PDF/A-3 attachments.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import segno
from django.conf import settings
from django.template.loader import render_to_string
from django.utils import timezone, translation

from declarations.access_log import access_rows
from declarations.audit_chain import audit_verify_chain
from declarations.calendar import working_calendar
from declarations.choices import (
    AccessAction,
    AuditAction,
    DeclarationState,
    RecordKind,
    RecordStatus,
)
from declarations.models import (
    AuditEvent,
    Deadline,
    Declaration,
    Measure,
    PersonalSignature,
    Record,
)
from declarations.records.checkpoints import inclusion_proof
from declarations.records.citations import basis_for
from declarations.records.labels import Labels, Lang, People, day, title, when
from declarations.records.liability import (
    WORDS,
    as_of,
    cl9_page,
    deadline_rows,
    filing_verdict,
)
from declarations.records.pdf import EmbeddedFile
from declarations.records.personal import WORDS as SIGNATURE_WORDS
from declarations.records.personal import signature_blocks, signature_files
from declarations.records.rows import measure_rows, notice_facts, timeline_rows
from declarations.stores import stored_bytes
from declarations.text import visible


def _common(record: Record, lang: Lang, *, development: bool) -> dict[str, Any]:
    L = Labels(lang)
    declaration = record.declaration
    url = f"{settings.COI_PUBLIC_URL}/verify/{record.verification_code}"
    footer = L["page_footer"] % {
        "body": declaration.body.name,
        "url": url,
        "code": record.verification_code,
    }
    return {
        "L": L,
        "html_lang": lang.languages[0],
        "title": title(lang, record),
        "kind_label": lang.choice(RecordKind, record.kind),
        "declaration": declaration,
        "regnum": declaration.registration_number or "—",
        "code": record.verification_code,
        "verify_url": url,
        "qr": segno.make(url, error="m").svg_data_uri(scale=4, border=0),
        "development": development,
        "footer": footer,
    }


def _declaration_events(
    declaration: Declaration, *, upto: AuditEvent | None = None
) -> list[AuditEvent]:
    events = declaration.events.order_by("seq")
    if upto is not None:
        events = events.filter(seq__lte=upto.seq)
    return list(events)


def _measures(declaration: Declaration) -> list[Measure]:
    return list(
        declaration.measures.select_related("substitute", "position", "decision").order_by(
            "created_at"
        )
    )


def _deadlines(declaration: Declaration) -> list[Deadline]:
    return list(declaration.deadlines.order_by("started_at", "id"))


def _verdicts(L: Labels) -> dict[str, str]:
    return {"met": L["met"], "missed": L["missed"], "running": L["running"]}


def _event_of(record: Record) -> AuditEvent:
    if record.event is None:
        raise ValueError(f"record {record.pk} ({record.kind}) attests no event")
    return record.event


def _notice_context(record: Record, lang: Lang, ctx: dict[str, Any]) -> None:
    declaration, L = record.declaration, ctx["L"]
    event = _event_of(record)
    people = People.load([declaration.opened_by_id])
    ctx["facts"] = notice_facts(lang, L, declaration, people, show_source=False)
    ctx["attachments"] = event.data.get("notice", {}).get("attachments", [])
    ctx["basis"] = basis_for(lang, [event])
    ctx["filing"] = filing_verdict(lang, declaration, working_calendar())[2]


def _decision_context(record: Record, lang: Lang, ctx: dict[str, Any]) -> None:
    declaration, L = record.declaration, ctx["L"]
    event = _event_of(record)
    events = _declaration_events(declaration, upto=event)
    measures = _measures(declaration)
    deadlines = _deadlines(declaration)
    people = People.load(
        [e.actor_id for e in events]
        + [declaration.reviewer_id]
        + [d.ended_by_id for d in deadlines]
    )
    if event.action == AuditAction.DECIDED:
        shown = [m for m in measures if str(m.decision.code) == event.data.get("decision")]
    elif event.action == AuditAction.MEASURE_IMPLEMENTED:
        shown = measures
    else:
        shown = []
    ctx.update(
        {
            "facts": [
                (L["registration_number"], declaration.registration_number or "—"),
                (L["declarant"], declaration.declarant.full_name),
                (L["position"], declaration.position_title or "—"),
                (L["matter"], declaration.matter),
                (L["state"], lang.choice(DeclarationState, event.to_state)),
            ],
            "outcome": lang.choice(AuditAction, event.action),
            "actor": people(event.actor_id),
            "at": when(event.created_at),
            "reason": event.data.get("reason", ""),
            "measures": measure_rows(lang, L, shown),
            "deadlines": deadline_rows(
                lang,
                _verdicts(L),
                [as_of(d, event.created_at) for d in deadlines if d.started_at <= event.created_at],
                people,
                event.created_at,
            ),
            "basis": basis_for(lang, events),
        }
    )


def _consent_context(record: Record, lang: Lang, ctx: dict[str, Any]) -> None:
    declaration, L = record.declaration, ctx["L"]
    event = _event_of(record)
    measure = Measure.objects.select_related("position", "substitute").get(
        code=event.data["measure"]
    )
    accepted = event.action == AuditAction.CONSENT_ACCEPTED
    ctx.update(
        {
            "facts": [
                (L["registration_number"], declaration.registration_number or "—"),
                (L["declarant"], declaration.declarant.full_name),
                (L["position"], declaration.position_title or "—"),
                (L["transfer_to"], measure.position.title if measure.position else "—"),
                (L["effective_date"], day(measure.proposed_date)),
                (L["answer"], L["accepted"] if accepted else L["declined"]),
                (L["answered_at"], when(event.created_at)),
                (L["reason"], event.data.get("reason") or "—"),
            ],
            "basis": basis_for(lang, [event]),
        }
    )


def _dossier_context(record: Record, lang: Lang, ctx: dict[str, Any]) -> list[EmbeddedFile]:
    declaration, L = record.declaration, ctx["L"]
    events = _declaration_events(declaration)
    measures = _measures(declaration)
    deadlines = _deadlines(declaration)
    people = People.load(
        [e.actor_id for e in events]
        + [declaration.reviewer_id, declaration.opened_by_id, record.requested_by_id]
        + [u for e in events for u in e.data.get("due_to_act", []) if isinstance(u, int)]
        + [e.data.get("recipient") for e in events if e.action == AuditAction.NOTIFIED]
        + [m.implemented_by_id for m in measures]
        + [m.substitute.user_id for m in measures if m.substitute is not None]
        + [d.ended_by_id for d in deadlines]
        + [d.due_to_act_id for d in deadlines]
    )
    now = timezone.now()
    broken = audit_verify_chain(declaration, events)
    of_declaration = Record.objects.filter(declaration=declaration).exclude(kind=RecordKind.DOSSIER)
    issued = list(of_declaration.filter(status=RecordStatus.ISSUED))
    other = list(of_declaration.exclude(status=RecordStatus.ISSUED))
    embedded = []
    for r in issued:
        embedded.append(
            EmbeddedFile(
                name=f"{r.kind}-{r.verification_code}.pdf",
                data=stored_bytes(r.file),
                description=f"{lang.choice(RecordKind, r.kind)} {r.verification_code}",
            )
        )
    first = events[0] if events else None

    def texts(action: str) -> list[dict[str, str]]:
        return [
            {"at": when(e.created_at), "actor": people(e.actor_id), "text": e.data["text"]}
            for e in events
            if e.action == action
        ]

    if not record.internal_comments:
        events = [e for e in events if e.action != AuditAction.COMMENTED]
    ctx.update(
        {
            "facts": notice_facts(
                lang, L, declaration, people, show_source=record.confidential_source
            ),
            "attachments": (first.data.get("notice", {}).get("attachments", []) if first else []),
            "filing": filing_verdict(lang, declaration, working_calendar())[2],
            "measures": measure_rows(lang, L, measures),
            "deadlines": deadline_rows(lang, _verdicts(L), deadlines, people, now),
            "cl9": cl9_page(
                lang, declaration, deadlines, events, measures, people, working_calendar(), now
            ),
            "W": {key: lang(word) for key, word in WORDS.items()},
            "accesses": [
                {
                    "at": when(row.at),
                    "who": ", ".join(p for p in (row.who, row.position) if p),
                    "what": lang.choice(AccessAction, row.action),
                    "object": row.object_code,
                }
                for row in access_rows(declaration)
            ],
            "inclusion": _inclusion(lang, declaration),
            "timeline": timeline_rows(lang, L, events, people),
            "comments": texts(AuditAction.COMMENTED),
            "comments_withheld": not record.internal_comments,
            "addenda": texts(AuditAction.ADDENDUM),
            "records": [
                {
                    "kind": lang.choice(RecordKind, r.kind),
                    "code": r.verification_code,
                    "issued": when(r.issued_at),
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
            "closing_reason": declaration.closing_reason,
            "closed_at": when(declaration.closed_at) if declaration.closed_at else "",
            "head_seq": declaration.audit_seq,
            "head_hash": declaration.audit_head,
            "chain_broken": str(broken) if broken else "",
            "basis": basis_for(lang, events),
            "generated_for": people(record.requested_by_id),
            "generated_at": when(timezone.now()),
        }
    )
    return embedded


def _inclusion(lang: Lang, declaration: Declaration) -> dict[str, Any] | None:
    """The latest checkpoint's inclusion proof of this case's chain head (issue 14)."""
    proof = inclusion_proof(declaration)
    if proof is None:
        return None
    return {
        **proof,
        "intro": lang(WORDS["checkpoint_intro"])
        % {"index": proof["index"] + 1, "size": proof["tree_size"]},
    }


#: The context builder of each record kind but the dossier, which also returns what it embeds.
_BUILDERS: dict[str, Callable[[Record, Lang, dict[str, Any]], None]] = {
    RecordKind.NOTICE: _notice_context,
    RecordKind.DECISION: _decision_context,
    RecordKind.CONSENT: _consent_context,
}


def record_html(record: Record, *, development: bool) -> tuple[str, list[EmbeddedFile]]:
    """The record's HTML from its template (autoescaped), and the files it embeds."""
    lang = Lang(record.language)
    ctx = _common(record, lang, development=development)
    embedded: list[EmbeddedFile] = []
    if record.kind == RecordKind.DOSSIER:
        embedded = _dossier_context(record, lang, ctx)
    else:
        _BUILDERS[record.kind](record, lang, ctx)
    # the people's own signatures (issue 15): the record's step's, or every one on a dossier
    signed = PersonalSignature.objects.select_related("event").filter(
        declaration=record.declaration
    )
    if record.kind != RecordKind.DOSSIER:
        signed = signed.filter(event=record.event)
    signatures = list(signed.order_by("event__seq"))
    ctx["signatures"] = signature_blocks(lang, signatures)
    ctx["S"] = {key: lang(word) for key, word in SIGNATURE_WORDS.items()}
    embedded = [*embedded, *signature_files(signatures)]
    with translation.override(lang.languages[0]):
        html = render_to_string(f"declarations/pdf/{record.kind}.html", ctx)
    # Text stored before the doors refused invisible controls (issue 14) is drawn with each one
    # shown as a marker: a record never reads in an order its bytes do not say.
    return visible(html), embedded
