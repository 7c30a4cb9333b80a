"""Steps of the worker tests, each run in its own process against a file database (with the
database queue unless DJANGO_SETTINGS_MODULE says otherwise: tests.rq_worker_settings).

python -m tests.worker_script setup           -> prints the pending record's id
python -m tests.worker_script export N        -> N submitted declarations and an export of them:
                                                 prints the export's id
python -m tests.worker_script slow-worker     -> a worker whose render hangs (to be killed)
python -m tests.worker_script slow-run-worker -> `manage.py run_worker`, its render hanging
python -m tests.worker_script worker          -> a worker that drains the queue and exits
python -m tests.worker_script sweep MINUTES   -> the issue_records sweep, MINUTES from now
python -m tests.worker_script state           -> JSON: records and tasks
"""

from __future__ import annotations

import json
import os
import sys
import time
from datetime import timedelta
from pathlib import Path

import django

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "tests.worker_settings")
django.setup()

from django.core.management import call_command  # noqa: E402
from django.db import transaction  # noqa: E402
from django.utils import timezone  # noqa: E402
from django_tasks_db.management.commands.db_worker import Worker  # noqa: E402
from django_tasks_db.models import DBTaskResult  # noqa: E402

from declarations.models import Record  # noqa: E402
from declarations.records import issuing as record_services  # noqa: E402
from declarations.records.tasks import records_sweep  # noqa: E402


def worker(worker_id: str) -> Worker:
    return Worker(
        queue_names=["*"],
        interval=0.1,
        batch=True,
        backend_name="default",
        startup_delay=False,
        max_tasks=None,
        worker_id=worker_id,
        excluded_queue_names=[],
    )


def main(step: str, *args: str) -> None:
    if step == "setup":
        from declarations.services.transitions import declaration_submit
        from tests.builders import build_org, new_draft

        with transaction.atomic():
            org = build_org()
            declaration = new_draft(org)
        declaration_submit(
            declaration=declaration, actor=org.servant
        )  # commits: the task is queued
        sys.stdout.write(f"{Record.objects.get(declaration=declaration).pk}\n")
    elif step == "export":
        from declarations.records.exports import ExportFilters, export_create
        from tests.builders import build_org, declaration_in

        with transaction.atomic():
            org = build_org()
        for _ in range(int(args[0])):
            declaration_in(org, "submitted")
        job = export_create(actor=org.auditor, filters=ExportFilters(bodies=[]), language="en")
        sys.stdout.write(f"{job.pk}\n")
    elif step in ("slow-worker", "slow-run-worker"):
        marker = Path(os.environ["COI_RENDER_MARKER"])

        def hang(record: Record) -> tuple[bytes, int]:
            marker.write_text(str(record.pk))
            time.sleep(600)
            raise AssertionError("should have been killed")

        record_services.record_produce = hang
        if step == "slow-worker":
            worker("doomed").run()
        else:
            call_command("run_worker")
    elif step == "worker":
        worker("healthy").run()
    elif step == "sweep":
        sweep = records_sweep(now=timezone.now() + timedelta(minutes=int(args[0])))
        sys.stdout.write(json.dumps({"reaped": sweep.reaped, "requeued": sweep.requeued}))
    elif step == "state":
        sys.stdout.write(
            json.dumps(
                {
                    "records": list(
                        Record.objects.values("pk", "status", "attempts", "sha256", "event_id")
                    ),
                    "tasks": list(DBTaskResult.objects.values_list("status", flat=True)),
                }
            )
        )


if __name__ == "__main__":
    main(*sys.argv[1:])
