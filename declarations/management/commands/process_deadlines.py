from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand
from django.utils import timezone

from declarations.services.escalation import declarations_process_deadlines


class Command(BaseCommand):
    help = "Escalate missed deadlines (safe to run repeatedly, e.g. every few minutes)."

    def handle(self, *args: Any, **options: Any) -> None:
        count = declarations_process_deadlines(now=timezone.now())
        self.stdout.write(f"{count} missed deadlines escalated.")
