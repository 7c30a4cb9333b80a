from __future__ import annotations

import time
from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from declarations.seeding.demo import seed_demo
from declarations.seeding.large_org import seed_large


class Command(BaseCommand):
    help = (
        "Create or refresh the demo organisation (users servant, servant2, manager, head, ethics, "
        "hr, auditor, admin with the given password) and, with --servants/--declarations, a large "
        "generated body for benchmarks."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--password", required=True)
        parser.add_argument("--servants", type=int, default=0)
        parser.add_argument("--declarations", type=int, default=0)

    def handle(self, *args: Any, **options: Any) -> None:
        demo = seed_demo(password=options["password"])
        self.stdout.write(
            f"demo body {demo.body.slug!r}: {len(demo.users)} users, "
            f"{demo.created_declarations} declarations created"
        )
        if options["servants"]:
            started = time.monotonic()
            figures = seed_large(
                servants=options["servants"],
                declarations=options["declarations"],
                password=options["password"],
            )
            self.stdout.write(f"large body: {figures} in {time.monotonic() - started:.1f} s")
