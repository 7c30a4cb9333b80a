"""What each record says: plain strings for the templates, in one language or two side by side.

The templates only print what this module prepares (autoescaped); they never format or translate.
``Lang`` translates a label into the record's language(s): ``kk-ru`` gives «Қазақша / Русский»,
the form of a bilingual official document. User text is printed as typed, once.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from django.contrib.auth import get_user_model
from django.utils import translation
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

from declarations.calendar import ALMATY
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
    RecordKind,
)
from declarations.models import AuditEvent, Declaration, Measure, Record, Servant

LANGUAGES = ("kk", "ru", "en", "kk-ru")


class Lang:
    """Translate lazily-marked labels and choice values into the record's language(s)."""

    def __init__(self, language: str) -> None:
        if language not in LANGUAGES:
            raise ValueError(f"unknown record language {language!r}")
        self.code = language
        self.languages = language.split("-")

    def __call__(self, message: str | Promise) -> str:
        texts: list[str] = []
        for lang in self.languages:
            with translation.override(lang):
                text = translation.gettext(message) if isinstance(message, str) else str(message)
            if text not in texts:
                texts.append(text)
        return " / ".join(texts)

    def choice(self, choices: Any, value: str) -> str:
        try:
            return self(choices(value).label)
        except ValueError:
            return value


def when(value: datetime | None) -> str:
    return value.astimezone(ALMATY).strftime("%d.%m.%Y %H:%M") if value else "—"


def day(value: date | str | None) -> str:
    if isinstance(value, str):
        value = date.fromisoformat(value[:10]) if value else None
    return value.strftime("%d.%m.%Y") if value else "—"


def size_text(size: int) -> str:
    return f"{size:,}".replace(",", " ") + " B"


@dataclass
class People:
    """Display names for user ids: the servant's full name, else the login."""

    names: dict[int, str] = field(default_factory=dict)

    @classmethod
    def load(cls, user_ids: Iterable[int | None]) -> People:
        ids = {i for i in user_ids if i}
        names = dict(get_user_model().objects.filter(pk__in=ids).values_list("pk", "username"))
        names.update(Servant.objects.filter(user_id__in=ids).values_list("user_id", "full_name"))
        return cls(names)

    def __call__(self, user_id: int | None, system: str = "—") -> str:
        return self.names.get(user_id, system) if user_id else system


# Labels, marked for translation once (makemessages finds them here).
LABELS: dict[str, Promise] = {
    "registration_number": _("Registration number"),
    "case": _("Case"),
    "declarant": _("Servant"),
    "position": _("Position"),
    "unit": _("Unit"),
    "body": _("State body"),
    "addressee": _("Addressed to"),
    "origin": _("Origin"),
    "conflict_type": _("Conflict"),
    "category": _("Category"),
    "matter": _("The matter"),
    "personal_interest": _("The personal interest"),
    "related_persons": _("Related persons"),
    "aware_since": _("Aware of the conflict since"),
    "submitted_at": _("Filed"),
    "opened_by": _("Opened by"),
    "source": _("Information from other sources"),
    "source_confidential": _("The source is confidential; it is kept in the case file."),
    "source_withheld": _(
        "The case was opened on information from a confidential source. Under Law No. 410-V "
        "Art. 24 the source is withheld from this document."
    ),
    "comments_withheld": _("Internal comments are withheld from this document."),
    "attachments": _("Attachments"),
    "file": _("File"),
    "size": _("Size"),
    "none": _("None"),
    "recusal_title": _("Recusal"),
    "recusal": _(
        "While the conflict of interest exists, the servant must not exercise their powers on "
        "the matter above. The recusal runs from the filing of this notice until the case is "
        "closed."
    ),
    "legal_basis": _("Legal basis"),
    "repealed": _("repealed; cited as the model of the procedure"),
    "decision_by": _("Decided by"),
    "decided_at": _("Decided"),
    "reason": _("Reasons"),
    "measures": _("Measures"),
    "measure": _("Measure"),
    "details": _("Details"),
    "state": _("State"),
    "substitute": _("Given to"),
    "new_duties": _("New duties"),
    "transfer_to": _("Proposed position"),
    "effective_date": _("From"),
    "needs_order": _("Needs an HR order"),
    "order": _("HR order"),
    "answer": _("The servant's answer"),
    "answered_at": _("Answered"),
    "accepted": _("Accepted"),
    "declined": _("Declined"),
    "deadlines": _("Deadlines"),
    "clock": _("Deadline"),
    "due": _("Due"),
    "done_at": _("Done"),
    "due_to_act": _("Due to act"),
    "acted": _("Acted"),
    "result": _("Result"),
    "met": _("met"),
    "missed": _("missed"),
    "running": _("running"),
    "not_due": _("not due"),
    "notice_delay": _("Notice filed after the servant learned of the conflict"),
    "days": _("days"),
    "timeline": _("Timeline"),
    "at": _("At"),
    "event": _("Event"),
    "actor": _("By"),
    "transition": _("State"),
    "system": _("the system"),
    "comments": _("Comments"),
    "addenda": _("Addenda to the notice"),
    "records": _("Records of the case"),
    "record": _("Record"),
    "embedded": _("embedded in this file"),
    "pending": _("not yet issued"),
    "audit_head": _("Audit-chain head"),
    "chain_ok": _("The audit chain verifies: every event links to the one before it."),
    "chain_broken": _("The audit chain is BROKEN"),
    "events": _("events"),
    "generated_for": _("Produced for"),
    "closing_reason": _("Closing reasons"),
    "closed_at": _("Closed"),
    "withdrawn_by": _("Withdrawn by"),
    "no_conflict_by": _("Found by"),
    "verification_code": _("Verification code"),
    "page_footer": _(
        "The original of this document is an electronic document sealed with the seal of "
        "%(body)s (Order No. 236 of 25.08.2023, item 38). Check its signature with any PAdES "
        "validator, or at %(url)s — verification code %(code)s."
    ),
    "dev_seal": _("DEVELOPMENT SEAL — NOT A VALID RECORD"),
    "dev_banner": _(
        "This record was sealed with a development seal generated for testing. It has no "
        "legal force."
    ),
    "scan": _("Scan to verify"),
    "for_hearing": _("For disciplinary audit"),
}

TITLES: dict[str, Promise] = {
    RecordKind.NOTICE: _("Notice of a conflict of interest"),
    RecordKind.DECISION: _("Decision on a notice of a conflict of interest"),
    RecordKind.CONSENT: _("Answer to a proposal of transfer"),
    RecordKind.DOSSIER: _("Dossier of a conflict-of-interest case"),
}


class Labels:
    def __init__(self, lang: Lang) -> None:
        self._lang = lang
        self._cache: dict[str, str] = {}

    def __getitem__(self, key: str) -> str:
        if key not in self._cache:
            self._cache[key] = self._lang(LABELS[key])
        return self._cache[key]


def legal_rows(lang: Lang, basis: list[dict[str, Any]]) -> list[str]:
    rows = []
    for ref in basis:
        where = ", ".join(
            p
            for p in (
                f"art. {ref['article']}" if ref.get("article") else "",
                f"cl. {ref['clause']}" if ref.get("clause") else "",
            )
            if p
        )
        text = f"{ref['act']}" + (f", {where}" if where else "")
        if ref.get("edition_date"):
            text += f" ({day(ref['edition_date'])})"
        if not ref.get("in_force", True):
            text += f" — {lang(LABELS['repealed'])}"
        rows.append(text)
    return rows


def _basis_of(events: Iterable[AuditEvent]) -> list[dict[str, Any]]:
    seen: dict[str, dict[str, Any]] = {}
    for event in events:
        for ref in event.data.get("legal_basis", []):
            seen.setdefault(ref["key"], ref)
    return list(seen.values())


def notice_facts(
    lang: Lang, L: Labels, case: Declaration, people: People, *, show_source: bool
) -> list[tuple[str, str]]:
    rows = [
        (L["registration_number"], case.registration_number or "—"),
        (L["submitted_at"], when(case.submitted_at)),
        (L["declarant"], case.declarant.full_name),
        (L["position"], case.position_title or "—"),
        (L["unit"], case.unit_name or "—"),
        (L["body"], case.body.name),
        (L["addressee"], lang.choice(Addressee, case.addressee)),
        (L["origin"], lang.choice(Origin, case.origin)),
        (L["conflict_type"], lang.choice(ConflictType, case.conflict_type)),
        (L["category"], lang.choice(Category, case.category)),
        (L["matter"], case.matter),
        (L["personal_interest"], case.personal_interest),
        (L["related_persons"], case.related_persons or "—"),
        (L["aware_since"], day(case.aware_since)),
    ]
    if case.origin == Origin.OTHER_SOURCE:
        rows.append((L["opened_by"], people(case.opened_by_id)))
        if not case.source_confidential:
            rows.append((L["source"], case.source_description))
        elif show_source:
            rows.append((L["source"], f"{case.source_description}\n({L['source_confidential']})"))
        else:
            rows.append((L["source"], L["source_withheld"]))
    return rows


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


@dataclass
class DeadlineRow:
    clock: str
    due: str
    done: str
    due_to_act: str
    acted: str
    result: str
    css: str


def deadline_rows(
    lang: Lang,
    L: Labels,
    case: Declaration,
    measures: list[Measure],
    events: list[AuditEvent],
    people: People,
    now: datetime,
) -> list[DeadlineRow]:
    """Each deadline of DESIGN.md §3 as met, missed or running, and by whom (rule R4)."""

    def first(action: str) -> AuditEvent | None:
        return next((e for e in events if e.action == action), None)

    def row(
        clock: str, due: datetime | None, done: datetime | None, due_to_act: str, acted: str
    ) -> DeadlineRow:
        if due is None:
            result, css = L["not_due"], ""
        elif done is not None:
            result, css = (L["met"], "met") if done <= due else (L["missed"], "missed")
        else:
            result, css = (L["missed"], "missed") if now > due else (L["running"], "running")
        return DeadlineRow(
            lang.choice(Clock, clock), when(due), when(done), due_to_act, acted, result, css
        )

    closing = first(AuditAction.WITHDRAWN) or first(AuditAction.NO_CONFLICT)
    reviewer = people(case.reviewer_id, system=L["body"])
    started = first(AuditAction.REVIEW_STARTED)
    decided = [e for e in events if e.action == AuditAction.DECIDED]
    stop = started or closing or (decided[0] if decided else None)

    def reviewer_row(clock: str, due: datetime | None, done: AuditEvent | None) -> DeadlineRow:
        return row(
            clock,
            due,
            done.created_at if done else None,
            reviewer,
            people(done.actor_id) if done else "—",
        )

    rows = [
        reviewer_row(Clock.START_REVIEW, case.start_review_due_at, stop),
        reviewer_row(Clock.DECISION, case.decision_due_at, decided[-1] if decided else closing),
    ]
    servant = case.declarant.full_name
    for m in measures:
        if m.kind == MeasureKind.TRANSFER:
            rows.append(
                row(
                    Clock.CONSENT,
                    m.consent_due_at,
                    m.answered_at,
                    servant,
                    servant if m.answered_at else "—",
                )
            )
        if m.needs_order or m.order_due_at:
            rows.append(
                row(
                    Clock.HR_ORDER,
                    m.order_due_at,
                    m.implemented_at,
                    lang(_("HR officer")),
                    people(m.implemented_by_id),
                )
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


def basis_for(lang: Lang, events: Iterable[AuditEvent]) -> list[str]:
    return legal_rows(lang, _basis_of(events))


def title(lang: Lang, record: Record) -> str:
    return lang(TITLES[record.kind])
