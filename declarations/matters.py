"""When two texts name the same matter, whatever their spelling (issue 12).

A recusal (003 cl. 6; Law 410-V Art. 15 p.1) binds a servant to a *matter*, which people type:
"Tender PT-77 evaluation" and "tender  PT-77 evaluation." are one matter, and so is the same text
with a non-breaking space, a zero-width character, or a Cyrillic "е" in place of a Latin "e".
``matter_key`` folds all of those away, so that two texts with the same key are the same matter:

1. NFKD: compatibility forms (no-break and other spaces, full-width letters, ligatures) become
   their plain forms, and accented letters come apart into letter and accent;
2. everything invisible goes: Unicode's default-ignorable code points (zero-width spaces and
   joiners, soft hyphens, variation selectors, Hangul fillers, BOM…) and combining marks;
3. declaration folding, then each character Unicode lists as confusable with a plain Latin letter
   (TR39's confusables, the ``confusable_homoglyphs`` data), in either case, becomes that
   letter: Cyrillic "е", "о", "р", "т" (from "Т"), Greek "ο"…, and among plain characters the
   ones drawn alike become one ("l", "I", "1", "|"; "0" and "O"); Kazakh and Russian words go
   through the same mapping, so two Cyrillic spellings still compare as they should;
4. only letters and digits are kept: spacing, punctuation and symbols ("PT-77", "PT 77",
   "PT77", a blank braille cell between letters) do not tell two matters apart.

The key is for comparing only, never for display (TR39: a skeleton is "not suitable for display").
It errs towards "the same matter": a recused person wrongly kept off a matter costs the reviewer
one more choice; a recused person wrongly given it breaks the law.
"""

from __future__ import annotations

import unicodedata
from functools import cache

from confusable_homoglyphs import confusables  # type: ignore[import-untyped]


@cache
def _latin_prototypes() -> dict[str, str]:
    """Declaration-folded character -> the declaration-folded ASCII letter Unicode lists it as
    confusable with.

    Built from both declarations, since the key folds declaration first: Cyrillic "н" looks like no
    Latin letter, but "Н" looks like "H", so "ТЕНДЕР" and "тендер" must meet "TEHДEP" folded the
    same way ("teh…"). TR39's prototype of the capital I look-alikes (Greek Ι, Cyrillic І) is "l":
    for a capital letter we take "I", which folds to "i" like its small forms.
    """
    own: dict[str, str] = {}
    derived: dict[str, str] = {}
    for char, homoglyphs in confusables.confusables_data.items():
        if len(char) != 1 or char.isascii():
            continue
        ascii_ = sorted(h["c"] for h in homoglyphs if len(h["c"]) == 1 and h["c"].isascii())
        if not ascii_ or not ascii_[0].isprintable():
            continue
        proto = "I" if ascii_[0] == "l" and char.isupper() else ascii_[0]
        folded = char.casefold()
        if len(folded) == 1 and not folded.isascii():
            (own if folded == char else derived).setdefault(folded, proto.casefold())
    return derived | own


#: Unicode's Default_Ignorable_Code_Point ranges (DerivedCoreProperties.txt): drawn as
#: nothing, so they can hide inside a word. Python's ``unicodedata`` does not expose the property.
_IGNORABLE = (
    (0x00AD, 0x00AD), (0x034F, 0x034F), (0x061C, 0x061C), (0x115F, 0x1160),
    (0x17B4, 0x17B5), (0x180B, 0x180F), (0x200B, 0x200F), (0x202A, 0x202E),
    (0x2060, 0x206F), (0x3164, 0x3164), (0xFE00, 0xFE0F), (0xFEFF, 0xFEFF),
    (0xFFA0, 0xFFA0), (0xFFF0, 0xFFF8), (0x1BCA0, 0x1BCA3), (0x1D173, 0x1D17A),
    (0xE0000, 0xE0FFF),
)  # fmt: skip
#: Plain characters drawn alike (TR39 maps each to one prototype): folded after declaration folding.
_ASCII_ALIKE = str.maketrans({"i": "l", "1": "l", "|": "l", "0": "o"})


def _visible(char: str) -> bool:
    if unicodedata.category(char) in ("Mn", "Me", "Cf"):
        return False
    code = ord(char)
    return not any(low <= code <= high for low, high in _IGNORABLE)


def matter_key(text: str) -> str:
    """The comparison key of a matter's text (see the module docstring)."""
    table = _latin_prototypes()
    text = "".join(c for c in unicodedata.normalize("NFKD", text) if _visible(c))
    text = "".join(table.get(c, c) for c in text.casefold()).translate(_ASCII_ALIKE)
    return "".join(c for c in text if c.isalnum())


def same_matter(a: str, b: str) -> bool:
    """Whether ``a`` and ``b`` name the same matter (see ``matter_key``); empty texts never do."""
    key = matter_key(a)
    return bool(key) and key == matter_key(b)
