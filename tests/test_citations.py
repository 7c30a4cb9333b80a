"""Citations in the reader's language (issue 14): a Kazakh or Russian record or page cites every
act by its Kazakh or Russian name, with the article and clause written that language's way, and
each reference once however many events cite it."""

from __future__ import annotations

import io
import re
from datetime import date, timedelta

import pytest
import time_machine
from django.core.management import call_command
from django.template.loader import render_to_string
from django.utils import timezone, translation

from declarations import selectors
from declarations.choices import MeasureKind
from declarations.models import AuditEvent, Declaration, LegalBasis, LegalReference
from declarations.models.legal import cite_where
from declarations.records.citations import basis_for
from declarations.records.issuing import dossier_issue
from declarations.records.labels import Lang
from declarations.services.decisions import MeasureSpec, declaration_decide
from declarations.services.measures import measure_consent
from tests.builders import Org, declaration_in, pending_measure
from tests.records import flat, pdf_of, text_of

#: Three Latin letters in a row: an English word (the Latin "V" of "410-V" is the law's number).
LATIN_WORD = re.compile(r"[A-Za-z]{3,}")
ENGLISH_ABBREVIATIONS = re.compile(r"\b(?:art|cl|para|item)\.?\s*\d", re.IGNORECASE)


def events_of(declaration: Declaration) -> list[AuditEvent]:
    return list(declaration.events.order_by("seq"))


def decided(org: Org) -> Declaration:
    """A declaration whose events cite Law 410-V Art. 15 p.3 twice (the decision and its measure
    of giving the matter to another person) and the Almaty rules' clauses and items."""
    declaration = declaration_in(org, "in_review")
    declaration_decide(
        declaration=declaration,
        actor=org.manager,
        reason="The brother bids",
        measures=[
            MeasureSpec(
                kind=MeasureKind.REASSIGN, substitute=org.servants["servant2"], matter="Tender 42"
            )
        ],
    )
    return declaration


# ---- the forms of a citation ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("language", "article", "clause", "expected"),
    [
        ("en", "15", "3", "Art. 15, cl. 3"),
        ("ru", "15", "3", "ст. 15, п. 3"),
        ("kk", "15", "3", "15-бап, 3-тармақ"),
        ("kk", "24", "", "24-бап"),
        ("ru", "", "8 p.2(1)", "п. 8, абз. 2, пп. 1)"),
        ("kk", "", "8 p.2(1)", "8-тармақ, 2-абзац, 1) тармақша"),
        ("kk", "", "9(2)", "9-тармақ, 2) тармақша"),  # as 002 cites «9-тармақ 2-тармақша»
        ("en", "", "8 p.1", "cl. 8, para. 1"),
        ("ru", "", "an odd one", "п. an odd one"),  # an administrator's free text, as written
    ],
)
def test_articles_and_clauses_are_cited_the_way_each_language_cites_them(
    language: str, article: str, clause: str, expected: str
) -> None:
    assert cite_where(article, clause, language) == expected


@pytest.mark.django_db
def test_every_reference_names_its_act_in_three_languages() -> None:
    references = list(LegalReference.objects.all())
    assert len(references) >= 13
    for ref in references:
        assert ref.act_kk and ref.act_ru and ref.act_en, ref.key
        assert not LATIN_WORD.search(ref.act_kk), ref.act_kk
        assert not LATIN_WORD.search(ref.act_ru), ref.act_ru
    law = LegalReference.objects.get(key="law-410v-art15-p3")
    assert law.citation("ru") == (
        "Закон Республики Казахстан от 18 ноября 2015 года № 410-V «О противодействии "
        "коррупции», ст. 15, п. 3"
    )
    assert law.citation("kk").endswith("№ 410-V Заңы, 15-бап, 3-тармақ")
    assert law.citation("en").endswith("“On Combating Corruption”, Art. 15, cl. 3")
    with translation.override("kk"):
        assert str(law) == law.citation("kk")  # the active language, as the admin shows it
    law.act_ru = ""
    assert law.act_name("ru") == law.act  # no Russian name yet: the act as the table has it


# ---- records ----------------------------------------------------------------------------------


@pytest.mark.parametrize("language", ["kk", "ru"])
def test_a_kazakh_or_russian_record_cites_in_its_own_language(org: Org, language: str) -> None:
    lines = basis_for(Lang(language), events_of(decided(org)))
    assert lines
    for line in lines:
        assert not LATIN_WORD.search(line), line
        assert not ENGLISH_ABBREVIATIONS.search(line), line
    law = "Заңы, 15-бап, 3-тармақ" if language == "kk" else "«О противодействии коррупции», ст. 15"
    assert any(law in line for line in lines), lines


def test_a_bilingual_record_cites_in_both_languages(org: Org) -> None:
    lines = basis_for(Lang("kk-ru"), events_of(decided(org)))
    (law,) = [line for line in lines if "ст. 15, п. 3" in line]
    assert "15-бап, 3-тармақ / Закон Республики Казахстан" in law
    assert law.endswith("(18.11.2015)")


def test_a_reference_cited_by_two_events_is_listed_once(org: Org) -> None:
    declaration = declaration_in(org, "awaiting_consent")
    measure_consent(
        measure=pending_measure(declaration), actor=org.servant, decision="decline", reason="No"
    )
    events = events_of(declaration)
    citing = [
        e
        for e in events
        if "akimat-2013-cl8-p2-3" in {r["key"] for r in e.data.get("legal_basis", [])}
    ]
    assert len(citing) == 2  # the decision proposing the transfer, and the answer to it
    lines = basis_for(Lang("en"), events)
    assert len([line for line in lines if "cl. 8, para. 2, item 3" in line]) == 1
    assert len(lines) == len(set(lines))


def test_the_same_clause_under_another_key_is_one_reference(org: Org) -> None:
    """An administrator who adds a new row for a new edition of a clause (a new key) and points
    the topic at it: the events before cite the old key, the events after the new one. The
    dossier lists the clause once, with both editions."""
    declaration = declaration_in(org, "in_review")
    old = LegalReference.objects.get(key="law-410v-art15-p3")
    new = LegalReference.objects.get(pk=old.pk)
    new.pk = None
    new.key = "law-410v-art15-p3-2026"
    new.edition_date = date(2026, 1, 1)
    new.save()
    # the decision's topic cites the new row; the measure's still cites the old one
    LegalBasis.objects.filter(reference=old, topic="decide").update(reference=new)
    declaration_decide(
        declaration=declaration,
        actor=org.manager,
        reason="Divest",
        measures=[MeasureSpec(kind=MeasureKind.OTHER, description="Sell the shares")],
    )
    events = events_of(declaration)
    frozen = [r for e in events for r in e.data.get("legal_basis", [])]
    assert {"law-410v-art15-p3-2026"} <= {r["key"] for r in frozen}
    events[0].data["legal_basis"].append(
        {**frozen[-1], "key": "law-410v-art15-p3", "edition_date": "2015-11-18"}
    )
    lines = basis_for(Lang("ru"), events)
    (law,) = [line for line in lines if "ст. 15, п. 3" in line]
    assert law.endswith("(18.11.2015; 01.01.2026)") or law.endswith("(01.01.2026; 18.11.2015)")
    # a page, and the event the decision wrote, list it once too
    assert [r.key for r in selectors.legal_basis("decide", "measure.other") if r.article] == [
        "law-410v-art15-p3-2026"
    ]
    assert [r["key"] for r in frozen if r.get("article")].count("law-410v-art15-p3") == 0


def test_a_reference_no_longer_in_the_table_is_cited_as_it_was_frozen(org: Org) -> None:
    declaration = declaration_in(org, "submitted")
    LegalReference.objects.filter(key="law-410v-art15-p2").delete()
    lines = basis_for(Lang("ru"), events_of(declaration))
    assert any(line.startswith("Law of the Republic of Kazakhstan No. 410-V") for line in lines)
    assert any(line.startswith("Правила служебной этики") for line in lines)


def test_a_russian_dossier_cites_each_reference_once_in_russian(org: Org) -> None:
    declaration = declaration_in(org, "awaiting_consent")
    with time_machine.travel(timezone.now() + timedelta(days=30)):
        call_command("process_deadlines", stdout=io.StringIO())  # two missed clocks cite cl. 9
        dossier = dossier_issue(declaration=declaration, actor=org.auditor, language="ru")
    text = flat(text_of(pdf_of(dossier)))
    basis = text[text.index("Правовое основание") :]
    assert "Правила служебной этики государственных служащих акимата города Алматы" in basis
    assert "Закон Республики Казахстан от 18 ноября 2015 года № 410-V" in basis
    assert "п. 9" in basis and "ст. 15, п. 2" in basis
    assert basis.count("п. 9 (28.11.2013)") == 1
    assert not re.search(r"\b(?:art|cl)\. ", basis)
    assert "Law of the Republic" not in basis and "Алматы қаласы" not in basis


# ---- pages ------------------------------------------------------------------------------------


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("language", "expected"),
    [
        ("kk", "№ 410-V Заңы, 15-бап, 2-тармақ"),
        ("ru", "«О противодействии коррупции», ст. 15, п. 2"),
        ("en", "“On Combating Corruption”, Art. 15, cl. 2"),
    ],
)
def test_a_page_cites_in_the_readers_language(language: str, expected: str) -> None:
    with translation.override(language):
        html = render_to_string(
            "declarations/_basis.html", {"basis": selectors.legal_basis("submit")}
        )
    assert expected in html
    if language != "en":
        cited = re.findall(r"<strong>(.*?)</strong>", html)
        assert cited and not any(LATIN_WORD.search(c) for c in cited), cited
