"""Recusal by identity, not by spelling (issue 12): a servant recused on a matter (003 cl. 6;
Law 410-V Art. 15 p.1) can never be made the substitute who takes that matter over, however
the reviewer spells it."""

from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError
from hypothesis import given
from hypothesis import strategies as st

from declarations.choices import DeclarationState, MeasureKind
from declarations.matters import matter_key, same_matter
from declarations.models import Declaration
from declarations.services.decisions import MeasureSpec, declaration_decide
from declarations.services.transitions import declaration_start_review, declaration_submit
from tests.builders import Org, build_org, new_draft

MATTERS = [
    "Tender PT-77 evaluation",
    "Тендер по закупке компьютеров",
    "Мемлекеттік сатып алу 12",
    "Lease of office No. 10 from Almaty Invest LLP",
]

# Latin letter -> a Cyrillic or Greek letter drawn the same
LOOKALIKES = {
    "a": "а", "e": "е", "o": "о", "p": "р", "c": "с", "x": "х", "y": "у", "i": "і",
    "T": "Т", "P": "Р", "E": "Е", "A": "А", "O": "Ο", "H": "Н", "K": "К", "M": "М",
    "B": "В", "C": "С", "X": "Х",
}  # fmt: skip
# and back: the Cyrillic text spelt with Latin look-alikes
LATIN = {cyr: lat for lat, cyr in LOOKALIKES.items() if cyr.isalpha() and "Ѐ" <= cyr <= "ӿ"}
SPACES = [" ", "  ", "\u00a0", "\u2009", "\u3000", " \u200b", "\t"]
# drawn as nothing, or as a mark on the letter before: they hide inside a word
INVISIBLE = [
    "\u200b", "\u200c", "\u200d", "\u00ad", "\ufeff", "\u2060", "\u034f", "\ufe0f",
    "\u17b4", "\u3164", "\u115f", "\u2800", "\u0301", "\u0308", "\u180e",
]  # fmt: skip
# plain characters drawn alike
ASCII_ALIKE = {"l": "I", "o": "0", "O": "0", "I": "l"}
PUNCTUATION = [".", ",", ";", "!", "…", "«", "»", '"', "-", "—", "(", ")"]


@st.composite
def spelling(draw: st.DrawFn, text: str) -> str:
    """``text`` as somebody else might type it: same words, other characters."""
    out = []
    for char in text:
        if char == " ":
            out.append(draw(st.sampled_from(SPACES)))
            continue
        choice = draw(st.integers(0, 5))
        if choice == 1 and char in LOOKALIKES:
            char = LOOKALIKES[char]
        elif choice == 1 and char in LATIN:
            char = LATIN[char]
        elif choice == 4 and char in ASCII_ALIKE:
            char = ASCII_ALIKE[char]
        elif choice == 2:
            char = char.swapcase()
        elif choice == 3:
            char += draw(st.sampled_from(INVISIBLE))
        out.append(char)
    ends = st.lists(st.sampled_from(PUNCTUATION + SPACES), max_size=3).map("".join)
    return draw(ends) + "".join(out) + draw(ends)


@given(data=st.data(), matter=st.sampled_from(MATTERS))
def test_every_spelling_of_a_matter_has_its_key(data: st.DataObject, matter: str) -> None:
    variant = data.draw(spelling(matter))
    assert same_matter(matter, variant), (matter, variant, matter_key(variant))


def test_other_matters_stay_other() -> None:
    assert not same_matter("Tender PT-77 evaluation", "Tender PT-78 evaluation")
    assert not same_matter("Тендер по закупке", "Тендер по аренде")
    assert not same_matter("", "")
    assert matter_key("ТЕНДЕР ПО ЗАКУПКЕ") == matter_key("тендер по закупке")


def _decide_with(org: Org, declaration: Declaration, matter: str) -> None:
    declaration_decide(
        declaration=declaration,
        actor=org.manager,
        reason="Give it to a colleague",
        measures=[MeasureSpec(kind=MeasureKind.REASSIGN, substitute=org.servants["servant2"],
                              matter=matter)],
    )  # fmt: skip


@pytest.mark.django_db
@given(data=st.data())
def test_a_recused_servant_is_never_made_substitute_on_their_own_matter(
    data: st.DataObject,
) -> None:
    org = build_org()
    matter = data.draw(st.sampled_from(MATTERS))
    recused = new_draft(org, "servant2", matter=data.draw(spelling(matter)))
    declaration_submit(declaration=recused, actor=org.servant2)
    declaration = new_draft(org, "servant", matter=data.draw(spelling(matter)))
    declaration_submit(declaration=declaration, actor=org.servant)
    declaration_start_review(declaration=declaration, actor=org.manager)
    given_as = data.draw(
        st.one_of(st.just(""), spelling(matter))
    )  # "" gives the declaration's matter
    with pytest.raises(ValidationError) as refused:
        _decide_with(org, declaration, given_as)
    assert "measures.0.substitute" in refused.value.message_dict
    declaration.refresh_from_db()
    assert declaration.state == DeclarationState.IN_REVIEW and not declaration.measures.exists()


@pytest.mark.django_db
def test_a_servant_recused_on_another_matter_may_take_this_one(org: Org) -> None:
    recused = new_draft(org, "servant2", matter="Lease of the garage")
    declaration_submit(declaration=recused, actor=org.servant2)
    declaration = new_draft(org, "servant", matter="Tender PT-77 evaluation")
    declaration_submit(declaration=declaration, actor=org.servant)
    declaration_start_review(declaration=declaration, actor=org.manager)
    _decide_with(org, declaration, "")
    declaration.refresh_from_db()
    assert declaration.state == DeclarationState.RESOLVED


@pytest.mark.django_db
def test_the_case_matter_counts_even_when_the_measure_names_the_matter_otherwise(
    org: Org,
) -> None:
    """The matter given is the declaration's: calling it by another name does not free the
    recused."""
    recused = new_draft(org, "servant2", matter="Tender PT-77")
    declaration_submit(declaration=recused, actor=org.servant2)
    declaration = new_draft(org, "servant", matter="Tender PT-77")
    declaration_submit(declaration=declaration, actor=org.servant)
    declaration_start_review(declaration=declaration, actor=org.manager)
    with pytest.raises(ValidationError):
        _decide_with(org, declaration, "The PT-77 file")
