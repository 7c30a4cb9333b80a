"""Every string of the templates and the code is translated in kk and ru, none fuzzy.

``makemessages`` extracts the strings afresh into a copy of the catalogues; the test fails on a
string that is new (untranslated) or fuzzy there, so a page can never show English in Kazakh or
Russian because someone forgot the catalogue.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import polib  # type: ignore[import-untyped]
import pytest

ROOT = Path(__file__).resolve().parent.parent

pytestmark = pytest.mark.skipif(shutil.which("xgettext") is None, reason="needs gettext")


def test_no_missing_or_fuzzy_translation(tmp_path: Path) -> None:
    work = tmp_path / "project"
    shutil.copytree(
        ROOT,
        work,
        ignore=shutil.ignore_patterns(".venv", "var", ".git", "node_modules", "*.mo", "docs"),
    )
    subprocess.run(
        [
            sys.executable,
            "manage.py",
            "makemessages",
            "-l",
            "kk",
            "-l",
            "ru",
            "-v",
            "0",
            "--ignore",
            "tests/*",
            "--ignore",
            "bench/*",
        ],
        cwd=work,
        check=True,
        env={"DJANGO_SETTINGS_MODULE": "tests.settings", "PATH": "/usr/bin:/bin"},
    )
    problems = []
    for lang in ("kk", "ru"):
        po = polib.pofile(str(work / "locale" / lang / "LC_MESSAGES" / "django.po"))
        problems += [f"{lang} untranslated: {e.msgid!r}" for e in po.untranslated_entries()]
        problems += [f"{lang} fuzzy: {e.msgid!r}" for e in po.fuzzy_entries()]
    assert problems == [], "\n".join(problems)


@pytest.mark.parametrize("language", ["kk", "ru"])
def test_every_django_message_our_forms_can_show_is_translated(language: str) -> None:
    """Django's own Kazakh catalogue lacks some of its form messages; ours fills them in
    (``coi/formats/kk/messages.py``). Every error message of every field class and validator
    our web forms use, and the pager's, must read differently from the English."""
    from django import forms
    from django.core import paginator, validators
    from django.utils import translation

    from declarations.web import forms as web_forms

    messages: set[Any] = set()
    for name in dir(web_forms):
        form = getattr(web_forms, name)
        if not (isinstance(form, type) and issubclass(form, forms.Form)):
            continue
        for field in form.base_fields.values():
            for klass in type(field).__mro__:
                messages.update(getattr(klass, "default_error_messages", {}).values())
    messages.update(
        v.message
        for v in (
            validators.MaxLengthValidator,
            validators.ProhibitNullCharactersValidator,
            validators.MaxValueValidator,
        )
    )
    messages.update(paginator.Paginator.default_error_messages.values())
    left = []
    for message in messages:
        with translation.override("en"):
            english = str(message)
        with translation.override(language):
            translated = str(message)
        if english and translated == english:
            left.append(english)
    assert len(messages) >= 12
    assert left == []


def test_kazakh_dates_and_numbers_are_written_the_kazakh_way() -> None:
    """Django ships no Kazakh formats (``coi/formats/kk`` does) and capitalises the month inside
    a Kazakh date (our catalogue does not)."""
    from datetime import UTC, date, datetime

    from django import forms
    from django.utils import formats, translation

    day = date(2026, 11, 23)
    with translation.override("kk"):
        assert formats.date_format(day, "DATE_FORMAT") == "2026 жылғы 23 қараша"
        assert formats.date_format(day, "SHORT_DATE_FORMAT") == "23.11.2026"
        assert (
            formats.date_format(datetime(2026, 11, 23, 14, 30, tzinfo=UTC), "SHORT_DATETIME_FORMAT")
            == "23.11.2026 14:30"
        )
        assert formats.number_format(1234.5, decimal_pos=1, force_grouping=True) == "1\xa0234,5"
        assert formats.get_format("FIRST_DAY_OF_WEEK") == 1
        assert forms.DateField().clean("23.11.2026") == day  # typed the way it is written
    with translation.override("ru"):
        assert formats.date_format(day, "DATE_FORMAT") == "23 ноября 2026 г."
