"""What the record shows is what was filed (issue 14): every free text that reaches a record, from
the API or the pages, is stored in NFC, and refused with a message at its field if it holds an
invisible format or control character (a bidirectional override, a zero-width space, a BOM, a
bell); text stored before the check is drawn with each such character made visible.

The last tests walk every input serializer and every form, so a text field added tomorrow is
covered or fails here.
"""

from __future__ import annotations

import importlib
import pkgutil
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest
from django import forms
from django.core.exceptions import ValidationError
from django.urls import reverse
from django.utils import timezone
from hypothesis import given
from hypothesis import strategies as st
from rest_framework import serializers

import declarations.api.serializers as api_serializers
import declarations.web as web_package
from declarations.api.serializers import StrictCharField
from declarations.choices import Category, ConflictType
from declarations.choices import DeclarationState as S
from declarations.models import AuditEvent, Declaration
from declarations.text import (
    clean_text,
    format_controls,
    normalize,
    validate_visible_text,
    visible,
)
from declarations.web.forms import TextField
from tests.api import BASE, act, client_for, declaration_url, measure_url, ok
from tests.builders import Org, declaration_in, new_draft, pending_measure
from tests.web import client_as, field_errors

RLO = "\u202e"  # RIGHT-TO-LEFT OVERRIDE: what follows it is drawn backwards
ZWSP = "\u200b"  # ZERO WIDTH SPACE
BOM = "\ufeff"  # ZERO WIDTH NO-BREAK SPACE (byte order mark)
BELL = "\x07"  # a C0 control character
#: what each hostile character makes the message say
HOSTILE = {RLO: "U+202E", ZWSP: "U+200B", BOM: "U+FEFF", BELL: "U+0007"}
DECOMPOSED, COMPOSED = "Е\u0308лена е\u0308", "Ёлена ё"  # NFC composes e + diaeresis into ё


def refusal(*code_points: str) -> str:
    """The English message for ``code_points`` (the exact wording is checked in English only:
    the Kazakh and Russian catalogues get it later, see the module's tests in those languages)."""
    return (
        f"The text contains invisible control characters ({', '.join(code_points)}) that can "
        "change how it reads; remove them."
    )


ONE_LINE = "This field takes one line: remove the line breaks and tabs."


# ---- the rule, as pure functions -------------------------------------------------------------


def test_normalize_composes_and_ends_every_line_with_a_line_feed() -> None:
    assert normalize(DECOMPOSED) == COMPOSED
    assert normalize("и\u0306") == "й"  # the Kazakh and Russian short i, typed in two parts
    assert normalize("a\r\nb\rc\u2028d\u2029e\nf") == "a\nb\nc\nd\ne\nf"
    kazakh = "Тендер № 42\tӘ, Ғ, Қ, Ң, Ө, Ұ, Ү, Һ, І"  # precomposed letters stay as they are
    assert normalize(kazakh) == kazakh


@pytest.mark.parametrize(
    ("char", "code_point"),
    [
        *[(chr(c), f"U+{c:04X}") for c in range(0x202A, 0x202F)],  # embeddings, overrides
        *[(chr(c), f"U+{c:04X}") for c in range(0x2066, 0x206A)],  # isolates
        ("\u200e", "U+200E"),  # LEFT-TO-RIGHT MARK
        ("\u200f", "U+200F"),  # RIGHT-TO-LEFT MARK
        ("\u061c", "U+061C"),  # ARABIC LETTER MARK
        ("\u200b", "U+200B"),  # ZERO WIDTH SPACE
        ("\u200c", "U+200C"),  # ZERO WIDTH NON-JOINER: not needed in kk, ru or en
        ("\u200d", "U+200D"),  # ZERO WIDTH JOINER: idem
        ("\u2060", "U+2060"),  # WORD JOINER
        ("\ufeff", "U+FEFF"),  # BOM
        ("\u00ad", "U+00AD"),  # SOFT HYPHEN
        ("\U000e0041", "U+E0041"),  # TAG LATIN CAPITAL LETTER A
        ("\x00", "U+0000"),
        ("\x07", "U+0007"),
        ("\x1b", "U+001B"),  # ESCAPE
        ("\x0b", "U+000B"),  # LINE TABULATION: not a line ending we keep
        ("\x7f", "U+007F"),  # DELETE
        ("\x85", "U+0085"),  # NEXT LINE (C1)
        ("\x9b", "U+009B"),  # CONTROL SEQUENCE INTRODUCER (C1)
    ],
)
def test_every_format_and_control_character_is_refused_by_name(char: str, code_point: str) -> None:
    value = f"My brother{char} bids."
    assert format_controls(value) == [code_point]
    for multiline in (True, False):
        with pytest.raises(ValidationError) as refused:
            clean_text(value, multiline=multiline)
        assert refusal(code_point) in refused.value.messages


def test_the_message_names_each_character_once_in_the_order_it_appears() -> None:
    value = f"{ZWSP}a{RLO}b{ZWSP}c{BOM}"
    assert format_controls(value) == ["U+200B", "U+202E", "U+FEFF"]
    with pytest.raises(ValidationError) as refused:
        clean_text(value, multiline=True)
    assert refused.value.messages == [refusal("U+200B", "U+202E", "U+FEFF")]
    # a text full of tag characters names ten of them, then an ellipsis
    with pytest.raises(ValidationError) as refused:
        clean_text("".join(chr(0xE0041 + i) for i in range(26)), multiline=True)
    (message,) = refused.value.messages
    assert "U+E004A, …)" in message and "U+E004B" not in message


def test_a_multi_line_field_keeps_tabs_and_lines_and_a_one_line_field_refuses_them() -> None:
    assert clean_text("Line one\r\n\tLine two", multiline=True) == "Line one\n\tLine two"
    for value in ("Order\n7", "Order\r7", "Order\t7", "Order\u20287"):
        with pytest.raises(ValidationError) as refused:
            clean_text(value, multiline=False)
        assert refused.value.messages == [ONE_LINE]
    with pytest.raises(ValidationError) as refused:
        clean_text(f"Order{RLO}\n7", multiline=False)
    assert refused.value.messages == [refusal("U+202E"), ONE_LINE]
    assert clean_text(DECOMPOSED, multiline=False) == COMPOSED


def test_the_validator_behind_the_doors_refuses_without_normalising() -> None:
    validate_visible_text(DECOMPOSED + "\r\n\tline")  # NFC or not, lines and tabs: all visible
    with pytest.raises(ValidationError) as refused:
        validate_visible_text(f"Tender{RLO} 42")
    assert refused.value.messages == [refusal("U+202E")]


def test_visible_marks_every_hidden_character_and_keeps_the_rest() -> None:
    stored = f"Tender{RLO} 24{ZWSP}\r\nline\tend{BELL}{BOM}"
    assert visible(stored) == "Tender⟦U+202E⟧ 24⟦U+200B⟧\nline\tend⟦U+0007⟧⟦U+FEFF⟧"
    assert visible("Ёлена: ағам\nқатысады") == "Ёлена: ағам\nқатысады"


@given(st.text())
def test_visible_text_hides_nothing_and_changes_no_clean_text(value: str) -> None:
    shown = visible(value)
    assert format_controls(shown) == []
    if not format_controls(value) and "\r" not in value:
        assert shown == value


# ---- the API --------------------------------------------------------------------------------


def _notice(**kw: Any) -> dict[str, Any]:
    return {
        "conflict_type": ConflictType.ACTUAL,
        "category": Category.KINSHIP,
        "matter": "Tender 42 for school meals",
        "personal_interest": "My brother's firm bids.",
        "related_persons": "A. Brother",
        "aware_since": str(timezone.localdate() - timedelta(days=2)),
        **kw,
    }


@pytest.mark.parametrize(("char", "code_point"), HOSTILE.items())
def test_api_a_notice_with_a_hidden_character_is_refused_and_nothing_is_written(
    org: Org, char: str, code_point: str
) -> None:
    events = AuditEvent.objects.count()
    response = client_for(org.servant).post(
        f"{BASE}/declarations/",
        _notice(personal_interest=f"My brother{char}'s firm bids."),
        format="json",
    )
    assert ok(response, 400)["fields"] == {"personal_interest": [refusal(code_point)]}
    assert not Declaration.objects.exists()
    assert AuditEvent.objects.count() == events


def _translated(language: str, characters: str) -> str:
    """The refusal as the catalogue of ``language`` words it (never the English fallback)."""
    from django.utils import translation

    msgid = (
        "The text contains invisible control characters (%(characters)s) that can change how "
        "it reads; remove them."
    )
    with translation.override(language):
        text = translation.gettext(msgid)
    assert text != msgid, f"no {language} translation"
    return text % {"characters": characters}


@pytest.mark.parametrize("language", ["ru", "kk"])
def test_api_the_refusal_is_at_its_field_in_russian_and_kazakh(org: Org, language: str) -> None:
    client = client_for(org.servant, HTTP_ACCEPT_LANGUAGE=language)
    response = client.post(
        f"{BASE}/declarations/", _notice(matter=f"Tender{RLO} 42"), format="json"
    )
    body = ok(response, 400)
    assert list(body["fields"]) == ["matter"]
    (message,) = body["fields"]["matter"]
    assert message == _translated(language, "U+202E")
    assert response["Content-Language"] == language
    assert not Declaration.objects.exists()


def test_api_a_notice_is_stored_in_nfc_with_line_feeds(org: Org) -> None:
    body = ok(
        client_for(org.servant).post(
            f"{BASE}/declarations/",
            _notice(related_persons=f"{DECOMPOSED}\r\nsister", matter="Tender 4\u0308"),
            format="json",
        ),
        201,
    )
    declaration = Declaration.objects.get(code=body["id"])
    assert declaration.related_persons == f"{COMPOSED}\nsister" == body["related_persons"]
    assert declaration.matter == "Tender 4\u0308"  # nothing composes with a digit: kept as is


def test_api_a_draft_keeps_its_text_when_a_change_is_refused(org: Org) -> None:
    draft = new_draft(org)
    before = (draft.matter, draft.personal_interest, draft.related_persons, draft.updated_at)
    response = act(
        client_for(org.servant).patch,
        declaration_url(draft),
        {"matter": "Tender 43", "related_persons": f"{BOM}Sister"},
        format="json",
    )
    assert ok(response, 400)["fields"] == {"related_persons": [refusal("U+FEFF")]}
    draft.refresh_from_db()
    assert (draft.matter, draft.personal_interest, draft.related_persons, draft.updated_at) == (
        before
    )


def test_api_other_source_description_is_checked(org: Org) -> None:
    response = client_for(org.ethics).post(
        f"{BASE}/declarations/",
        _notice(
            origin="other_source",
            declarant=str(org.servants["servant"].code),
            source_description=f"A letter{ZWSP}",
        ),
        format="json",
    )
    assert ok(response, 400)["fields"] == {"source_description": [refusal("U+200B")]}
    assert not Declaration.objects.exists()


@pytest.mark.parametrize(
    ("who", "state", "action", "payload", "field"),
    [
        ("servant", S.SUBMITTED, "comments", {"text": f"See{RLO} 42"}, "text"),
        ("servant", S.SUBMITTED, "addenda", {"text": f"See{RLO} 42"}, "text"),
        ("servant", S.SUBMITTED, "withdraw", {"reason": f"Twice{RLO}"}, "reason"),
        ("manager", S.IN_REVIEW, "no-conflict", {"reason": f"None{RLO}"}, "reason"),
    ],
)
def test_api_a_step_with_a_hidden_character_changes_nothing(
    org: Org, who: str, state: str, action: str, payload: dict[str, str], field: str
) -> None:
    declaration = declaration_in(org, state)
    events = AuditEvent.objects.count()
    response = client_for(org.users[who]).post(
        declaration_url(declaration, action), payload, format="json"
    )
    assert ok(response, 400)["fields"] == {field: [refusal("U+202E")]}
    declaration.refresh_from_db()
    assert declaration.state == state
    assert AuditEvent.objects.count() == events


def test_api_a_reassignment_reason_is_checked(org: Org) -> None:
    declaration = declaration_in(org, S.IN_REVIEW)
    response = act(
        client_for(org.head).post,
        declaration_url(declaration, "reassign-reviewer"),
        {"reviewer": str(org.servants["head"].code), "reason": f"Away{BELL}"},
        format="json",
    )
    assert ok(response, 400)["fields"] == {"reason": [refusal("U+0007")]}
    declaration.refresh_from_db()
    assert declaration.reviewer == org.manager


def test_api_a_decision_names_the_measure_whose_text_is_refused(org: Org) -> None:
    declaration = declaration_in(org, S.IN_REVIEW)
    events = AuditEvent.objects.count()
    response = act(
        client_for(org.manager).post,
        declaration_url(declaration, "decide"),
        {
            "reason": "Divest",
            "measures": [
                {"kind": "other", "description": "Sell the shares"},
                {"kind": "other", "description": f"Sell{ZWSP} the car"},
            ],
        },
        format="json",
    )
    measures = ok(response, 400)["fields"]["measures"]
    # DRF keys a list's errors by index ({"1": ...}); errors.py's _nest gives a list: either way
    assert measures in (
        {"1": {"description": [refusal("U+200B")]}},
        [{}, {"description": [refusal("U+200B")]}],
    )
    declaration.refresh_from_db()
    assert declaration.state == S.IN_REVIEW and not declaration.measures.exists()
    assert AuditEvent.objects.count() == events


def test_api_an_answer_to_a_transfer_is_checked(org: Org) -> None:
    measure = pending_measure(declaration_in(org, S.AWAITING_CONSENT))
    response = act(
        client_for(org.servant).post,
        measure_url(measure, "consent"),
        {"decision": "decline", "reason": f"{RLO}ylimaF"},
        format="json",
    )
    assert ok(response, 400)["fields"] == {"reason": [refusal("U+202E")]}
    measure.refresh_from_db()
    assert measure.state == "pending_consent" and measure.answer_reason == ""


@pytest.mark.parametrize(
    ("number", "message"), [(f"7{ZWSP}", refusal("U+200B")), ("7\n8", ONE_LINE)]
)
def test_api_an_order_number_is_one_line_of_visible_text(
    org: Org, number: str, message: str
) -> None:
    measure = pending_measure(declaration_in(org, S.IMPLEMENTING))
    response = act(
        client_for(org.hr).post,
        measure_url(measure, "implement"),
        {"order_number": number, "order_date": str(timezone.localdate())},
        format="json",
    )
    assert ok(response, 400)["fields"] == {"order_number": [message]}
    measure.refresh_from_db()
    assert measure.state == "pending_order" and measure.order_number == ""


def test_api_credentials_are_compared_as_typed(org: Org) -> None:
    """A user name or a password is never normalised or refused here: it reaches no record,
    and a password changed on the way would not be the one that was set."""
    response = client_for(None).post(
        f"{BASE}/auth/token/",
        {"username": org.servant.username, "password": f"wrong{RLO}"},
        format="json",
    )
    assert response.status_code in (400, 401)
    assert "U+202E" not in response.content.decode()


# ---- the pages ------------------------------------------------------------------------------


def _page_notice(**kw: Any) -> dict[str, Any]:
    return {**_notice(addressee="manager"), **kw}


@pytest.mark.parametrize(("char", "code_point"), HOSTILE.items())
def test_page_a_notice_with_a_hidden_character_is_refused_and_nothing_is_written(
    org: Org, char: str, code_point: str
) -> None:
    response = client_as(org.servant).post(
        reverse("declarations:declare"), _page_notice(matter=f"Tender{char} 42")
    )
    assert response.status_code == 400
    assert field_errors(response) == {"matter": [refusal(code_point)]}
    assert not Declaration.objects.exists()


@pytest.mark.parametrize("language", ["ru", "kk"])
def test_page_the_refusal_is_at_its_field_in_russian_and_kazakh(org: Org, language: str) -> None:
    response = client_as(org.servant, language).post(
        reverse("declarations:declare"), _page_notice(personal_interest=f"Ағам{RLO} қатысады")
    )
    assert response.status_code == 400
    assert response["Content-Language"] == language
    errors = field_errors(response)
    assert list(errors) == ["personal_interest"]
    assert errors["personal_interest"][0] == _translated(language, "U+202E")
    assert not Declaration.objects.exists()


def test_page_a_notice_is_stored_in_nfc_with_line_feeds(org: Org) -> None:
    response = client_as(org.servant).post(
        reverse("declarations:declare"),
        _page_notice(personal_interest=f"{DECOMPOSED}\r\nбауырым"),
    )
    assert response.status_code == 302
    declaration = Declaration.objects.get()
    assert declaration.personal_interest == f"{COMPOSED}\nбауырым"


def test_page_a_comment_with_a_hidden_character_changes_nothing(org: Org) -> None:
    declaration = declaration_in(org, S.SUBMITTED)
    events = AuditEvent.objects.count()
    response = client_as(org.servant).post(
        reverse("declarations:comment", args=[declaration.code]), {"text": f"{BOM}See 42"}
    )
    assert response.status_code == 400
    assert field_errors(response, "comment_form") == {"text": [refusal("U+FEFF")]}
    assert AuditEvent.objects.count() == events


def test_page_an_order_number_is_one_line(org: Org) -> None:
    measure = pending_measure(declaration_in(org, S.IMPLEMENTING))
    response = client_as(org.hr).post(
        reverse("declarations:implement", args=[measure.code]),
        {"order_number": "7\r\n8", "order_date": str(timezone.localdate())},
    )
    assert response.status_code == 400
    assert field_errors(response) == {"order_number": [ONE_LINE]}
    measure.refresh_from_db()
    assert measure.order_number == ""


# ---- every text field of every door ---------------------------------------------------------


#: fields left as typed, each for a reason: credentials are compared as typed and reach no
#: record; ``next`` is a path on this site, checked by the view
VERBATIM = {
    "TokenInput.username",
    "TokenInput.password",
    "LoginForm.username",
    "LoginForm.password",
    "LanguageForm.next",
}


def _modules(package: Any) -> Iterator[Any]:
    yield package
    for info in pkgutil.walk_packages(package.__path__, f"{package.__name__}."):
        yield importlib.import_module(info.name)


def _classes(package: Any, base: type) -> dict[str, type]:
    """Every subclass of ``base`` defined in ``package``'s modules, by name."""
    return {
        name: value
        for module in _modules(package)
        for name, value in vars(module).items()
        if isinstance(value, type)
        and issubclass(value, base)
        and value.__module__.startswith(package.__name__)
    }


def _api_text_fields(name: str, field: Any) -> Iterator[tuple[str, Any]]:
    if getattr(field, "read_only", False):
        return
    if isinstance(field, serializers.ListSerializer | serializers.ListField):
        yield from _api_text_fields(f"{name}.child", field.child)
    elif isinstance(field, serializers.Serializer):
        for child_name, child in field.fields.items():
            yield from _api_text_fields(f"{name}.{child_name}", child)
    elif isinstance(field, serializers.DictField | serializers.HStoreField):
        yield from _api_text_fields(f"{name}.child", field.child)
    elif isinstance(field, serializers.CharField):
        yield name, field


def api_text_fields() -> dict[str, Any]:
    """Every writable text field of every input serializer (``*Input`` or strict), nested
    ones included, as ``"DecideInput.measures.child.description"``."""
    inputs = {
        name: cls
        for name, cls in _classes(api_serializers, serializers.Serializer).items()
        if name.endswith("Input") or issubclass(cls, api_serializers.StrictSerializer)
    }
    return {
        path: field for name, cls in inputs.items() for path, field in _api_text_fields(name, cls())
    }


def page_text_fields() -> dict[str, forms.CharField]:
    """Every text field of every form of the pages, as ``"NoticeForm.matter"``."""
    return {
        f"{name}.{field_name}": field
        for name, cls in _classes(web_package, forms.BaseForm).items()
        for field_name, field in cls.base_fields.items()  # type: ignore[attr-defined]
        if isinstance(field, forms.CharField)
    }


def test_every_text_input_of_the_api_is_normalised_and_checked() -> None:
    fields = api_text_fields()
    # the walk finds what it must (a broken walk would pass everything below)
    assert {
        "NoticeFieldsInput.personal_interest",
        "DeclarationCreateInput.source_description",
        "DecideInput.measures.child.description",
        "DecideInput.measures.child.matter",
        "ReassignReviewerInput.reason",
        "ConsentInput.reason",
        "ImplementInput.order_number",
        "TextInput.text",
        "ExportInput.body.child",
        "TokenInput.password",
    } <= set(fields)
    for path, field in fields.items():
        assert isinstance(field, StrictCharField), f"{path}: use StrictCharField"
        if path in VERBATIM:
            assert field.verbatim, path
            continue
        assert not field.verbatim, f"{path}: verbatim is for credentials only"
        with pytest.raises(serializers.ValidationError) as refused:
            field.run_validation(f"a{RLO}b")
        assert refusal("U+202E") in str(refused.value.detail), path
        assert field.run_validation(DECOMPOSED) == COMPOSED, path


def test_every_text_field_of_the_pages_is_normalised_and_checked() -> None:
    fields = page_text_fields()
    assert {
        "NoticeForm.matter",
        "OtherSourceForm.source_description",
        "MeasureForm.description",
        "AddendumForm.text",
        "ImplementForm.order_number",
        "DeclarationFilterForm.q",
        "LoginForm.password",
    } <= set(fields)
    for path, field in fields.items():
        if path in VERBATIM:
            assert not isinstance(field, TextField), path
            continue
        assert isinstance(field, TextField), f"{path}: use forms.TextField"
        with pytest.raises(ValidationError) as refused:
            field.clean(f"a{RLO}b")
        assert refused.value.messages == [refusal("U+202E")], path
        assert field.clean(DECOMPOSED) == COMPOSED, path
