"""Bulk export through the task queue with 1, 2 and 4 workers (issue 17).

    python -m bench.exports [--dossiers 1000] [--workers 1 2 4] [--engine database]

Builds (once, in ``--var``) a database with ``--dossiers`` resolved cases whose dossiers run to
five pages, then for each worker count: starts that many ``manage.py run_worker`` processes (the
product's background process: the queue's worker and the scheduler), starts an export of every
case as an auditor would, and times it until the ZIP is packed. Prints dossiers per minute per
worker count and the speed-up over one worker: the queue spreads the export's chunks over every
worker (of every machine), so it scales until the cores are full (this machine has 2).

``--engine rq`` runs the same on the distributed engine (RQ over a Redis server started here on
a free loopback port), when that backend is configured (``COI_TASK_BACKEND=rq``).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent

BUILD = """
import django
django.setup()
from django.db import transaction
from django.test import override_settings
from declarations.services.declarations import declaration_comment
from tests.builders import build_org, declaration_in
with override_settings(TASKS={"default": {"BACKEND": "django_tasks.backends.dummy.DummyBackend"}}):
    with transaction.atomic():
        org = build_org()
        for n in range(%(dossiers)d):
            declaration = declaration_in(org, "resolved")
            for i in range(22):  # about five pages of dossier
                declaration_comment(
                    declaration=declaration,
                    actor=org.ethics,
                    text=f"Проверка № {i}: запрошены документы о закупке, ответ получен. " * 3,
                )
print(org.auditor.username)
"""

EXPORT = """
import django, json, time
django.setup()
from django.contrib.auth import get_user_model
from declarations.models import ExportJob
from declarations.records.exports import ExportFilters, export_create
auditor = get_user_model().objects.get(username=%(auditor)r)
started = time.time()
job = export_create(actor=auditor, filters=ExportFilters(bodies=[]), language="ru")
while True:
    job.refresh_from_db()
    if job.status in ("done", "failed"):
        break
    time.sleep(0.5)
print(json.dumps({"status": job.status, "total": job.total, "seconds": time.time() - started,
                  "error": job.error}))
"""


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def environment(var: Path, engine: str, redis_url: str) -> dict[str, str]:
    env = dict(os.environ)
    env.update(
        {
            "DJANGO_SETTINGS_MODULE": "coi.settings",
            "DJANGO_DEBUG": "true",  # the development seal; the queue is chosen below
            "DATABASE_URL": os.environ.get("DATABASE_URL", f"sqlite:///{var / 'coi.sqlite3'}"),
            "COI_VAR_DIR": str(var),
            "COI_MEDIA_ROOT": str(var / "media"),
            "COI_DEV_SEAL_DIR": str(var / "seal"),
            "COI_RECORD_LANGUAGE": "ru",
            "COI_TASK_BACKEND": engine,
            "COI_EXPORT_CHUNK": "10",
            "PYTHONPATH": str(ROOT),
        }
    )
    if redis_url:
        env["COI_REDIS_URL"] = redis_url
    return env


def python(env: dict[str, str], code: str) -> str:
    done = subprocess.run(  # noqa: S603
        [sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True
    )
    if done.returncode != 0:
        raise SystemExit(done.stdout + done.stderr)
    return done.stdout.strip().splitlines()[-1]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dossiers", type=int, default=1000)
    parser.add_argument("--workers", type=int, nargs="+", default=[1, 2, 4])
    parser.add_argument("--engine", choices=["database", "rq"], default="database")
    parser.add_argument("--var", type=Path, default=None)
    args = parser.parse_args()
    var = args.var or Path(tempfile.mkdtemp(prefix="coi-bench-exports-"))
    var.mkdir(parents=True, exist_ok=True)
    redis = None
    redis_url = ""
    if args.engine == "rq":
        port = free_port()
        redis = subprocess.Popen(  # noqa: S603
            ["/usr/bin/redis-server", "--port", str(port), "--save", "", "--appendonly", "no"],
            stdout=subprocess.DEVNULL,
        )
        redis_url = f"redis://127.0.0.1:{port}/0"
        time.sleep(0.5)
    env = environment(var, args.engine, redis_url)
    try:
        subprocess.run(
            [sys.executable, "manage.py", "migrate", "--noinput", "-v", "0"],
            cwd=ROOT,
            env=env,
            check=True,
        )
        marker = var / "auditor"
        if not marker.exists():
            print(f"building {args.dossiers} cases with five-page dossiers ...", flush=True)
            marker.write_text(python(env, BUILD % {"dossiers": args.dossiers}))
        auditor = marker.read_text().strip()
        results = [measure(env, auditor, workers) for workers in args.workers]
    finally:
        if redis is not None:
            redis.terminate()
    one = results[0]["per_minute"]
    print(f"\nbulk export of {results[0]['total']} five-page dossiers, engine: {args.engine}")
    print(f"  {'workers':>7} {'seconds':>8} {'dossiers/min':>13} {'× one':>7}")
    for result in results:
        print(
            f"  {result['workers']:>7} {result['seconds']:>8.1f} {result['per_minute']:>13.0f}"
            f" {result['per_minute'] / one:>7.2f}"
        )
    print(json.dumps(results))
    if args.var is None:
        shutil.rmtree(var, ignore_errors=True)


def measure(env: dict[str, str], auditor: str, workers: int) -> dict[str, Any]:
    print(f"==> {workers} worker(s)", flush=True)
    processes = [
        subprocess.Popen(
            [sys.executable, "manage.py", "run_worker", "--tick-seconds", "30"],
            cwd=ROOT,
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        for _ in range(workers)
    ]
    try:
        outcome = json.loads(python(env, EXPORT % {"auditor": auditor}))
    finally:
        for process in processes:
            process.terminate()
        for process in processes:
            process.wait(timeout=60)
    if outcome["status"] != "done":
        raise SystemExit(f"the export failed: {outcome['error']}")
    return {
        "workers": workers,
        "total": outcome["total"],
        "seconds": outcome["seconds"],
        "per_minute": outcome["total"] / outcome["seconds"] * 60,
    }


if __name__ == "__main__":
    main()
