"""Fault drills (issue 17): what breaks in a deployment, and what the product does about it.

- the record store away: records stay pending and are issued after it comes back, once;
- PostgreSQL restarted under load: the API answers 503 with ``Retry-After`` while it is away,
  never a 500, and no case is half-written (every filed notice has its event, the chains verify);
- a restore of the database and the record store, together, into an empty database verifies end
  to end (``verify_audit``, ``verify_record``).

The PostgreSQL drills run on a cluster of their own (started here, on a free loopback port), not
on the suite's shared server, so that restarting it troubles nobody else.
"""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
import time_machine
from django.core.files.storage import default_storage
from django.utils import timezone

from declarations.choices import RecordStatus
from declarations.records import issuing
from declarations.records.tasks import records_sweep
from tests.builders import Org, declaration_in
from tests.records import IMMEDIATE, records_of

ROOT = Path(__file__).resolve().parent.parent
PG_BIN = sorted(Path("/usr/lib/postgresql").glob("*/bin"))
AS_PG = ["runuser", "-u", "postgres", "--"] if os.geteuid() == 0 else []
needs_pg_binaries = pytest.mark.skipif(not PG_BIN, reason="PostgreSQL's binaries are not here")


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


# ---- the record store away ----------------------------------------------------------------------


def test_the_record_store_away_leaves_records_pending_and_issues_them_after(
    org: Org, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Writes to the store fail (the disk or the bucket is away): the step is done, its record
    waits as pending with the error; once the store is back the sweep issues it, exactly once."""

    def away(*args: Any, **kwargs: Any) -> str:
        raise ConnectionError("the record store does not answer")

    monkeypatch.setattr(default_storage, "save", away)
    declaration = declaration_in(org, "submitted")
    (record,) = records_of(declaration)
    with pytest.raises(ConnectionError):
        issuing.record_issue(record_id=record.pk)  # the worker's attempt
    record.refresh_from_db()
    assert record.status == RecordStatus.PENDING
    assert "does not answer" in record.last_error
    monkeypatch.undo()
    later = timezone.now() + timedelta(hours=1)
    with IMMEDIATE, time_machine.travel(later, tick=False):
        records_sweep(now=later)
    record.refresh_from_db()
    assert record.status == RecordStatus.ISSUED
    stored = list(Path(default_storage.location, "records").rglob(f"{record.code.hex}*"))
    assert len(stored) == 1
    assert issuing.records_due_for_retry(now=later + timedelta(hours=1)) == []


# ---- PostgreSQL restarted under load -------------------------------------------------------------


class Cluster:
    """A PostgreSQL cluster of the drill's own."""

    def __init__(self, folder: Path) -> None:
        self.bin = PG_BIN[-1]
        self.data = folder / "pgdata"
        self.port = free_port()
        self.data.mkdir(parents=True)
        if AS_PG:
            subprocess.run(["chown", "-R", "postgres", str(folder)], check=True)
        self._pg("initdb", "-D", str(self.data), "-U", "coi", "--auth=trust")
        self.start()
        self.psql("postgres", "CREATE DATABASE coi")

    def _pg(self, tool: str, *args: str) -> None:
        subprocess.run([*AS_PG, str(self.bin / tool), *args], check=True, capture_output=True)

    def start(self) -> None:
        options = f"-p {self.port} -k {self.data} -c listen_addresses=127.0.0.1 -c fsync=off"
        self._pg(
            "pg_ctl",
            "-D",
            str(self.data),
            "-l",
            str(self.data / "log"),
            "-w",
            "-o",
            options,
            "start",
        )

    def stop(self) -> None:
        self._pg("pg_ctl", "-D", str(self.data), "-m", "fast", "-w", "stop")

    def client(self, tool: str, *args: str) -> str:
        """A client tool (psql, pg_dump, pg_restore) connected to this cluster."""
        address = ["-h", "127.0.0.1", "-p", str(self.port), "-U", "coi"]
        done = subprocess.run(
            [str(self.bin / tool), *address, *args], check=True, capture_output=True, text=True
        )
        return done.stdout

    def psql(self, database: str, sql: str) -> str:
        return self.client("psql", "-d", database, "-At", "-c", sql)

    def url(self, database: str = "coi") -> str:
        return f"postgres://coi@127.0.0.1:{self.port}/{database}"


@pytest.fixture
def cluster() -> Iterator[Cluster]:
    # not under pytest's tmp_path: the postgres user must be able to reach the folder
    folder = Path(tempfile.mkdtemp(prefix="coi-drill-"))
    folder.chmod(0o755)
    made = Cluster(folder / "cluster")
    try:
        yield made
    finally:
        shutil.rmtree(folder, ignore_errors=True)
        subprocess.run(
            [*AS_PG, str(made.bin / "pg_ctl"), "-D", str(made.data), "-m", "immediate", "stop"],
            check=False,
            capture_output=True,
        )


def manage(env: dict[str, str], *args: str, timeout: int = 300) -> str:
    done = subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    return done.stdout


SETUP = """
import django, json
django.setup()
from tests.builders import build_org
org = build_org()
print(json.dumps({"username": org.servant.username}))
"""

CONSISTENT = """
import django, json
django.setup()
from declarations.models import Declaration
bad = [
    str(d.code) for d in Declaration.objects.exclude(state="draft")
    if d.audit_seq < 1 or d.events.count() != d.audit_seq
]
print(json.dumps({"filed": Declaration.objects.exclude(state="draft").count(), "bad": bad}))
"""


def drill_env(url: str, tmp_path: Path) -> dict[str, str]:
    return {
        **os.environ,
        "DATABASE_URL": url,
        "DJANGO_SETTINGS_MODULE": "tests.worker_settings",  # the record store where we say
        "COI_MEDIA_ROOT": str(tmp_path / "media"),
        "COI_DEV_SEAL_DIR": str(tmp_path / "seal"),
        "DATABASE_CONN_MAX_AGE": "60",
        # the load is one servant's; the drill is about the database, not the write limit
        "COI_THROTTLE_WRITE": "100000/min",
    }


def python(env: dict[str, str], code: str) -> Any:
    done = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True, check=False
    )
    assert done.returncode == 0, done.stdout + done.stderr
    return json.loads(done.stdout.strip().splitlines()[-1])


@needs_pg_binaries
@pytest.mark.postgres
def test_postgresql_restarted_under_load_answers_503_and_writes_nothing_half(
    cluster: Cluster, tmp_path: Path
) -> None:
    env = drill_env(cluster.url(), tmp_path)
    manage(env, "migrate", "--noinput", "-v", "0")
    username = python(env, SETUP)["username"]
    port = free_port()
    gunicorn = ["gunicorn", "coi.wsgi", f"--bind=127.0.0.1:{port}", "--workers=2"]
    server = subprocess.Popen(
        [sys.executable, "-m", *gunicorn, "--timeout=30", "--log-level=warning"],
        cwd=ROOT,
        env=env,
    )
    base = f"http://127.0.0.1:{port}/api/v1"
    try:
        _wait_for(f"{base}/verify/")
        token = _sign_in(base, username)
        answers: list[tuple[float, int, str]] = []
        stop = threading.Event()

        def load() -> None:
            while not stop.is_set():
                answers.extend(_file_a_notice(base, token))

        threads = [threading.Thread(target=load) for _ in range(4)]
        for thread in threads:
            thread.start()
        time.sleep(3)
        cluster.stop()  # PostgreSQL goes down in the middle of the load …
        down_at = time.monotonic()
        time.sleep(3)
        cluster.start()  # … and comes back
        time.sleep(4)
        stop.set()
        for thread in threads:
            thread.join(timeout=60)
    finally:
        server.terminate()
        server.wait(timeout=30)
    statuses = {status for _at, status, _retry in answers}
    assert statuses <= {200, 201, 503}, sorted(statuses)
    unavailable = [a for a in answers if a[1] == 503]
    assert unavailable and all(retry == "5" for _at, _s, retry in unavailable)
    assert any(status in (200, 201) and at > down_at + 3 for at, status, _r in answers)
    state = python(env, CONSISTENT)
    assert state["filed"] > 0 and state["bad"] == []
    manage(env, "verify_audit")  # exits non-zero on a broken link


def _request(url: str, token: str, body: dict[str, Any] | None = None, **headers: str) -> Any:
    request = urllib.request.Request(  # noqa: S310 - loopback
        url,
        data=json.dumps(body).encode() if body is not None else None,
        headers={"Authorization": f"Token {token}", "Content-Type": "application/json", **headers},
    )
    return urllib.request.urlopen(request, timeout=20)  # noqa: S310 - loopback


def _wait_for(url: str) -> None:
    deadline = time.monotonic() + 60
    while True:
        try:
            urllib.request.urlopen(url, timeout=2)  # noqa: S310 - loopback
            return
        except urllib.error.HTTPError:
            return  # it answers
        except OSError:
            assert time.monotonic() < deadline, "gunicorn never answered"
            time.sleep(0.3)


def _sign_in(base: str, username: str) -> str:
    request = urllib.request.Request(  # noqa: S310 - loopback
        f"{base}/auth/token/",
        data=json.dumps({"username": username, "password": "pw"}).encode(),  # the factories'
        headers={"Content-Type": "application/json"},
    )
    return str(json.load(urllib.request.urlopen(request, timeout=20))["token"])  # noqa: S310


def _file_a_notice(base: str, token: str) -> list[tuple[float, int, str]]:
    """Create a draft and submit it; each answer as (when, status, Retry-After)."""
    seen = []
    try:
        draft = _request(
            f"{base}/declarations/",
            token,
            {
                "conflict_type": "actual",
                "category": "kinship",
                "matter": "Tender under load",
                "personal_interest": "A relative bids.",
                "aware_since": time.strftime("%Y-%m-%d"),
            },
        )
        seen.append((time.monotonic(), draft.status, ""))
        code = json.load(draft)["id"]
        submitted = _request(
            f"{base}/declarations/{code}/submit/", token, {}, **{"If-Match": draft.headers["ETag"]}
        )
        seen.append((time.monotonic(), submitted.status, ""))
    except urllib.error.HTTPError as refused:
        seen.append((time.monotonic(), refused.code, refused.headers.get("Retry-After", "")))
    except OSError:
        time.sleep(0.2)  # the server itself unreachable: not an answer
    return seen


# ---- backup and restore ------------------------------------------------------------------------


@needs_pg_binaries
@pytest.mark.postgres
def test_a_restore_of_the_database_and_the_record_store_verifies_end_to_end(
    cluster: Cluster, tmp_path: Path
) -> None:
    """``pg_dump`` and a copy of the record store, as DEPLOY.md says; restored into an empty
    database and an empty folder, ``verify_audit`` passes and every record verifies."""
    env = drill_env(cluster.url(), tmp_path)
    manage(env, "migrate", "--noinput", "-v", "0")
    manage(env, "shell", "-c", _ISSUE_SOME)
    dump = tmp_path / "coi.dump"
    cluster.client("pg_dump", "-Fc", "-f", str(dump), "coi")
    backup_store = tmp_path / "media-backup"
    shutil.copytree(tmp_path / "media", backup_store)

    cluster.psql("postgres", "CREATE DATABASE restored")
    cluster.client("pg_restore", "-d", "restored", "--no-owner", str(dump))
    restored = drill_env(cluster.url("restored"), tmp_path) | {"COI_MEDIA_ROOT": str(backup_store)}
    manage(restored, "verify_audit")
    files = sorted((backup_store / "records").rglob("*.pdf"))
    assert len(files) >= 2
    for record in files:
        verdict = json.loads(manage(restored, "verify_record", str(record), "--json"))
        assert verdict["valid"] is True, verdict


_ISSUE_SOME = """
from tests.builders import build_org, declaration_in
from tests.records import IMMEDIATE
with IMMEDIATE:
    org = build_org()
    declaration_in(org, "resolved")
"""


# ---- a worker killed in the middle of an export ------------------------------------------------


def test_a_worker_killed_mid_export_resumes_with_no_lost_or_duplicated_dossier(
    tmp_path: Path,
) -> None:
    """Six dossiers; the worker is killed while rendering the third. The sweep reaps its task and
    queues the dossiers still pending; a new worker finishes the job: six dossiers, each issued
    once, each once in the ZIP."""
    env = {
        **os.environ,
        "DATABASE_URL": f"sqlite:///{tmp_path / 'coi.sqlite3'}",
        "COI_MEDIA_ROOT": str(tmp_path / "media"),
        "COI_DEV_SEAL_DIR": str(tmp_path / "seal"),
        "COI_RENDER_MARKER": str(tmp_path / "rendering"),
        "DJANGO_SETTINGS_MODULE": "tests.worker_settings",
    }
    script = [sys.executable, "-m", "tests.export_drill_script"]

    def step(*args: str) -> str:
        done = subprocess.run(
            [*script, *args], cwd=ROOT, env=env, capture_output=True, text=True, timeout=600
        )
        assert done.returncode == 0, done.stdout + done.stderr
        return done.stdout

    manage(env, "migrate", "--noinput", "-v", "0")
    step("setup", "6")
    doomed = subprocess.Popen([*script, "slow-worker"], cwd=ROOT, env=env)
    try:
        deadline = time.monotonic() + 300
        while not (tmp_path / "rendering").exists():
            assert doomed.poll() is None, "the worker died on its own"
            assert time.monotonic() < deadline, "the worker never reached the third dossier"
            time.sleep(0.2)
        doomed.kill()  # SIGKILL, in the middle of the third dossier
    finally:
        doomed.wait(timeout=30)
    before = json.loads(step("state"))
    assert before["status"] == "running"
    assert sum(status == "issued" for _code, status in before["dossiers"]) == 2

    assert json.loads(step("sweep", "10"))["reaped"] >= 1
    step("worker")
    after = json.loads(step("state"))
    assert after["status"] == "done", after
    codes = [code for code, _status in after["dossiers"]]
    assert len(codes) == len(set(codes)) == after["total"] == 6
    assert {status for _code, status in after["dossiers"]} == {"issued"}
    pdfs = [name for name in after["entries"] if name.endswith(".pdf")]
    assert len(pdfs) == len(set(pdfs)) == 6


# ---- the database away, in one process ----------------------------------------------------------


def test_the_database_away_is_a_503_with_retry_after_for_pages_and_the_api(
    org: Org, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Whether the error comes up in a middleware (the session, for a page) or in the API's own
    handling (the token), the answer is a 503 a client may retry, never a 500."""
    from django.contrib.sessions.backends.db import SessionStore
    from django.db import OperationalError
    from django.test import Client

    from declarations.api.auth import ApiTokenAuthentication
    from tests.api import client_for

    page = Client(raise_request_exception=False)
    page.force_login(org.servant)
    api = client_for(org.servant)

    def away(*args: Any, **kwargs: Any) -> Any:
        raise OperationalError("server closed the connection unexpectedly")

    monkeypatch.setattr(SessionStore, "load", away)
    monkeypatch.setattr(ApiTokenAuthentication, "authenticate_credentials", away)
    answer = page.get("/declarations/mine/")
    assert answer.status_code == 503 and answer["Retry-After"] == "5"
    assert b"<h1>" in answer.content
    answer = api.get("/api/v1/declarations/")
    assert answer.status_code == 503 and answer["Retry-After"] == "5"
    assert answer.json()["code"] == "unavailable"
