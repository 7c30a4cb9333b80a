from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from declarations.services.notifications import notifications_send_pending


class Command(BaseCommand):
    help = (
        "Send the due e-mails of the notification outbox, each in its recipient's language. "
        "A failed send stays queued and is retried later with back-off; the scheduler runs "
        "this every tick, so the command is for cron set-ups and operators."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--limit", type=int, default=500, help="At most this many e-mails.")

    def handle(self, *args: Any, **options: Any) -> None:
        sent = notifications_send_pending(limit=options["limit"])
        self.stdout.write(f"{sent} notifications sent.")
