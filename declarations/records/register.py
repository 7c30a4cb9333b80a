"""``register.csv`` of an export (issue 14): one row per exported dossier, with its headers and
its words in the auditor's language — category, measures, outcome, and who missed which
deadline, read from the same stored clocks as the dossier's cl. 9 page.

Column order is fixed (``REGISTER_COLUMNS``), so a program reads the file by position whatever
the language; the first line names the columns for people.
"""

from __future__ import annotations

from datetime import datetime

from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

from declarations.choices import (
    AuditAction,
    Category,
    Clock,
    DeclarationState,
    Duty,
    MeasureKind,
    MeasureState,
)
from declarations.models import Declaration, Record
from declarations.records.labels import Lang

#: (key, header): the columns in their fixed order; the header is said in the auditor's language.
REGISTER_COLUMNS: list[tuple[str, str | Promise]] = [
    ("registration_number", _("Registration number")),
    ("declaration_id", _("Case id")),
    ("state_body", _("State body")),
    ("unit", _("Unit")),
    ("servant", _("Servant")),
    ("category", _("Category")),
    ("state", _("State")),
    ("measures", _("Measures")),
    ("outcome", _("Outcome")),
    ("missed_by", _("Deadlines missed, and by whom")),
    ("submitted_at", _("Filed")),
    ("closed_at", _("Closed")),
    ("dossier_file", _("Dossier file")),
    ("dossier_sha256", "SHA-256"),
    ("verification_code", _("Verification code")),
]

#: the event that closed a declaration, by its final state
_CLOSING = {
    DeclarationState.RESOLVED: AuditAction.MEASURE_IMPLEMENTED,
    DeclarationState.NO_CONFLICT: AuditAction.NO_CONFLICT,
    DeclarationState.WITHDRAWN: AuditAction.WITHDRAWN,
}


def register_header(lang: Lang) -> list[str]:
    return [
        lang(header) if not isinstance(header, str) else header for _k, header in REGISTER_COLUMNS
    ]


def _outcome(lang: Lang, declaration: Declaration) -> str:
    if declaration.state == DeclarationState.RESOLVED:
        done = [m for m in declaration.measures.all() if m.state == MeasureState.DONE]
        return "; ".join(lang.choice(MeasureKind, m.kind) for m in done)
    closing = _CLOSING.get(declaration.state)
    return lang.choice(AuditAction, closing) if closing else "—"


def _missed_by(lang: Lang, declaration: Declaration, now: datetime) -> str:
    missed = []
    for d in declaration.deadlines.all():
        if d.missed(now):
            whom = d.due_to_act_name if d.due_to_act_id else lang.choice(Duty, d.duty)
            missed.append(f"{lang.choice(Clock, d.clock)} — {whom}")
    return "; ".join(missed)


def register_row(
    lang: Lang, declaration: Declaration, record: Record, file_name: str, now: datetime
) -> list[str]:
    """One exported dossier's row, in ``REGISTER_COLUMNS`` order. The caller prefetches the
    declaration's measures and deadlines (no query per row)."""
    measures = "; ".join(
        f"{lang.choice(MeasureKind, m.kind)} ({lang.choice(MeasureState, m.state)})"
        for m in declaration.measures.all()
    )
    return [
        declaration.registration_number or "",
        str(declaration.code),
        declaration.body.name,
        declaration.unit_name,
        declaration.declarant.full_name,
        lang.choice(Category, declaration.category),
        lang.choice(DeclarationState, declaration.state),
        measures,
        _outcome(lang, declaration),
        _missed_by(lang, declaration, now),
        declaration.submitted_at.isoformat() if declaration.submitted_at else "",
        declaration.closed_at.isoformat() if declaration.closed_at else "",
        file_name,
        record.sha256,
        record.verification_code,
    ]
