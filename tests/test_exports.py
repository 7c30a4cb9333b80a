"""Bulk export of dossiers (issue 4): scope, filters, ZIP with register and SHA-256 manifest."""

from __future__ import annotations

import csv
import hashlib
import io
import zipfile
from pathlib import Path

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.management import call_command

from declarations.choices import ExportStatus, RecordKind, RecordStatus
from declarations.models import ExportJob, Record
from declarations.records.exports import ExportFilters, export_create, export_progress
from declarations.records.verification import verify_pdf
from tests.builders import Org, build_org, declaration_in
from tests.records import IMMEDIATE


def _zip(job: ExportJob) -> zipfile.ZipFile:
    with job.file.open("rb") as f:
        return zipfile.ZipFile(io.BytesIO(f.read()))


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
    register = list(csv.DictReader(io.StringIO(archive.read("register.csv").decode("utf-8-sig"))))
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
    (row,) = csv.DictReader(io.StringIO(_zip(job).read("register.csv").decode("utf-8-sig")))
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
