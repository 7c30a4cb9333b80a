from __future__ import annotations

import shutil
import sys
from concurrent.futures import ProcessPoolExecutor, as_completed
from contextlib import closing
from datetime import date
from multiprocessing import get_context
from pathlib import Path
from typing import Any

from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import connections

from declarations.choices import ExportStatus
from declarations.records import exports
from declarations.stores import open_stored


def _fresh_connections() -> None:
    # A forked worker must not share the parent's database sockets.
    for conn in connections.all(initialized_only=True):
        conn.inc_thread_sharing()
        conn.close()
        conn.dec_thread_sharing()


def _render(export_id: int, chunk: list[int]) -> int:
    exports.export_render_chunk(export_id=export_id, record_ids=chunk)
    return len(chunk)


class Command(BaseCommand):
    help = (
        "Export the dossiers of an auditor's declarations to a ZIP (dossiers, register.csv, "
        "SHA256SUMS), rendering in parallel worker processes, as the API's export job does."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--auditor", required=True, help="User name of the auditor.")
        parser.add_argument("--body", action="append", default=[], help="State body slug.")
        parser.add_argument("--unit", default="", help="Unit id (UUID).")
        parser.add_argument("--from", dest="submitted_from", type=date.fromisoformat)
        parser.add_argument("--to", dest="submitted_to", type=date.fromisoformat)
        parser.add_argument("--state", action="append", default=[], help="Declaration state.")
        parser.add_argument("--language", default="ru", help="kk, ru, en or kk-ru.")
        parser.add_argument("--workers", type=int, default=2, help="Worker processes.")
        parser.add_argument("--output", type=Path, required=True, help="Where to write the ZIP.")

    def handle(self, *args: Any, **options: Any) -> None:
        user = get_user_model().objects.filter(username=options["auditor"]).first()
        if user is None:
            raise CommandError(f"No user {options['auditor']!r}.")
        filters = exports.ExportFilters(
            bodies=options["body"],
            unit=options["unit"],
            submitted_from=options["submitted_from"],
            submitted_to=options["submitted_to"],
            states=tuple(options["state"]),
        )
        try:
            job = exports.export_create(
                actor=user, filters=filters, language=options["language"], start=False
            )
        except ValidationError as exc:
            raise CommandError("; ".join(exc.messages)) from exc
        workers = max(1, options["workers"])
        chunks = exports.export_plan(export_id=job.pk, workers=workers)
        total = sum(len(c) for c in chunks)
        self.stdout.write(f"export {job.code}: {total} dossiers in {len(chunks)} chunks")
        done = 0
        if workers == 1:
            for chunk in chunks:
                done += _render(job.pk, chunk)
                self._progress(done, total)
        else:
            _fresh_connections()
            with ProcessPoolExecutor(
                max_workers=workers, mp_context=get_context("fork"), initializer=_fresh_connections
            ) as pool:
                for future in as_completed(pool.submit(_render, job.pk, c) for c in chunks):
                    done += future.result()
                    self._progress(done, total)
        job = exports.export_progress(export_id=job.pk)
        if job.status != ExportStatus.DONE:
            raise CommandError(f"export {job.code} ended {job.status}: {job.error}")
        src, _size = open_stored(job.file)  # streamed from the record store
        with closing(src), options["output"].open("wb") as dst:
            shutil.copyfileobj(src, dst)
        self.stdout.write(f"wrote {options['output']} ({job.size} bytes, sha256 {job.sha256})")

    def _progress(self, done: int, total: int) -> None:
        self.stdout.write(f"  {done}/{total}")
        sys.stdout.flush()
