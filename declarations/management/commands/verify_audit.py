from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from declarations.access_log import access_log_head, access_log_verify
from declarations.audit_chain import audit_verify_all
from declarations.records.checkpoint_verification import CheckpointVerdict, checkpoint_verify


class Command(BaseCommand):
    help = (
        "Verify each declaration's audit hash chain and the access log; exit non-zero at the "
        "first broken link. With --checkpoint FILE, also prove every chain consistent with that "
        "signed checkpoint: a chain rewritten consistently, cut short or rolled back since then "
        "passes the plain check but not this one."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--checkpoint",
            type=Path,
            metavar="FILE",
            help="A checkpoint file (COI_CHECKPOINT_DIR, or checkpoint.json of an export).",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        checked, broken = audit_verify_all()
        problems = [str(link) for link in broken]
        access = access_log_verify()
        if access is not None:
            problems.append(str(access))
        path: Path | None = options["checkpoint"]
        verdict: CheckpointVerdict | None = None
        if path is not None:
            try:
                data = path.read_bytes()
            except OSError as exc:
                raise CommandError(f"cannot read {path}: {exc}") from None
            verdict = checkpoint_verify(data)
            problems += [f"checkpoint {path.name}: {p}" for p in verdict.problems]
        if problems:
            for problem in problems:
                self.stderr.write(f"BROKEN: {problem}")
            first = broken[0] if broken else problems[0]
            raise CommandError(
                f"{len(broken)} of {checked} chains broken, {len(problems)} problems; "
                f"first: {first}"
            )
        self.stdout.write(f"{checked} chains verified, none broken.")
        self.stdout.write(f"Access log: {access_log_head()[0]} events verified.")
        if path is not None and verdict is not None:
            self.stdout.write(
                f"Checkpoint {path.name} ({verdict.time}, {verdict.reason}, signed by "
                f"{verdict.signed_by}"
                + (f", timestamped {verdict.timestamped_at}" if verdict.timestamped_at else "")
                + f"): all {verdict.tree_size} leaves hold in the database."
            )
