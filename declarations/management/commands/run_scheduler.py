from __future__ import annotations

import signal
import threading
from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from declarations.scheduler.runner import run_forever, scheduler_id, tick


class Command(BaseCommand):
    help = (
        "Run the periodic jobs (deadline escalation, reminders, digests, record sweep, e-mail): "
        "every COI_SCHEDULER_TICK_SECONDS until stopped, or one tick with --once (for cron or "
        "a systemd timer). Safe to run on several machines at once: each job is leased."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--once", action="store_true", help="Run one tick and stop.")
        parser.add_argument("--tick-seconds", type=float, default=None)

    def handle(self, *args: Any, **options: Any) -> None:
        owner = scheduler_id()
        if options["once"]:
            ran = tick(owner=owner)
            self.stdout.write(f"ran: {', '.join(ran) or 'nothing due'}")
            return
        stop = threading.Event()
        for signum in (signal.SIGINT, signal.SIGTERM):
            signal.signal(signum, lambda *_: stop.set())
        run_forever(owner=owner, stop=stop, tick_seconds=options["tick_seconds"])
