"""Bulk export of dossiers (issue 4): scope, filters, ZIP with register and SHA-256 manifest."""

from __future__ import annotations

import csv
import hashlib
import io
import re
import zipfile
from datetime import timedelta
from pathlib import Path

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.management import call_command

from declarations.choices import ExportStatus, RecordKind, RecordStatus
from declarations.models import ExportJob, Record
from declarations.records.exports import ExportFilters, export_create, export_progress
from declarations.records.register import REGISTER_COLUMNS
from declarations.records.verification import verify_pdf
from tests.builders import Org, build_org, declaration_in
from tests.records import IMMEDIATE


def _zip(job: ExportJob) -> zipfile.ZipFile:
    with job.file.open("rb") as f:
        return zipfile.ZipFile(io.BytesIO(f.read()))


def _register(archive: zipfile.ZipFile) -> tuple[list[str], list[dict[str, str]]]:
    """register.csv's header line, and its rows keyed by the fixed column keys."""
    lines = list(csv.reader(io.StringIO(archive.read("register.csv").decode("utf-8-sig"))))
    keys = [key for key, _header in REGISTER_COLUMNS]
    return lines[0], [dict(zip(keys, line, strict=True)) for line in lines[1:]]


def test_an_export_renders_every_dossier_and_packs_register_and_manifest(
    org: Org, django_capture_on_commit_callbacks, settings
) -> None:
    settings.COI_EXPORT_CHUNK = 2
    declarations = [
        declaration_in(org, s) for s in ("submitted", "in_review", "resolved", "withdrawn")
    ]
    declaration_in(org, "draft")  # never exported
    other = build_org()
    declaration_in(other, "submitted")  # another body: outside the auditor's scope
    with IMMEDIATE, django_capture_on_commit_callbacks(execute=True):
        job = export_create(actor=org.auditor, filters=ExportFilters(bodies=[]), language="ru")
    job.refresh_from_db()
    assert (job.status, job.total, job.done) == (ExportStatus.DONE, 4, 4)
    archive = _zip(job)
    names = archive.namelist()
    dossiers = [n for n in names if n.startswith("dossiers/")]
    assert len(dossiers) == 4 and "register.csv" in names and "SHA256SUMS" in names
    sums: dict[str, str] = dict(
        reversed(line.split("  ", 1)) for line in archive.read("SHA256SUMS").decode().splitlines()
    )
    assert set(sums) == {*dossiers, "register.csv"}
    for name, digest in sums.items():
        assert hashlib.sha256(archive.read(name)).hexdigest() == digest
    header, register = _register(archive)
    assert header[0] == "Регистрационный номер"  # the auditor's language (issue 14)
    assert {r["registration_number"] for r in register} == {
        c.registration_number for c in declarations
    }
    for row in register:
        assert verify_pdf(archive.read(row["dossier_file"])).valid
    with job.file.open("rb") as f:
        assert hashlib.sha256(f.read()).hexdigest() == job.sha256
    assert Record.objects.filter(export=job, kind=RecordKind.DOSSIER).count() == 4


def test_filters_select_the_cases(org: Org, django_capture_on_commit_callbacks) -> None:
    declaration_in(org, "submitted")
    resolved = declaration_in(org, "resolved")
    with IMMEDIATE, django_capture_on_commit_callbacks(execute=True):
        job = export_create(
            actor=org.auditor,
            filters=ExportFilters(bodies=[org.body.slug], states=("resolved",)),
            language="kk",
        )
    job.refresh_from_db()
    assert job.total == 1
    _header, (row,) = _register(_zip(job))
    assert row["registration_number"] == resolved.registration_number


def test_only_an_auditor_exports_and_only_their_bodies(org: Org) -> None:
    other = build_org()
    with pytest.raises(PermissionDenied):
        export_create(actor=org.head, filters=ExportFilters(bodies=[]), language="ru")
    with pytest.raises(ValidationError) as error:
        export_create(
            actor=org.auditor,
            filters=ExportFilters(bodies=[other.body.slug], states=("draft",)),
            language="de",
        )
    assert set(error.value.message_dict) == {"body", "state", "language"}
    assert not ExportJob.objects.exists()


def test_progress_is_visible_while_it_runs(org: Org) -> None:
    for state in ("submitted", "in_review", "resolved"):
        declaration_in(org, state)
    job = export_create(
        actor=org.auditor, filters=ExportFilters(bodies=[]), language="en", start=False
    )
    from declarations.records.exports import export_plan, export_render_chunk

    chunks = export_plan(export_id=job.pk)
    job.refresh_from_db()
    assert (job.status, job.total, job.done) == (ExportStatus.RUNNING, 3, 0)
    export_render_chunk(export_id=job.pk, record_ids=[chunks[0][0]])
    job.refresh_from_db()
    assert (job.status, job.done) == (ExportStatus.RUNNING, 1)
    rest = [pk for chunk in chunks for pk in chunk][1:]
    export_render_chunk(export_id=job.pk, record_ids=rest)
    job.refresh_from_db()
    assert (job.status, job.done) == (ExportStatus.DONE, 3)
    assert export_progress(export_id=job.pk).status == ExportStatus.DONE  # idempotent


def test_a_dossier_that_gives_up_fails_the_export(org: Org, monkeypatch, settings) -> None:
    settings.COI_RECORD_MAX_ATTEMPTS = 1
    declaration_in(org, "submitted")
    from declarations.records import exports
    from declarations.records import issuing as records

    job = export_create(
        actor=org.auditor, filters=ExportFilters(bodies=[]), language="en", start=False
    )
    (chunk,) = exports.export_plan(export_id=job.pk)
    monkeypatch.setattr(records, "record_produce", lambda r: 1 / 0)
    with pytest.raises(ZeroDivisionError):
        exports.export_render_chunk(export_id=job.pk, record_ids=chunk)
    job.refresh_from_db()
    assert job.status == ExportStatus.FAILED and job.error
    assert Record.objects.get(pk=chunk[0]).status == RecordStatus.FAILED


def test_export_dossiers_command(org: Org, tmp_path: Path) -> None:
    declaration_in(org, "resolved")
    declaration_in(org, "no_conflict")
    out = tmp_path / "export.zip"
    stdout = io.StringIO()
    call_command(
        "export_dossiers",
        "--auditor",
        org.auditor.username,
        "--workers",
        "1",
        "--language",
        "kk-ru",
        "--output",
        str(out),
        stdout=stdout,
    )
    assert "2/2" in stdout.getvalue()
    names = zipfile.ZipFile(out).namelist()
    assert len([n for n in names if n.startswith("dossiers/")]) == 2


def test_planning_costs_the_same_queries_for_few_cases_and_many(org: Org) -> None:
    """Each dossier is made for its auditor (what they may read of the declaration), with their
    grants read once: no query per declaration."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from declarations.records.exports import export_plan

    def plan_queries() -> int:
        job = export_create(
            actor=org.auditor, filters=ExportFilters(bodies=[]), language="en", start=False
        )
        with CaptureQueriesContext(connection) as queries:
            export_plan(export_id=job.pk)
        return len(queries)

    declaration_in(org, "submitted")
    declaration_in(org, "resolved")
    few = plan_queries()
    for state in ("submitted", "in_review", "resolved", "withdrawn", "no_conflict", "submitted"):
        declaration_in(org, state)
    assert plan_queries() == few


def test_the_register_speaks_the_auditors_language_and_says_who_missed_what(
    org: Org, django_capture_on_commit_callbacks
) -> None:  # type: ignore[no-untyped-def]
    """Issue 14: headers and words in the auditor's language, with the category, the measures,
    the outcome, and each missed deadline with whom it is charged to (the stored clocks)."""
    import time_machine
    from django.utils import timezone

    resolved = declaration_in(org, "resolved")
    with time_machine.travel(timezone.now() - timedelta(days=30)):
        late = declaration_in(org, "submitted", who="servant2")  # a month unreviewed
    with IMMEDIATE, django_capture_on_commit_callbacks(execute=True):
        job = export_create(actor=org.auditor, filters=ExportFilters(bodies=[]), language="kk")
    job.refresh_from_db()
    assert job.status == ExportStatus.DONE, job.error_detail
    header, rows = _register(_zip(job))
    assert header[:3] == ["Тіркеу нөмірі", "Іс идентификаторы", "Мемлекеттік орган"]
    by_number = {row["registration_number"]: row for row in rows}
    done = by_number[str(resolved.registration_number)]
    waiting = by_number[str(late.registration_number)]
    assert done["category"] == "Туыстық"
    assert done["state"] and not re.search(r"[A-Za-z]{3}", done["state"] + done["measures"])
    assert done["outcome"] and done["missed_by"] == ""
    manager = org.servants["manager"].full_name
    assert waiting["missed_by"].count(manager) == 2  # start the review, and decide
    assert waiting["outcome"] == "—"
