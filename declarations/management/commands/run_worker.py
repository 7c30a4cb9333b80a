from __future__ import annotations

import threading
from typing import Any

from django.core.management.base import BaseCommand, CommandParser
from django.utils.crypto import get_random_string

from declarations.records.tasks import database_queue, rq_queue, rq_worker
from declarations.scheduler.runner import run_forever, scheduler_id


class Command(BaseCommand):
    help = (
        "A machine's one background process: the scheduler (its periodic jobs) and a worker for "
        "the task queue's tasks (records, exports), on the database queue or on RQ."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--tick-seconds", type=float, default=None)
        parser.add_argument("--interval", type=float, default=1.0, help="Queue polling (s).")

    def handle(self, *args: Any, **options: Any) -> None:
        stop = threading.Event()
        scheduler = threading.Thread(
            target=run_forever,
            kwargs={"owner": scheduler_id(), "stop": stop, "tick_seconds": options["tick_seconds"]},
            name="scheduler",
            daemon=True,
        )
        scheduler.start()
        try:
            if database_queue():
                from django_tasks_db.management.commands.db_worker import Worker

                worker = Worker(
                    queue_names=["*"],
                    interval=options["interval"],
                    batch=False,
                    backend_name="default",
                    startup_delay=False,
                    max_tasks=None,
                    worker_id=get_random_string(32),
                    excluded_queue_names=[],
                )
                worker.configure_signals()
                worker.run()  # until SIGTERM / SIGINT
            elif rq_queue():
                # until SIGTERM / SIGINT, after the task at hand (a second signal: at once)
                rq_worker().work(logging_level="INFO" if options["verbosity"] else "WARNING")
            else:  # tasks run in-process (development): only the scheduler has work to do
                import signal

                for signum in (signal.SIGINT, signal.SIGTERM):
                    signal.signal(signum, lambda *_: stop.set())
                while not stop.wait(1):
                    pass
        finally:
            stop.set()
            scheduler.join(timeout=30)
