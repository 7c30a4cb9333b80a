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
