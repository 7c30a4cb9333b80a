"""One name for each thing (issue 14): the catalogues and the records' labels use the term of
``docs/GLOSSARY.md`` for every entry, and never a variant it rejects.

The glossary's table is the test's data: for each term, the English words that make a message
use it, the stems its Russian and Kazakh translations must contain, and the rejected variants.
Stems match the start of a word (Russian and Kazakh inflect); a rejected variant found inside
the chosen term («жеке мүдде» in «жеке мүдделілік») does not count.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

import polib  # type: ignore[import-untyped]
import pytest
from django.utils import translation

from declarations.records.labels import LABELS, TITLES, Lang

ROOT = Path(__file__).resolve().parent.parent
GLOSSARY = ROOT / "docs" / "GLOSSARY.md"
WORD = re.compile(r"\w+")  # «15-бап», «іс-шара»: a hyphen parts words


@dataclass(frozen=True)
class Term:
    en: str
    english: tuple[str, ...]  # the words of a msgid that name the term
    uses: dict[str, tuple[str, ...]]  # language -> stems, one of which a translation contains
    rejected: dict[str, tuple[str, ...]]  # language -> variants no translation contains

    @property
    def name(self) -> str:
        return self.en.split(" (")[0]


def _cells(line: str) -> list[str]:
    return [cell.strip() for cell in line.strip().strip("|").split("|")]


def _list(cell: str) -> tuple[str, ...]:
    return () if cell in ("", "—") else tuple(p.strip() for p in cell.split(";") if p.strip())


def _tables() -> dict[str, list[list[str]]]:
    """The rows of each table of the glossary, by the heading above it."""
    tables: dict[str, list[list[str]]] = {}
    heading = ""
    for line in GLOSSARY.read_text(encoding="utf-8").splitlines():
        if line.startswith("## "):
            heading = line[3:].strip()
        elif line.startswith("|") and not set(line) <= set("|- "):
            tables.setdefault(heading, []).append(_cells(line))
    return {name: rows[1:] for name, rows in tables.items()}  # without the header row


def load_terms() -> list[Term]:
    terms = []
    for en, _ru, _kk, _source, words, ru, kk, not_ru, not_kk in _tables()["Terms"]:
        terms.append(
            Term(
                en=en,
                english=_list(words),
                uses={"ru": _list(ru), "kk": _list(kk)},
                rejected={"ru": _list(not_ru), "kk": _list(not_kk)},
            )
        )
    return terms


def load_exceptions() -> set[tuple[str, str]]:
    return {(term, msgid) for term, msgid in _tables()["Where the English word is not the term"]}


TERMS = load_terms()
EXCEPTIONS = load_exceptions()


def _spans(text: str, phrase: str) -> list[range]:
    """Where each word of ``phrase`` begins a consecutive word of ``text`` (case-insensitive):
    the ranges of word positions."""
    words = [w.casefold() for w in WORD.findall(text)]
    stems = [s.casefold() for s in phrase.split()]
    return [
        range(i, i + len(stems))
        for i in range(len(words) - len(stems) + 1)
        if all(words[i + j].startswith(stem) for j, stem in enumerate(stems))
    ]


def uses(text: str, stems: tuple[str, ...]) -> bool:
    return any(_spans(text, stem) for stem in stems)


def rejected_in(text: str, term: Term, language: str) -> list[str]:
    """The rejected variants ``text`` contains, outside the term's own words: a word that begins
    with a longer stem of the chosen term («мүдделілік» for «мүдделіл») is the term, not the
    variant («мүдде»)."""
    words = [w.casefold() for w in WORD.findall(text)]
    chosen = [w.casefold() for stem in term.uses[language] for w in stem.split()]
    found = []
    for variant in term.rejected[language]:
        for span in _spans(text, variant):
            inside = any(
                len(c) > len(v) and c.startswith(v) and words[i].startswith(c)
                for i, v in zip(span, (s.casefold() for s in variant.split()), strict=True)
                for c in chosen
            )
            if not inside:
                found.append(variant)
    return found


def names(msgid: str, term: Term) -> bool:
    """Whether the English ``msgid`` names ``term`` (a word of it, or its plural)."""
    if (term.name, msgid) in EXCEPTIONS:
        return False
    return any(
        re.search(rf"\b{re.escape(word)}s?\b", msgid, re.IGNORECASE) for word in term.english
    )


def translations(language: str) -> list[tuple[str, str]]:
    """(msgid, translation) of every live, translated, non-fuzzy entry; plural forms each."""
    po = polib.pofile(str(ROOT / "locale" / language / "LC_MESSAGES" / "django.po"))
    pairs = []
    for entry in po.translated_entries():
        if entry.msgid_plural:
            pairs += [(entry.msgid, text) for text in entry.msgstr_plural.values() if text]
        else:
            pairs.append((entry.msgid, entry.msgstr))
    return pairs


# ---- the glossary itself ----------------------------------------------------------------------


def test_the_glossary_has_the_terms_the_product_needs() -> None:
    wanted = {
        "notice",
        "conflict of interest",
        "actual",
        "potential",
        "personal interest",
        "servant",
        "direct manager",
        "management",
        "ethics commissioner",
        "HR",
        "recusal",
        "removal from duties",
        "substitute",
        "measure",
        "transfer",
        "consent",
        "deadline",
        "missed",
        "no deadline",
        "audit trail",
        "audit-chain head",
        "record",
        "dossier",
        "registration number",
        "addendum",
        "withdrawal",
        "confidential source",
        "checkpoint",
        "access log",
    }
    assert wanted <= {t.name for t in TERMS}
    for term in TERMS:
        assert term.english, term.en
        assert term.uses["ru"] and term.uses["kk"], term.en
    assert {name for name, _ in EXCEPTIONS} <= {t.name for t in TERMS}


def test_the_matching_reads_inflected_words_and_not_the_chosen_term() -> None:
    (interest,) = [t for t in TERMS if t.name == "personal interest"]
    assert uses("Сіздің жеке мүдделілігіңіз", interest.uses["kk"])
    assert rejected_in("Сіздің жеке мүдделілігіңіз", interest, "kk") == []
    assert rejected_in("Сіздің жеке мүддеңіз", interest, "kk") == ["жеке мүдде"]
    (substitute,) = [t for t in TERMS if t.name == "substitute"]
    assert rejected_in("Найти заместителя по имени", substitute, "ru") == ["заместител"]
    assert rejected_in("Орнына адамды табу", substitute, "kk") == ["орнына адам"]
    (record,) = [t for t in TERMS if t.name == "record"]
    assert names("Verify a record", record) and names("Signed records", record)
    assert not names("Record the order", record) and not names("recorded", record)


# ---- the catalogues ---------------------------------------------------------------------------


@pytest.mark.parametrize("language", ["ru", "kk"])
def test_no_translation_uses_a_rejected_variant(language: str) -> None:
    problems = [
        f"{term.en}: {variant!r} in {text!r} ({msgid!r})"
        for msgid, text in translations(language)
        for term in TERMS
        for variant in rejected_in(text, term, language)
    ]
    assert problems == [], "\n".join(problems)


@pytest.mark.parametrize("language", ["ru", "kk"])
def test_every_message_naming_a_term_translates_it_with_the_term(language: str) -> None:
    problems = [
        f"{term.en} ({' / '.join(term.uses[language])}): {msgid!r} -> {text!r}"
        for msgid, text in translations(language)
        for term in TERMS
        if names(msgid, term) and not uses(text, term.uses[language])
    ]
    assert problems == [], "\n".join(problems)


# ---- the records' labels ----------------------------------------------------------------------


@pytest.mark.parametrize("language", ["ru", "kk"])
def test_the_record_labels_say_what_the_glossary_says(language: str) -> None:
    """The labels of records (``labels.py``) as a record prints them: compiled catalogue, the
    record's language."""
    lang = Lang(language)
    problems = []
    for message in [*LABELS.values(), *TITLES.values()]:
        with translation.override("en"):
            english = str(message)
        text = lang(message)
        assert text != english or not re.search(r"[a-z]{3}", english), english
        for term in TERMS:
            problems += [f"{english!r} -> {text!r}: {v}" for v in rejected_in(text, term, language)]
            if names(english, term) and not uses(text, term.uses[language]):
                problems.append(f"{english!r} -> {text!r}: not {term.uses[language]}")
    assert problems == [], "\n".join(problems)


def test_a_step_with_no_deadline_does_not_say_not_yet_due() -> None:
    assert Lang("ru")(LABELS["not_due"]) == "срок не установлен"
    assert Lang("kk")(LABELS["not_due"]) == "мерзім белгіленбеген"
    assert Lang("kk-ru")(LABELS["recusal_title"]) == (
        "Өкілеттіктерді жүзеге асыруға тыйым / Запрет на осуществление полномочий"
    )
