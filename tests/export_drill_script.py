"""Steps of the export drill (tests/test_fault_drills.py), each in its own process against a
file database, with the database task queue.

python -m tests.export_drill_script setup N     -> N resolved cases, an export of them queued
python -m tests.export_drill_script slow-worker -> renders dossiers, hangs on the third
python -m tests.export_drill_script worker      -> drains the queue and exits
python -m tests.export_drill_script sweep MIN   -> the records sweep, MIN minutes from now
python -m tests.export_drill_script state       -> JSON: the job, its dossiers, the ZIP's entries
"""

from __future__ import annotations

import json
import os
import sys
import time
import zipfile
from datetime import timedelta
from pathlib import Path

import django

os.environ["DJANGO_SETTINGS_MODULE"] = "tests.worker_settings"
django.setup()

from django.core.files.storage import default_storage  # noqa: E402
from django.db import transaction  # noqa: E402
from django.utils import timezone  # noqa: E402

from declarations.models import ExportJob, Record  # noqa: E402
from declarations.records import issuing  # noqa: E402
from declarations.records.tasks import records_sweep  # noqa: E402
from tests.worker_script import worker  # noqa: E402


def main(step: str, *args: str) -> None:
    if step == "setup":
        from django.test import override_settings

        from declarations.records.exports import ExportFilters, export_create
        from tests.builders import build_org, declaration_in

        # the cases' own records are not the drill's subject: made without a worker
        with (
            override_settings(
                TASKS={"default": {"BACKEND": "django_tasks.backends.dummy.DummyBackend"}}
            ),
            transaction.atomic(),
        ):
            org = build_org()
            for _ in range(int(args[0])):
                declaration_in(org, "resolved")
        export_create(actor=org.auditor, filters=ExportFilters(bodies=[]), language="en")
    elif step == "slow-worker":
        marker = Path(os.environ["COI_RENDER_MARKER"])
        real = issuing.record_produce
        seen: list[int] = []

        def hang_on_the_third(record: Record) -> tuple[bytes, int]:
            seen.append(record.pk)
            if len(seen) == 3:
                marker.write_text(str(record.pk))
                time.sleep(600)
            return real(record)

        issuing.record_produce = hang_on_the_third
        worker("doomed").run()
    elif step == "worker":
        worker("healthy").run()
    elif step == "sweep":
        sweep = records_sweep(now=timezone.now() + timedelta(minutes=int(args[0])))
        sys.stdout.write(json.dumps({"reaped": sweep.reaped, "requeued": sweep.requeued}))
    elif step == "state":
        job = ExportJob.objects.get()
        dossiers = list(job.dossiers.values_list("declaration__code", "status"))
        entries: list[str] = []
        if job.file:
            with default_storage.open(job.file.name) as stored, zipfile.ZipFile(stored) as z:
                entries = z.namelist()
        sys.stdout.write(
            json.dumps(
                {
                    "status": job.status,
                    "total": job.total,
                    "dossiers": [[str(code), status] for code, status in dossiers],
                    "entries": entries,
                }
            )
        )


if __name__ == "__main__":
    main(*sys.argv[1:])
