"""A person's IIN and an organisation's BIN (issue 15): twelve digits whose last is a check digit.

The check digit is the weighted sum of the first eleven digits modulo 11, with weights 1…11; a
remainder of 10 is computed again with weights 3…11, 1, 2, and a second 10 means the number is
not valid (the Kazakhstan rule for both identifiers). A personal signature is accepted only
when its certificate's IIN equals the acting servant's, so a wrong digit here would make every
signature of that person fail: it is refused where it is typed.

The NCA's test contour issues its test certificates to ``IIN123456789011`` (and ``…012``, and
``BIN123456789021``), which fail the check. They are accepted only where the test contour is
(``COI_EDS_ACCEPT_TEST_IDENTIFIERS``, on in development and the demo, refused by the deploy
check in production), so the demo servant can sign with the shared test key.

Pure functions with Django's validation errors: the models' layer (``docs/ARCHITECTURE.md``).
"""

from __future__ import annotations

from django.conf import settings
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

#: the NCA test contour's natural person and its test organisation's employees
#: (``../shared/kz-test-pki/README.md``): their numbers fail the check digit
NCA_TEST_IINS = frozenset({"123456789011", "123456789012"})
#: its test organisation's BIN (the employees' certificates, ``OU=BIN…``)
NCA_TEST_BIN = "123456789021"

_FIRST = range(1, 12)
_SECOND = (3, 4, 5, 6, 7, 8, 9, 10, 11, 1, 2)


def check_digit(first_eleven: str) -> int | None:
    """The check digit of eleven digits, or ``None`` when the rule gives none."""
    digits = [int(c) for c in first_eleven]
    for weights in (_FIRST, _SECOND):
        remainder = sum(d * w for d, w in zip(digits, weights, strict=True)) % 11
        if remainder != 10:
            return remainder
    return None


def is_valid(value: str) -> bool:
    """Twelve ASCII digits whose last is the check digit of the first eleven."""
    if len(value) != 12 or not value.isascii() or not value.isdigit():
        return False
    return check_digit(value[:11]) == int(value[11])


def _test_contour() -> bool:
    return bool(getattr(settings, "COI_EDS_ACCEPT_TEST_IDENTIFIERS", False))


def validate_iin(value: str) -> None:
    if value in NCA_TEST_IINS and _test_contour():
        return
    if not is_valid(value):
        raise ValidationError(
            _("An IIN is 12 digits and its last digit must match the others; check it."),
            code="iin",
        )


def validate_bin(value: str) -> None:
    if value == NCA_TEST_BIN and _test_contour():
        return
    if not is_valid(value):
        raise ValidationError(
            _("A BIN is 12 digits and its last digit must match the others; check it."),
            code="bin",
        )


def masked(value: str) -> str:
    """An IIN as a record prints it: the first six digits (the date of birth) and the last two
    hidden, enough to tell two people apart on a page without publishing the number."""
    value = value.removeprefix("IIN")
    return f"••••••{value[6:10]}••" if len(value) == 12 else value
