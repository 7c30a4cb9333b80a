"""Helpers for the record tests: task backends, issuing, reading PDFs."""

from __future__ import annotations

import io
from typing import Any

import pypdf
from django.test import override_settings

from declarations.choices import RecordStatus
from declarations.models import Declaration, Record
from declarations.records.issuing import record_issue

QUEUES = ["default", "records", "exports"]
IMMEDIATE = override_settings(
    TASKS={
        "default": {"BACKEND": "django_tasks.backends.immediate.ImmediateBackend", "QUEUES": QUEUES}
    }
)
DATABASE = override_settings(
    TASKS={"default": {"BACKEND": "django_tasks_db.DatabaseBackend", "QUEUES": QUEUES}}
)


def issue_all(declaration: Declaration | None = None) -> list[Record]:
    """Issue every pending record (of ``declaration``) as a worker would, and return them issued."""
    pending = Record.objects.filter(status=RecordStatus.PENDING)
    if declaration is not None:
        pending = pending.filter(declaration=declaration)
    ids = list(pending.order_by("pk").values_list("pk", flat=True))
    for pk in ids:
        record_issue(record_id=pk)
    return list(Record.objects.filter(pk__in=ids).order_by("pk"))


def pdf_of(record: Record) -> bytes:
    record.refresh_from_db()
    with record.file.open("rb") as f:
        return f.read()


def text_of(data: bytes) -> str:
    return "\n".join(page.extract_text() or "" for page in pypdf.PdfReader(io.BytesIO(data)).pages)


def page_texts(data: bytes) -> list[str]:
    return [page.extract_text() or "" for page in pypdf.PdfReader(io.BytesIO(data)).pages]


def flat(text: str) -> str:
    """Text with line breaks and hyphenation gaps removed, for matching across lines."""
    return " ".join(text.split())


def records_of(declaration: Declaration, **kw: Any) -> list[Record]:
    return list(Record.objects.filter(declaration=declaration, **kw).order_by("pk"))
