from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError

from declarations.audit_chain import audit_verify_all


class Command(BaseCommand):
    help = "Verify each declaration's audit hash chain; exit non-zero at the first broken link."

    def handle(self, *args: Any, **options: Any) -> None:
        checked, broken = audit_verify_all()
        if broken:
            for link in broken:
                self.stderr.write(f"BROKEN: {link}")
            raise CommandError(f"{len(broken)} of {checked} chains broken; first: {broken[0]}")
        self.stdout.write(f"{checked} chains verified, none broken.")
