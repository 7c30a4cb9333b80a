from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from declarations.models import StateBody
from declarations.services.organization import POSITIONS, SERVANTS, UNITS, org_import_csv


class Command(BaseCommand):
    help = (
        "Import units, positions and servants of a state body from CSV (all or nothing per file)."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("body", help="the state body's short name (slug)")
        parser.add_argument("--units", type=Path)
        parser.add_argument("--positions", type=Path)
        parser.add_argument("--servants", type=Path)

    def handle(self, *args: Any, **options: Any) -> None:
        body = StateBody.objects.filter(slug=options["body"]).first()
        if body is None:
            raise CommandError(f"no state body {options['body']!r}")
        for kind in (UNITS, POSITIONS, SERVANTS):
            file: Path | None = options[kind]
            if file is None:
                continue
            result = org_import_csv(body=body, kind=kind, text=file.read_text(encoding="utf-8-sig"))
            if not result.ok:
                for error in result.errors:
                    self.stderr.write(f"{file}: {error}")
                raise CommandError(f"{file}: {len(result.errors)} errors, nothing imported")
            self.stdout.write(f"{file}: {result.created} created, {result.updated} updated")
