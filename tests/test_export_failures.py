"""Background jobs that fail loudly (issue 12): whatever goes wrong in planning, rendering or
packing an export marks the job failed with a reason the auditor reads in their language, and
the sweep fails jobs that stalled; nothing stays queued for ever."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
import time_machine
from django.core.management import call_command
from django.urls import reverse
from django.utils import timezone

from declarations.choices import ExportFailure, ExportStatus, RecordStatus
from declarations.models import ExportJob, Record
from declarations.records import exports as export_services
from declarations.records.exports import ExportFilters, export_create, export_plan
from tests.api import BASE, client_for, ok
from tests.builders import Org, declaration_in
from tests.records import IMMEDIATE
from tests.web import client_as, text

pytestmark = pytest.mark.django_db


def _broken(*args: Any, **kwargs: Any) -> Any:
    raise OverflowError("date value out of range")


def test_an_export_whose_planning_fails_ends_failed_with_its_reason_in_the_api_and_the_page(
    org: Org, monkeypatch: pytest.MonkeyPatch, django_capture_on_commit_callbacks: Any
) -> None:
    declaration_in(org, "submitted")
    monkeypatch.setattr(export_services, "export_declarations", _broken)
    api = client_for(org.auditor, HTTP_ACCEPT_LANGUAGE="ru")
    with IMMEDIATE, django_capture_on_commit_callbacks(execute=True):
        started = ok(api.post(f"{BASE}/exports/", {"language": "en"}, format="json"), 202)
    job = ExportJob.objects.get(code=started["id"])
    assert (job.status, job.failure) == (ExportStatus.FAILED, ExportFailure.PLANNING)
    assert "OverflowError" in job.error and job.finished_at is not None
    seen = ok(api.get(f"{BASE}/exports/{job.code}/"))
    assert seen["status"] == "failed" and seen["failure"] == "planning"
    assert seen["error"] == "Не удалось отобрать дела для выгрузки."
    assert "OverflowError" not in str(seen)  # the detail is the operators', in the admin
    assert api.get(f"{BASE}/exports/{job.code}/download/").status_code == 409
    page = client_as(org.auditor, "kk").get(reverse("declarations:export", args=[job.code]))
    assert page.status_code == 200
    assert 'id="export-failure"' in page.content.decode()
    assert "refresh" not in page.content.decode()  # a failed job is not watched for ever
    assert "Экспортқа істер іріктелмеді." in text(page)


def test_an_export_started_from_the_page_whose_planning_fails_says_so(
    org: Org, monkeypatch: pytest.MonkeyPatch, django_capture_on_commit_callbacks: Any
) -> None:
    declaration_in(org, "submitted")
    monkeypatch.setattr(export_services, "export_declarations", _broken)
    client = client_as(org.auditor)
    with IMMEDIATE, django_capture_on_commit_callbacks(execute=True):
        response = client.post(reverse("declarations:exports"), {"language": "en"})
    assert response.status_code == 302
    page = client.get(response.url)
    assert "The cases of the export could not be selected." in text(page)


def test_a_job_whose_packing_fails_ends_failed(
    org: Org, monkeypatch: pytest.MonkeyPatch, django_capture_on_commit_callbacks: Any
) -> None:
    declaration_in(org, "submitted")
    monkeypatch.setattr(export_services, "_pack", _broken)
    with IMMEDIATE, django_capture_on_commit_callbacks(execute=True):
        job = export_create(actor=org.auditor, filters=ExportFilters(bodies=[]), language="en")
    job.refresh_from_db()
    assert (job.status, job.failure) == (ExportStatus.FAILED, ExportFailure.PACKING)


def test_a_dossier_that_gives_up_fails_the_job_with_the_record_named(
    org: Org, settings: Any
) -> None:
    settings.COI_RECORD_MAX_ATTEMPTS = 1
    declaration_in(org, "submitted")
    job = export_create(
        actor=org.auditor, filters=ExportFilters(bodies=[]), language="en", start=False
    )
    (chunk,) = export_plan(export_id=job.pk)
    Record.objects.filter(pk__in=chunk).update(language="xx")  # cannot render
    with pytest.raises(ValueError):
        export_services.export_render_chunk(export_id=job.pk, record_ids=chunk)
    job.refresh_from_db()
    assert (job.status, job.failure) == (ExportStatus.FAILED, ExportFailure.DOSSIER)
    failed = Record.objects.get(pk=chunk[0])
    assert failed.status == RecordStatus.FAILED and str(failed.code) in job.error


def test_the_sweep_fails_jobs_left_queued_or_running_and_leaves_busy_ones(org: Org) -> None:
    declaration_in(org, "submitted")
    queued = export_create(
        actor=org.auditor, filters=ExportFilters(bodies=[]), language="en", start=False
    )
    running = export_create(
        actor=org.auditor, filters=ExportFilters(bodies=[]), language="en", start=False
    )
    export_plan(export_id=running.pk)
    later = timezone.now() + timedelta(minutes=31)
    with time_machine.travel(later - timedelta(minutes=2)):
        busy = export_create(
            actor=org.auditor, filters=ExportFilters(bodies=[]), language="en", start=False
        )
    assert export_services.exports_fail_stalled(now=later) == 2
    for job, status in ((queued, "failed"), (running, "failed"), (busy, "queued")):
        job.refresh_from_db()
        assert job.status == status
    queued.refresh_from_db()
    assert queued.failure == ExportFailure.STALLED and queued.finished_at is not None
    # the sweep is the `issue_records` command's, and safe to repeat
    call_command("issue_records")
    assert export_services.exports_fail_stalled(now=later) == 0


def test_a_job_still_waiting_in_the_queue_is_not_stalled(org: Org) -> None:
    declaration_in(org, "submitted")
    job = export_create(
        actor=org.auditor, filters=ExportFilters(bodies=[]), language="en", start=False
    )
    later = timezone.now() + timedelta(hours=3)
    assert export_services.exports_fail_stalled(now=later, waiting={job.pk}) == 0
    job.refresh_from_db()
    assert job.status == ExportStatus.QUEUED


def test_a_pack_that_ends_after_the_job_failed_does_not_revive_it(org: Org) -> None:
    declaration_in(org, "submitted")
    job = export_create(
        actor=org.auditor, filters=ExportFilters(bodies=[]), language="en", start=False
    )
    (chunk,) = export_plan(export_id=job.pk)
    export_services.export_render_chunk(export_id=job.pk, record_ids=chunk)
    job.refresh_from_db()
    assert job.status == ExportStatus.DONE
    # the same race, staged: the sweep fails a job whose pack is still writing
    ExportJob.objects.filter(pk=job.pk).update(status=ExportStatus.ASSEMBLING, failure="")
    packing = ExportJob.objects.get(pk=job.pk)
    export_services.export_fail(export_id=job.pk, failure=ExportFailure.STALLED)
    export_services._pack(packing)
    job.refresh_from_db()
    assert (job.status, job.failure) == (ExportStatus.FAILED, ExportFailure.STALLED)
    assert job.failure_reason.startswith("The export made no progress")
