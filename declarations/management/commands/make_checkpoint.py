from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand

from declarations.choices import CheckpointReason
from declarations.records.checkpoints import checkpoint_make


class Command(BaseCommand):
    help = (
        "Commit to the state of every audit chain and the access log now: a signed checkpoint, "
        "stored as a row and written to COI_CHECKPOINT_DIR (issue_records makes one every "
        "COI_CHECKPOINT_MINUTES when anything changed)."
    )

    def handle(self, *args: Any, **options: Any) -> None:
        checkpoint = checkpoint_make(reason=CheckpointReason.MANUAL)
        self.stdout.write(
            f"Checkpoint of {checkpoint.tree_size} chains, root {checkpoint.root_hash}, "
            f"written to {checkpoint.file_name}."
        )
