from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from declarations.api.contract import CONTRACT, REGENERATE, contract_diff, contract_yaml


class Command(BaseCommand):
    help = (
        "The published OpenAPI contract, docs/openapi.yaml: --write regenerates it from the "
        "code, --check fails (exit status 1) when the code and the file disagree."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        mode = parser.add_mutually_exclusive_group(required=True)
        mode.add_argument("--write", action="store_true", help="Regenerate the file.")
        mode.add_argument("--check", action="store_true", help="Compare the file with the code.")

    def handle(self, *args: Any, **options: Any) -> None:
        generated = contract_yaml()
        if options["write"]:
            CONTRACT.write_text(generated, encoding="utf-8")
            self.stdout.write(f"wrote {CONTRACT}")
            return
        published = CONTRACT.read_text(encoding="utf-8") if CONTRACT.is_file() else ""
        if published == generated:
            self.stdout.write(f"{CONTRACT.name} is the contract the code makes")
            return
        for line in contract_diff(published=published, generated=generated):
            self.stdout.write(line.rstrip("\n"))
        raise CommandError(
            f"{CONTRACT} differs from the contract the code makes (the head of the diff is "
            f"above). Regenerate it with `{REGENERATE}`, add a line to docs/API-CHANGELOG.md, "
            "and commit both."
        )
