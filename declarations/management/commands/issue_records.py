from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandParser
from django.utils import timezone

from declarations.records.tasks import records_sweep


class Command(BaseCommand):
    help = (
        "Reap tasks whose worker died, queue again the records whose issuing was lost or "
        "failed, and fail the exports that stalled (safe to run repeatedly, e.g. every minute "
        "next to process_deadlines)."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--retry-failed",
            action="store_true",
            help="Also retry records that failed COI_RECORD_MAX_ATTEMPTS times.",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        sweep = records_sweep(now=timezone.now(), retry_failed=options["retry_failed"])
        self.stdout.write(
            f"{sweep.reaped} lost tasks reaped, {sweep.requeued} records queued, "
            f"{sweep.exports_failed} stalled exports failed."
        )
