"""The rows a record prints: the notice's facts, the measures, the deadlines, the timeline and
the legal basis, each a list of plain strings in the record's language(s) (``labels.Lang``).

Only what the audit trail and the declaration hold at the time goes in; the per-kind context
builders in ``content.py`` choose which rows a record shows.
"""

from __future__ import annotations

from collections.abc import Iterable

from declarations.choices import (
    Addressee,
    AuditAction,
    Category,
    Clock,
    ConflictType,
    DeclarationState,
    MeasureKind,
    MeasureState,
    Origin,
)
from declarations.models import AuditEvent, Declaration, Measure
from declarations.records.labels import Labels, Lang, People, day, when
from declarations.records.liability import WORDS


def notice_facts(
    lang: Lang, L: Labels, declaration: Declaration, people: People, *, show_source: bool
) -> list[tuple[str, str]]:
    rows = [
        (L["registration_number"], declaration.registration_number or "—"),
        (L["submitted_at"], when(declaration.submitted_at)),
        (L["declarant"], declaration.declarant.full_name),
        (L["position"], declaration.position_title or "—"),
        (L["unit"], declaration.unit_name or "—"),
        (L["body"], declaration.body.name),
        (L["addressee"], lang.choice(Addressee, declaration.addressee)),
        (lang(WORDS["sent_to"]), sent_to(lang, declaration)),
        (L["origin"], lang.choice(Origin, declaration.origin)),
        (L["conflict_type"], lang.choice(ConflictType, declaration.conflict_type)),
        (L["category"], lang.choice(Category, declaration.category)),
        (L["matter"], declaration.matter),
        (L["personal_interest"], declaration.personal_interest),
        (L["related_persons"], declaration.related_persons or "—"),
        (L["aware_since"], day(declaration.aware_since)),
    ]
    if declaration.origin == Origin.OTHER_SOURCE:
        rows.append((L["opened_by"], people(declaration.opened_by_id)))
        if not declaration.source_confidential:
            rows.append((L["source"], declaration.source_description))
        elif show_source:
            rows.append(
                (L["source"], f"{declaration.source_description}\n({L['source_confidential']})")
            )
        else:
            rows.append((L["source"], L["source_withheld"]))
    return rows


def sent_to(lang: Lang, declaration: Declaration) -> str:
    """Who the notice went to when it was filed (issue 14: who knew): the person, their position
    and unit then; or the management of the body, when nobody in particular had it yet."""
    if declaration.addressed_to_name:
        parts = (
            declaration.addressed_to_name,
            declaration.addressed_to_position,
            declaration.addressed_to_unit,
        )
        return ", ".join(p for p in parts if p)
    if declaration.submitted_at is None:
        return "—"
    return f"{lang(WORDS['management_of'])} {declaration.body.name}"


def measure_rows(lang: Lang, L: Labels, measures: Iterable[Measure]) -> list[dict[str, str]]:
    rows = []
    for m in measures:
        details: list[str] = []
        if m.kind == MeasureKind.REASSIGN:
            details.append(f"{L['substitute']}: {m.substitute.full_name if m.substitute else '—'}")
            details.append(f"{L['matter']}: {m.matter}")
        elif m.kind == MeasureKind.TRANSFER:
            details.append(f"{L['transfer_to']}: {m.position.title if m.position else '—'}")
            details.append(f"{L['effective_date']}: {day(m.proposed_date)}")
        else:
            details.append(m.description)
        if m.effective_date:
            details.append(f"{L['effective_date']}: {day(m.effective_date)}")
        if m.order_number:
            details.append(f"{L['order']}: № {m.order_number}, {day(m.order_date)}")
        elif m.needs_order:
            details.append(L["needs_order"])
        if m.answered_at:
            answer = L["declined"] if m.state == MeasureState.DECLINED else L["accepted"]
            details.append(f"{L['answer']}: {answer} ({when(m.answered_at)}) {m.answer_reason}")
        rows.append(
            {
                "kind": lang.choice(MeasureKind, m.kind),
                "details": "\n".join(d for d in details if d),
                "state": lang.choice(MeasureState, m.state),
            }
        )
    return rows


def timeline_rows(
    lang: Lang, L: Labels, events: list[AuditEvent], people: People
) -> list[dict[str, str]]:
    rows = []
    for e in events:
        states = ""
        if e.from_state != e.to_state:
            states = (
                f"{lang.choice(DeclarationState, e.from_state) if e.from_state else '—'} → "
                f"{lang.choice(DeclarationState, e.to_state)}"
            )
        note = ""
        if e.action == AuditAction.DEADLINE_MISSED:
            note = lang.choice(Clock, e.data.get("clock", ""))
            due_to_act = ", ".join(people(u) for u in e.data.get("due_to_act", []))
            note += f" — {L['due_to_act']}: {due_to_act or '—'}"
        elif e.data.get("reason"):
            note = str(e.data["reason"])
        rows.append(
            {
                "seq": str(e.seq),
                "at": when(e.created_at),
                "event": lang.choice(AuditAction, e.action),
                "actor": people(e.actor_id, system=L["system"]),
                "states": states,
                "note": note,
                "hash": e.hash[:16],
            }
        )
    return rows
