"""What the record shows is what was filed (issue 14): free text is stored in one form, and never
with characters that change how it reads without being seen.

A notice's text reaches a signed record, where a reader must be able to trust that what the page
shows is what its bytes say. Three kinds of code point break that, and the doors (the API's
serializers, the pages' forms) refuse them in every free-text field, each with its message:

1. Unicode's *format* characters (category Cf): the bidirectional overrides, embeddings and
   isolates (U+202A-U+202E, U+2066-U+2069) and marks (U+200E, U+200F, U+061C) reorder the text
   around them; the zero-width space (U+200B), word joiner (U+2060), BOM (U+FEFF), soft hyphen
   (U+00AD), tag characters and the rest are drawn as nothing, so two texts that look the same
   differ, and a word can hide in another. The zero-width non-joiner and joiner (U+200C, U+200D)
   are Cf too and are refused as well: they shape Persian, Arabic-script and Indic text and join
   emoji, none of which a Kazakh, Russian or English notice needs (Kazakh in Cyrillic or in the
   2021 Latin alphabet is written with precomposed letters), while they can hide in a word like
   any other zero-width character.
2. Control characters (category Cc): NUL, escape, backspace, NEL, DEL and the C1 set. Tab and
   line feed are the only ones a multi-line field keeps; a one-line field (an order number, a
   slug, a search) keeps neither.
3. Text that is not in NFC: "е" + U+0308 and "ё" look the same and are not the same bytes.
   That one is not refused but normalised, as are line endings (CRLF, CR and Unicode's line and
   paragraph separators become "\\n"): both change the bytes, never what a reader sees.

Text stored before this check may still hold such characters; ``visible`` is for drawing stored
text in a record, where each one is shown as a marker instead of acting unseen.

Pure functions on ``str``, no models: the infrastructure layer (``docs/ARCHITECTURE.md``).
"""

from __future__ import annotations

import re
import unicodedata

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

#: the controls a multi-line field keeps (CR only on the way in: ``normalize`` turns it into LF)
LINE_CONTROLS = frozenset("\t\n\r")
#: how many code points a message names; a text with more says "…" after them
NAMED_AT_MOST = 10

_LINE_ENDINGS = re.compile("\r\n|[\r\u2028\u2029]")


def normalize(value: str) -> str:
    """``value`` in NFC, with every line ending as ``"\\n"``: the same text as a reader sees it,
    in one spelling of its bytes."""
    return _LINE_ENDINGS.sub("\n", unicodedata.normalize("NFC", value))


def _hidden(char: str) -> bool:
    """A format character, or a control character other than a line's tab and line endings."""
    category = unicodedata.category(char)
    return category == "Cf" or (category == "Cc" and char not in LINE_CONTROLS)


def code_point(char: str) -> str:
    """``"\\u202e"`` -> ``"U+202E"`` (at least four hex digits, as Unicode writes them)."""
    return f"U+{ord(char):04X}"


def format_controls(value: str) -> list[str]:
    """The format (Cf) and control (Cc) characters in ``value`` that no field may hold, as
    ``"U+202E"``, each once, in the order they first appear. Tab and line endings are not
    among them (whether a field takes lines is ``clean_text``'s ``multiline``)."""
    return list(dict.fromkeys(code_point(c) for c in value if _hidden(c)))


def clean_text(value: str, *, multiline: bool) -> str:
    """``value`` normalised (``normalize``), or a ``ValidationError`` (code ``"invisible"``)
    naming the characters to remove; a one-line field (``multiline=False``) refuses tabs and
    line breaks too (code ``"multiline"``). Every message is in the active language."""
    value = normalize(value)
    errors: list[ValidationError] = []
    found = format_controls(value)
    if found:
        named = ", ".join(found[:NAMED_AT_MOST]) + (", …" if len(found) > NAMED_AT_MOST else "")
        errors.append(
            ValidationError(
                _(
                    "The text contains invisible control characters (%(characters)s) that can "
                    "change how it reads; remove them."
                ),
                code="invisible",
                params={"characters": named},
            )
        )
    if not multiline and any(c in LINE_CONTROLS for c in value):
        errors.append(
            ValidationError(
                _("This field takes one line: remove the line breaks and tabs."),
                code="multiline",
            )
        )
    if errors:
        raise ValidationError(errors)
    return value


def validate_visible_text(value: str) -> None:
    """``clean_text``'s refusal without its normalisation, in the shape of a Django validator:
    for a model field or a service, behind the doors (the admin, an import), where a value
    cannot be replaced by its normal form."""
    clean_text(value, multiline=True)


def visible(value: str) -> str:
    """Stored text as a record draws it: each format or control character (other than a line
    feed or a tab) shown as a marker such as ``"⟦U+202E⟧"``, so that it can no longer reorder
    or hide what is around it. CRLF and CR are line endings and become ``"\\n"``; nothing else
    changes. The brackets U+27E6/U+27E7 are in DejaVu Sans, the records' font."""
    value = value.replace("\r\n", "\n").replace("\r", "\n")
    return "".join(f"⟦{code_point(c)}⟧" if _hidden(c) else c for c in value)
