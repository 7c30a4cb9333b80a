"""RQ over Redis as the task engine (issue 17): what the sweep asks RQ, and RQ workers in other
processes issuing records, sharing an export's chunks and being killed mid-render.

Each test module run starts its own Redis (Debian's ``redis-server``, on a free loopback port,
nothing saved); the worker tests run ``manage.py run_worker`` and ``manage.py rqworker`` against
a file database of their own, as tests/test_record_workers.py does with the database queue.
"""

from __future__ import annotations

import json
import os
import runpy
import shlex
import shutil
import signal
import socket
import sqlite3
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import django_rq
import pytest
import time_machine
from django.core.exceptions import ImproperlyConfigured
from django.utils import timezone
from redis import Redis
from redis.exceptions import ConnectionError as RedisConnectionError
from rq import Queue, Worker
from rq.job import Job

from declarations.choices import DeclarationState, ExportStatus, RecordStatus
from declarations.models import ExportJob, Record
from declarations.records import tasks
from declarations.records.exports import ExportFilters, export_create
from declarations.records.tasks import (
    WORKER_QUEUES,
    checkpoint_sweep,
    records_sweep,
    render_export_chunk,
)
from declarations.services.transitions import declaration_submit
from tests.builders import Org, declaration_in, new_draft

ROOT = Path(__file__).resolve().parent.parent
REDIS_SERVER = Path("/usr/bin/redis-server")
QUEUES = ["default", "records", "exports"]

pytestmark = pytest.mark.skipif(
    not REDIS_SERVER.exists(),
    reason="Debian's redis-server is not installed (.ci/test installs it): the RQ backend is "
    "tested against a real Redis",
)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture(scope="module")
def redis_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    port = _free_port()
    folder = tmp_path_factory.mktemp("redis")
    loopback_in_memory = f"--port {port} --bind 127.0.0.1 --save '' --appendonly no --dir {folder}"
    server = subprocess.Popen(
        [REDIS_SERVER, *shlex.split(loopback_in_memory)], stdout=subprocess.DEVNULL
    )
    url = f"redis://127.0.0.1:{port}/0"
    client = Redis.from_url(url)
    try:
        deadline = time.monotonic() + 20
        while True:
            try:
                client.ping()
                break
            except RedisConnectionError:
                assert server.poll() is None, "redis-server did not start"
                assert time.monotonic() < deadline, "redis-server did not answer"
                time.sleep(0.05)
        yield url
    finally:
        client.close()
        server.terminate()
        server.wait(timeout=30)


@pytest.fixture
def redis(redis_url: str) -> Iterator[Redis]:
    """The test's Redis, emptied: no test sees another's jobs or workers."""
    client = Redis.from_url(redis_url)
    client.flushall()
    yield client
    client.close()


@pytest.fixture
def on_rq(redis: Redis, redis_url: str, settings) -> None:  # type: ignore[no-untyped-def]
    """This process queues its tasks on RQ, as COI_TASK_BACKEND=rq would have it."""
    settings.RQ_QUEUES = {name: {"URL": redis_url, "DEFAULT_TIMEOUT": -1} for name in QUEUES}
    settings.RQ = {"JOB_CLASS": "django_tasks_rq.Job"}
    settings.TASKS = {"default": {"BACKEND": "django_tasks_rq.RQBackend", "QUEUES": QUEUES}}


# ---- the settings --------------------------------------------------------------------------


def test_rq_is_chosen_by_the_environment_with_a_queue_for_every_task_queue(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("COI_VAR_DIR", str(tmp_path))
    monkeypatch.setenv("COI_TASK_BACKEND", "rq")
    monkeypatch.delenv("COI_REDIS_URL", raising=False)
    with pytest.raises(ImproperlyConfigured, match="COI_REDIS_URL"):  # never a Redis per machine
        runpy.run_path(str(ROOT / "coi" / "settings.py"))
    monkeypatch.setenv("COI_REDIS_URL", "127.0.0.1:6379")
    with pytest.raises(ImproperlyConfigured, match="redis://"):
        runpy.run_path(str(ROOT / "coi" / "settings.py"))
    monkeypatch.setenv("COI_REDIS_URL", "redis://redis.internal:6379/2")
    values = runpy.run_path(str(ROOT / "coi" / "settings.py"))
    assert values["TASKS"]["default"]["BACKEND"] == "django_tasks_rq.RQBackend"
    assert set(values["RQ_QUEUES"]) == set(values["TASKS"]["default"]["QUEUES"]) == set(QUEUES)
    assert set(WORKER_QUEUES) == set(QUEUES)  # a worker takes tasks from every queue
    assert {q["URL"] for q in values["RQ_QUEUES"].values()} == {"redis://redis.internal:6379/2"}
    assert values["RQ"] == {"JOB_CLASS": "django_tasks_rq.Job"}  # a bare `rqworker` runs tasks
    assert {"django_rq", "django_tasks_rq"} <= set(values["INSTALLED_APPS"])
    monkeypatch.setenv("COI_TASK_BACKEND", "database")
    values = runpy.run_path(str(ROOT / "coi" / "settings.py"))
    assert "RQ_QUEUES" not in values and "django_rq" not in values["INSTALLED_APPS"]


# ---- what the sweep asks RQ ----------------------------------------------------------------


def _records_queue() -> Queue:
    return django_rq.get_queue("records")


def test_a_record_waiting_in_rq_is_not_queued_again_and_a_lost_one_is(
    org: Org, on_rq: None, django_capture_on_commit_callbacks
) -> None:  # type: ignore[no-untyped-def]
    with django_capture_on_commit_callbacks(execute=True):
        declaration_submit(declaration=new_draft(org), actor=org.servant)
    record = Record.objects.get()
    assert _records_queue().count == 1
    assert tasks._queued_record_ids() == {record.pk}
    later = timezone.now() + timedelta(minutes=10)  # long overdue: no worker took it yet
    assert records_sweep(now=later).requeued == 0  # behind a long queue, not lost
    assert _records_queue().count == 1
    _records_queue().empty()  # Redis restarted without its data: the task is lost
    assert tasks._queued_record_ids() == set()
    assert records_sweep(now=later).requeued == 1
    assert records_sweep(now=later).requeued == 0
    (job,) = _records_queue().jobs
    assert (job.func_name, job.args) == (f"{tasks.__name__}.issue_record", (record.pk,))
    assert Record.objects.get().status == RecordStatus.PENDING


def test_an_export_waiting_in_rq_is_not_failed_as_stalled_nor_its_dossiers_queued_again(
    org: Org, on_rq: None, django_capture_on_commit_callbacks
) -> None:  # type: ignore[no-untyped-def]
    for state in ("submitted", "resolved"):
        declaration_in(org, state)
    with django_capture_on_commit_callbacks(execute=True):
        job = export_create(actor=org.auditor, filters=ExportFilters(bodies=[]), language="en")
    assert tasks._queued_export_ids() == {job.pk}
    later = timezone.now() + timedelta(hours=2)
    assert records_sweep(now=later).exports_failed == 0  # (queues the other records)
    django_rq.get_queue("exports").empty()
    tasks.plan_export.call(job.pk)  # planned: its chunks wait in RQ, its dossiers pending
    assert django_rq.get_queue("exports").count == 2
    dossiers = set(job.dossiers.values_list("pk", flat=True))
    assert len(dossiers) == 2 and dossiers <= tasks._queued_record_ids()
    waiting = _records_queue().count
    sweep = records_sweep(now=later)
    assert (sweep.exports_failed, sweep.requeued) == (0, 0)  # waiting, not late
    assert _records_queue().count == waiting
    django_rq.get_queue("exports").empty()
    assert records_sweep(now=later).exports_failed == 1
    job.refresh_from_db()
    assert job.status == ExportStatus.FAILED


def test_with_redis_down_the_step_still_commits_and_the_sweep_queues_its_record_later(
    org: Org, on_rq: None, settings, django_capture_on_commit_callbacks
) -> None:  # type: ignore[no-untyped-def]
    up = settings.RQ_QUEUES
    settings.RQ_QUEUES = {name: {"URL": f"redis://127.0.0.1:{_free_port()}/0"} for name in QUEUES}
    declaration = new_draft(org)
    with django_capture_on_commit_callbacks(execute=True):
        declaration_submit(declaration=declaration, actor=org.servant)  # the enqueue fails
    declaration.refresh_from_db()
    assert declaration.state == DeclarationState.SUBMITTED
    assert Record.objects.get().status == RecordStatus.PENDING
    settings.RQ_QUEUES = up  # Redis is back
    assert _records_queue().count == 0
    assert records_sweep(now=timezone.now() + timedelta(minutes=3)).requeued == 1
    assert _records_queue().count == 1


def test_a_checkpoint_waiting_in_rq_is_queued_once(org: Org, on_rq: None) -> None:
    declaration_submit(declaration=new_draft(org), actor=org.servant)  # a chain moved
    now = timezone.now()
    assert checkpoint_sweep(now=now)
    assert not checkpoint_sweep(now=now)
    assert [job.func_name for job in _records_queue().jobs] == [f"{tasks.__name__}.make_checkpoint"]


def test_healthz_reports_the_lag_of_rq_queues_and_a_redis_that_is_away(
    org: Org, on_rq: None, client, settings
) -> None:  # type: ignore[no-untyped-def]
    settings.COI_HEALTH_MAX_QUEUE_LAG_SECONDS = 600
    now = timezone.now()
    with time_machine.travel(now - timedelta(minutes=20), tick=False):
        tasks.issue_record.enqueue(1)  # no worker takes it up
    with time_machine.travel(now - timedelta(minutes=5), tick=False):
        tasks.plan_export.enqueue(2)
    with time_machine.travel(now, tick=False):
        answer = client.get("/healthz")
    assert answer.status_code == 503
    check = answer.json()["checks"]["task_queue"]
    assert (check["ok"], check["backend"], check["lag_seconds"]) == (False, "RQBackend", 20 * 60)
    assert check["queues"] == {
        "records": {"ready": 1, "lag_seconds": 20 * 60},
        "exports": {"ready": 1, "lag_seconds": 5 * 60},
    }
    _records_queue().empty()
    django_rq.get_queue("exports").empty()
    assert client.get("/healthz").json()["checks"]["task_queue"]["lag_seconds"] == 0
    settings.RQ_QUEUES = {name: {"URL": f"redis://127.0.0.1:{_free_port()}/0"} for name in QUEUES}
    away = client.get("/healthz")
    assert away.status_code == 503
    assert away.json()["checks"]["task_queue"] == {"ok": False, "error": "ConnectionError"}


# ---- workers in other processes ------------------------------------------------------------


def _run(env: dict[str, str], *args: str, timeout: int = 120) -> str:
    done = subprocess.run(
        [sys.executable, *args], cwd=ROOT, env=env, capture_output=True, text=True, timeout=timeout
    )
    assert done.returncode == 0, done.stdout + done.stderr
    return done.stdout


def _start(env: dict[str, str], *args: str) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [sys.executable, *args],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )


def _stop(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)  # a warm stop, as systemd would
    try:
        process.wait(timeout=30)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait(timeout=30)


SCRIPT = ("-m", "tests.worker_script")
RUN_WORKER = ("manage.py", "run_worker")
RQWORKER = ("manage.py", "rqworker", *WORKER_QUEUES)


@pytest.fixture(scope="module")
def migrated(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """An empty, migrated file database, made once and copied by each test."""
    folder = tmp_path_factory.mktemp("rq-db")
    database = folder / "coi.sqlite3"
    env = {
        **os.environ,
        "DATABASE_URL": f"sqlite:///{database}",
        "COI_MEDIA_ROOT": str(folder / "media"),
        "COI_DEV_SEAL_DIR": str(folder / "seal"),
        "DJANGO_SETTINGS_MODULE": "tests.worker_settings",
    }
    _run(env, "manage.py", "migrate", "--noinput", "-v", "0", timeout=300)
    return database


@pytest.fixture
def rq_env(migrated: Path, redis: Redis, redis_url: str, tmp_path: Path) -> dict[str, str]:
    """The environment of the test's processes: its own copy of the database, and RQ."""
    database = tmp_path / "coi.sqlite3"
    shutil.copy(migrated, database)
    return {
        **os.environ,
        "DATABASE_URL": f"sqlite:///{database}",
        "COI_MEDIA_ROOT": str(tmp_path / "media"),
        # one seal for the module's tests: generated once (safe when several workers start)
        "COI_DEV_SEAL_DIR": str(migrated.parent / "seal"),
        "COI_RENDER_MARKER": str(tmp_path / "rendering"),
        "COI_TASK_BACKEND": "rq",
        "COI_REDIS_URL": redis_url,
        "DJANGO_SETTINGS_MODULE": "tests.rq_worker_settings",
    }


def _row(env: dict[str, str], model: Any, pk: int, *fields: str) -> tuple[Any, ...]:
    """A row as the workers left it, read from the test's database file."""
    with sqlite3.connect(env["DATABASE_URL"].removeprefix("sqlite:///")) as db:
        row = db.execute(
            f"SELECT {', '.join(fields)} FROM {model._meta.db_table} WHERE id = ?", (pk,)
        ).fetchone()
    return tuple(row)


def _wait(condition: Callable[[], bool], what: str, *workers: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + 120
    while not condition():
        assert all(w.poll() is None for w in workers), f"a worker stopped before {what}"
        assert time.monotonic() < deadline, f"no {what} within two minutes"
        time.sleep(0.2)


def test_run_worker_issues_the_record_of_a_transition_from_rq(
    rq_env: dict[str, str], redis: Redis
) -> None:
    record_id = int(_run(rq_env, *SCRIPT, "setup").split()[-1])  # submitted: queued on RQ
    assert Queue("records", connection=redis).count == 1
    worker = _start(rq_env, *RUN_WORKER)
    try:
        _wait(
            lambda: _row(rq_env, Record, record_id, "status") == (RecordStatus.ISSUED,),
            "record issued",
            worker,
        )
    finally:
        _stop(worker)
    assert worker.returncode == 0  # stopped when asked, between tasks
    status, attempts, sha256 = _row(rq_env, Record, record_id, "status", "attempts", "sha256")
    assert (status, attempts, len(sha256)) == (RecordStatus.ISSUED, 1, 64)


def test_an_export_spreads_its_chunks_over_the_workers_of_two_machines(
    rq_env: dict[str, str], redis: Redis
) -> None:
    # one machine's run_worker, another's bare rqworker (which forks a process per task)
    workers = [_start(rq_env, *RUN_WORKER), _start(rq_env, *RQWORKER)]
    try:
        _wait(lambda: len(Worker.all(connection=redis)) == 2, "two workers listening", *workers)
        export_id = int(_run(rq_env, *SCRIPT, "export", "6").split()[-1])
        _wait(
            lambda: (
                _row(rq_env, ExportJob, export_id, "status")[0]
                in (ExportStatus.DONE, ExportStatus.FAILED)
            ),
            "export finished",
            *workers,
        )
    finally:
        for worker in workers:
            _stop(worker)
    status, done, total = _row(rq_env, ExportJob, export_id, "status", "done", "total")
    assert (status, done, total) == (ExportStatus.DONE, 6, 6)
    finished = Queue("exports", connection=redis).finished_job_registry.get_job_ids()
    chunks = [
        job
        for job in Job.fetch_many(finished, connection=redis)
        if job is not None and job.func_name == render_export_chunk.module_path
    ]
    dossiers = [record_id for job in chunks for record_id in job.args[1]]
    assert len(dossiers) == len(set(dossiers)) == 6  # each dossier in one chunk
    assert len(chunks) == 6  # planned for two workers: chunks small enough to share
    by_worker: dict[str, int] = {}
    for job in chunks:
        (result,) = job.results()
        by_worker[result.worker_name] = by_worker.get(result.worker_name, 0) + 1
    assert len(by_worker) == 2, by_worker  # each machine's worker rendered some of them


def test_a_worker_killed_mid_render_leaves_the_record_pending_and_it_is_issued_once(
    rq_env: dict[str, str], redis: Redis
) -> None:
    record_id = int(_run(rq_env, *SCRIPT, "setup").split()[-1])
    doomed = _start(rq_env, *SCRIPT, "slow-run-worker")
    try:
        _wait(lambda: Path(rq_env["COI_RENDER_MARKER"]).exists(), "render started", doomed)
        doomed.send_signal(signal.SIGKILL)  # the machine is lost in the middle of the render
    finally:
        doomed.wait(timeout=30)
    records = Queue("records", connection=redis)
    (started,) = records.started_job_registry.get_job_ids(cleanup=False)  # and never finished
    assert Job.fetch(started, connection=redis).args == (record_id,)
    assert _row(rq_env, Record, record_id, "status", "attempts") == (RecordStatus.PENDING, 1)

    # A minute later nothing is reaped (the job's entry is still alive, as a running render's
    # would be) ...
    assert json.loads(_run(rq_env, *SCRIPT, "sweep", "1")) == {"reaped": 0, "requeued": 0}
    # ... past it, RQ's clean-up fails the abandoned job and the record is queued again.
    assert json.loads(_run(rq_env, *SCRIPT, "sweep", "10")) == {"reaped": 1, "requeued": 1}
    assert records.failed_job_registry.get_job_ids() == [started]
    assert [job.args for job in records.jobs if job.func_name.endswith(".issue_record")] == [
        (record_id,)
    ]  # (beside it, maybe, the checkpoint the scheduler's first sweep queued)

    worker = _start(rq_env, *RUN_WORKER)
    try:
        _wait(
            lambda: _row(rq_env, Record, record_id, "status") == (RecordStatus.ISSUED,),
            "record issued",
            worker,
        )
    finally:
        _stop(worker)
    # Sweeping again queues nothing: issued exactly once, one file.
    assert json.loads(_run(rq_env, *SCRIPT, "sweep", "10")) == {"reaped": 0, "requeued": 0}
    status, attempts, sha256 = _row(rq_env, Record, record_id, "status", "attempts", "sha256")
    assert (status, attempts, len(sha256)) == (RecordStatus.ISSUED, 2, 64)
    assert len(list((Path(rq_env["COI_MEDIA_ROOT"]) / "records").rglob("*.pdf"))) == 1
