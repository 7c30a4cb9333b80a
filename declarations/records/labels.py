"""The words of a record: its labels and titles, in one language or two side by side, and the
formatting of dates and names.

The templates only print what this package prepares (autoescaped); they never format or
translate. ``Lang`` translates a label into the record's language(s): ``kk-ru`` gives
«Қазақша / Русский», the form of a bilingual official document. User text is printed as typed,
once. The rows built from these labels are in ``rows.py``.
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
from declarations.choices import RecordKind
from declarations.models import Record, Servant

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
    # A clock that never started (no deadline applies), not one still to come: see GLOSSARY.md.
    "not_due": _("no deadline"),
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
    """``L["key"]``: the label ``LABELS[key]`` in the record's language(s), translated once."""

    def __init__(self, lang: Lang) -> None:
        self._lang = lang
        self._cache: dict[str, str] = {}

    def __getitem__(self, key: str) -> str:
        if key not in self._cache:
            self._cache[key] = self._lang(LABELS[key])
        return self._cache[key]


def title(lang: Lang, record: Record) -> str:
    return lang(TITLES[record.kind])
