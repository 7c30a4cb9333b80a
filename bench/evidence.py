"""Dossier cost before and after the evidence work (issue 14), printed side by side in one run.

    python -m bench.evidence [--base 97e531e] [--rounds 7]

The dossier of issue 14 reads the stored clocks, builds the cl. 9 page, lists the access log,
prints the checkpoint's inclusion proof and marks hidden characters; the target is that making
one (its context and HTML, then the PDF) stays within 1.2× of what it cost before. The same
measuring script runs in a throw-away ``git worktree`` of ``--base`` (the last commit before the
work) and in this tree, each on its own fresh SQLite database with the same data: a 5-page and a
20-page Russian dossier of a resolved case with 22 and 120 comments; medians of ``--rounds``.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

#: Runs inside one tree: only APIs both trees share (the builders, the dossier record, the
#: content builder and the renderer).
MEASURE = r"""
import json, os, statistics, sys, tempfile, time
from pathlib import Path
var = Path(tempfile.mkdtemp(prefix="coi-bench-evidence-"))
os.environ.update(COI_VAR_DIR=str(var), COI_SEAL_ALLOW_DEVELOPMENT="true",
                  COI_DEV_SEAL_DIR=str(var / "seal"), COI_RECORD_LANGUAGE="ru",
                  DJANGO_SETTINGS_MODULE="bench.settings")
os.environ.pop("DATABASE_URL", None)
import django
django.setup()
from django.core.management import call_command
from django.db import transaction
from declarations.models import Record
from declarations.records.content import record_html
from declarations.records.issuing import dossier_record, record_issue
from declarations.records.pdf import render_pdf
from declarations.services.declarations import declaration_comment
from tests.builders import build_org, declaration_in

call_command("migrate", verbosity=0)
with transaction.atomic():
    org = build_org()
    def resolved(comments):
        d = declaration_in(org, "resolved")
        for i in range(comments):
            declaration_comment(declaration=d, actor=org.ethics,
                                text=f"Проверка № {i}: запрошены документы, ответ получен. " * 3)
        return d
    cases = {"dossier5": resolved(22), "dossier20": resolved(120)}
for r in Record.objects.filter(status="pending"):
    record_issue(record_id=r.pk)
records = {}
for name, d in cases.items():
    rec = dossier_record(declaration=d, reader=org.auditor, language="ru")
    rec.save()
    records[name] = rec
def make(rec):
    html, embedded = record_html(rec, development=True)
    return render_pdf(html, attachments=embedded)
rounds = int(sys.argv[1])
out = {}
for name, rec in records.items():
    pages = make(rec).pages
    times = []
    for _ in range(rounds):
        start = time.perf_counter()
        make(rec)
        times.append(time.perf_counter() - start)
    out[name] = {"pages": pages, "ms": statistics.median(times) * 1000}
print("RESULT " + json.dumps(out))
"""


def measure(tree: Path, rounds: int) -> dict[str, dict[str, float]]:
    env = {**os.environ, "PYTHONPATH": str(tree)}
    done = subprocess.run(  # noqa: S603 -- our own interpreter and script
        [sys.executable, "-c", MEASURE, str(rounds)],
        cwd=tree,
        env=env,
        capture_output=True,
        text=True,
        check=True,
    )
    line = next(x for x in done.stdout.splitlines() if x.startswith("RESULT "))
    return json.loads(line.removeprefix("RESULT "))  # type: ignore[no-any-return]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--base", default="97e531e", help="the last commit before issue 14")
    parser.add_argument("--rounds", type=int, default=7)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="coi-bench-base-") as tmp:
        base_tree = Path(tmp) / "base"
        subprocess.run(  # noqa: S603
            ["git", "worktree", "add", "--detach", str(base_tree), args.base],  # noqa: S607
            cwd=ROOT,
            check=True,
            capture_output=True,
        )
        try:
            print(f"measuring {args.base} (before) ...", flush=True)
            before = measure(base_tree, args.rounds)
        finally:
            subprocess.run(  # noqa: S603
                ["git", "worktree", "remove", "--force", str(base_tree)],  # noqa: S607
                cwd=ROOT,
                check=True,
            )
    print("measuring this tree (after) ...", flush=True)
    after = measure(ROOT, args.rounds)
    print(
        f"\n{'dossier':<10} {'pages':>11} {'before':>10} {'after':>10} {'ratio':>6}  target ≤ 1.2"
    )
    for name in before:
        b, a = before[name], after[name]
        pages = f"{int(b['pages'])} → {int(a['pages'])}"
        print(
            f"{name:<10} {pages:>11} {b['ms']:>8.1f}ms {a['ms']:>8.1f}ms {a['ms'] / b['ms']:>6.2f}"
        )


if __name__ == "__main__":
    main()
