from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandParser
from django.utils import timezone

from declarations.records.tasks import checkpoint_sweep, records_sweep


class Command(BaseCommand):
    help = (
        "Reap tasks whose worker died, queue again the records whose issuing was lost or "
        "failed, fail the exports that stalled, and queue a checkpoint when one is due (safe "
        "to run repeatedly, e.g. every minute next to process_deadlines)."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--retry-failed",
            action="store_true",
            help="Also retry records that failed COI_RECORD_MAX_ATTEMPTS times.",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        now = timezone.now()
        sweep = records_sweep(now=now, retry_failed=options["retry_failed"])
        checkpoint = checkpoint_sweep(now=now)
        self.stdout.write(
            f"{sweep.reaped} lost tasks reaped, {sweep.requeued} records queued, "
            f"{sweep.exports_failed} stalled exports failed"
            + (", a checkpoint queued." if checkpoint else ".")
        )
