from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from declarations.records.verification import verify_pdf


class Command(BaseCommand):
    help = (
        "Check a PDF offline: is it one of our records, unaltered, under our seal? "
        "Exit status 0 when valid, 1 when not."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("file", type=Path)
        parser.add_argument("--json", action="store_true", help="Print the verdict as JSON.")

    def handle(self, *args: Any, **options: Any) -> None:
        path: Path = options["file"]
        if not path.is_file():
            raise CommandError(f"No such file: {path}")
        verdict = verify_pdf(path.read_bytes())
        if options["json"]:
            self.stdout.write(json.dumps(verdict.as_dict(), ensure_ascii=False, indent=2))
        else:
            self.stdout.write(("VALID" if verdict.valid else "NOT VALID") + f"  {path}")
            if verdict.record:
                r = verdict.record
                self.stdout.write(
                    f"record: {r['kind']} {r['verification_code']} of declaration "
                    f"{r['registration_number']} ({r['state_body']}), issued {r['issued_at']}"
                )
            self.stdout.write(f"sealed by: {verdict.signed_by or '-'}")
            if verdict.development_seal:
                self.stdout.write("development seal: no legal force")
            self.stdout.write(f"sha256: {verdict.sha256}")
            for signature in verdict.personal_signatures:
                state = "valid" if signature["valid"] else "NOT VALID"
                who = f"{signature['signer']} ({signature.get('iin', '')})"
                self.stdout.write(
                    f"personal signature {signature['file']}: {state} {who} "
                    f"{signature['problem']}".rstrip()
                )
            for problem in verdict.problems:
                self.stdout.write(f"problem: {problem}")
        if not verdict.valid:
            raise SystemExit(1)
