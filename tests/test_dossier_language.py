"""A Kazakh and a Russian dossier contain no English outside what people typed (issue 14): every
label, state, clock, outcome, role, event, access and citation is in the reader's language.

The case is made to print every section: a declined transfer and a second decision, a missed
deadline escalated, a notification sent, an addendum and a comment, an access by the auditor,
a checkpoint with its inclusion proof. What people typed (names, titles, the matter, reasons)
is English in the test organisation and is taken out before looking; what remains may hold
Latin only in hashes, codes, the verification address and the law's number "410-V".
"""

from __future__ import annotations

import io
import re
from datetime import timedelta

import pytest
import time_machine
from django.core.management import call_command
from django.utils import timezone

from declarations.choices import CheckpointReason
from declarations.models import Declaration, Record, Unit
from declarations.records.checkpoints import checkpoint_make
from declarations.records.issuing import dossier_issue
from declarations.services.access import access_record
from declarations.services.declarations import declaration_add_addendum, declaration_comment
from declarations.services.measures import measure_consent
from declarations.services.notifications import notifications_send_pending
from tests.builders import Org, declaration_in
from tests.records import flat, pdf_of, text_of

WORD = re.compile(r"[A-Za-z][A-Za-z-]{2,}")
#: Latin that is not English: file formats and algorithms a record names by their own names
NOT_ENGLISH = {"SHA-", "PAdES", "PDF", "CMS", "https", "coi", "example", "verify"}


def typed_by_people(org: Org, declaration: Declaration) -> list[str]:
    """Every text a person typed that the dossier may print, longest first."""
    texts = {s.full_name for s in org.servants.values()}
    texts |= {u.username for u in org.users.values()}
    texts |= {u.get_full_name() for u in org.users.values() if u.get_full_name()}
    texts |= {s.position.title for s in org.servants.values() if s.position}
    texts |= set(Unit.objects.values_list("name", flat=True))
    texts |= {org.body.name, declaration.matter, declaration.personal_interest}
    texts |= {declaration.related_persons, declaration.registration_number or ""}
    texts |= {v.title for v in org.vacancies}
    for event in declaration.events.all():
        for key in ("reason", "text", "matter", "description", "order_number"):
            if isinstance(event.data.get(key), str):
                texts.add(event.data[key])
    for m in declaration.measures.all():
        texts |= {m.matter, m.description, m.answer_reason, m.order_number}
    return sorted((t for t in texts if t), key=len, reverse=True)


@pytest.mark.django_db
@pytest.mark.parametrize("language", ["kk", "ru"])
def test_a_kazakh_or_russian_dossier_has_no_english(org: Org, language: str) -> None:
    org.manager.email = "manager@example.kz"
    org.manager.save()
    declaration = declaration_in(org, "awaiting_consent")
    notifications_send_pending()
    declaration_add_addendum(declaration=declaration, actor=org.servant, text="Also my cousin")
    declaration_comment(declaration=declaration, actor=org.ethics, text="Checked the tender")
    measure = declaration.measures.get()
    measure_consent(measure=measure, actor=org.servant, decision="decline", reason="Family")
    with time_machine.travel(timezone.now() + timedelta(days=30)):
        call_command("process_deadlines", stdout=io.StringIO())
        access_record(user=org.auditor, action="dossier.downloaded", declaration=declaration)
        checkpoint_make(reason=CheckpointReason.MANUAL)
        dossier = dossier_issue(declaration=declaration, actor=org.auditor, language=language)
    text = flat(text_of(pdf_of(dossier)))
    for typed in typed_by_people(org, declaration):
        text = text.replace(typed, " ").replace(typed.upper(), " ")
    text = re.sub(r"-\s+", "-", text)  # a code wrapped at its hyphen reads whole again
    for code in Record.objects.values_list("verification_code", flat=True):
        text = text.replace(code, " ")  # codes, not words
    # the checkpoint file's own name ("…/checkpoint-<time>.json") is a name, not a word
    text = re.sub(r"\S*checkpoint-\S*", " ", text)
    leftover = sorted(
        {
            w
            for w in WORD.findall(text)
            if w not in NOT_ENGLISH and not re.fullmatch(r"[0-9a-fA-F-]+", w) and w != "V"
        }
    )
    where = [text[max(0, text.find(w) - 60) : text.find(w) + 40] for w in leftover]
    assert not leftover, " | ".join(where)
