from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from declarations.services.notifications import notifications_send_pending


class Command(BaseCommand):
    help = "Send queued notifications from the outbox."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--limit", type=int, default=500)

    def handle(self, *args: Any, **options: Any) -> None:
        sent = notifications_send_pending(limit=options["limit"])
        self.stdout.write(f"{sent} notifications sent.")
