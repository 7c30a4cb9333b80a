"""The production profile (issue 17), as a deployment starts it: settings chosen by the
environment (DJANGO_DEBUG=false and friends), `check --deploy` clean, WhiteNoise serving the
static files, gunicorn serving (and refusing to start without a seal that opens), and
``bin/pilot`` starting and stopping the whole profile on one machine.

The processes here get the environment a deployment would set, not the test settings."""

from __future__ import annotations

import json
import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from django.contrib.staticfiles import finders
from django.db import connection
from django.test import Client

from tests.seals import PASSPHRASE, write_seal

ROOT = Path(__file__).resolve().parent.parent
PYTHON = sys.executable
# collectstatic for the served tests: our own files, not the admin's, DRF's or the API docs'
# bundles (which take a minute to compress) and not the records' stylesheet and fonts (the
# records read them from the app). `manage.py collectstatic` in a deployment collects everything.
COLLECT_OURS = "-i admin -i rest_framework -i drf_spectacular_sidecar -i pdf -i fonts"


def production_env(var: Path, **extra: str) -> dict[str, str]:
    """What a deployment sets: DEBUG off, a secret key, its host, a database, a seal."""
    inherited = {
        name: value
        for name, value in os.environ.items()
        if not name.startswith(("DJANGO_", "COI_", "DATABASE_", "GUNICORN_", "PYTEST_"))
    }
    seal = var / "seal.p12"
    if not seal.exists():
        write_seal(seal)
    return {
        **inherited,
        "DJANGO_SETTINGS_MODULE": "coi.settings",
        "DJANGO_DEBUG": "false",
        "DJANGO_SECRET_KEY": secrets.token_urlsafe(50),
        "DJANGO_ALLOWED_HOSTS": "coi.example.kz",
        "DATABASE_URL": f"sqlite:///{var / 'coi.sqlite3'}",
        "COI_VAR_DIR": str(var),
        "COI_SEAL_PKCS12": str(seal),
        "COI_SEAL_PASSPHRASE": PASSPHRASE,
        "COI_PUBLIC_URL": "https://coi.example.kz",
        **extra,
    }


def run(env: dict[str, str], *args: str, timeout: int = 180) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [PYTHON, *args], cwd=ROOT, env=env, capture_output=True, text=True, timeout=timeout
    )


def profile_settings(env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    """The settings module as the environment makes it, without Django set up."""
    script = (
        "import json; from coi import settings as s; print(json.dumps({'debug': s.DEBUG, "
        "'database': s.DATABASES['default'], 'log': s.LOGGING['handlers']['console'], "
        "'static': s.STORAGES['staticfiles']['BACKEND'], 'middleware': s.MIDDLEWARE, "
        "'secure': [getattr(s, name, None) for name in ('SESSION_COOKIE_SECURE', "
        "'CSRF_COOKIE_SECURE', 'SECURE_HSTS_SECONDS')]}, "
        "default=str))"
    )
    return run(env, "-c", script, timeout=60)


POSTGRES = "postgres://coi:not-a-real-password@db.invalid:5432/coi"


def test_check_deploy_is_clean_in_the_production_profile(tmp_path: Path) -> None:
    env = production_env(tmp_path, DATABASE_URL=POSTGRES)  # check needs no connection
    done = run(env, "manage.py", "check", "--deploy", "--fail-level", "WARNING")
    assert done.returncode == 0, done.stderr + done.stdout
    assert "System check identified no issues" in done.stdout


def test_the_environment_selects_the_production_profile(tmp_path: Path) -> None:
    done = profile_settings(production_env(tmp_path, DATABASE_URL=POSTGRES))
    assert done.returncode == 0, done.stderr
    profile = json.loads(done.stdout)
    assert profile["debug"] is False
    # PostgreSQL through Django's pool, which replaces persistent connections
    assert profile["database"]["CONN_MAX_AGE"] == 0
    assert profile["database"]["CONN_HEALTH_CHECKS"] is True
    assert profile["database"]["OPTIONS"]["pool"] == {"min_size": 1, "max_size": 4, "timeout": 10}
    assert profile["log"]["formatter"] == "json" and profile["log"]["filters"] == ["request_id"]
    assert profile["static"] == "whitenoise.storage.CompressedManifestStaticFilesStorage"
    middleware = profile["middleware"]
    assert middleware[:3] == [
        "declarations.web.middleware.RequestIdMiddleware",
        "declarations.web.health.HealthMiddleware",
        "django.middleware.security.SecurityMiddleware",
    ]
    assert middleware[3] == "whitenoise.middleware.WhiteNoiseMiddleware"
    assert profile["secure"] == [True, True, 31536000]


def test_development_keeps_its_defaults(tmp_path: Path) -> None:
    env = production_env(tmp_path, DATABASE_URL=POSTGRES)
    del env["DJANGO_DEBUG"]
    profile = json.loads(profile_settings(env).stdout)
    assert profile["debug"] is True
    assert "pool" not in profile["database"].get("OPTIONS", {})
    assert profile["secure"] == [None, None, None]
    assert profile["database"]["CONN_MAX_AGE"] == 60
    assert profile["log"]["formatter"] == "text"
    assert profile["static"] == "django.contrib.staticfiles.storage.StaticFilesStorage"


def test_the_pool_and_persistent_connections_exclude_each_other(tmp_path: Path) -> None:
    env = production_env(tmp_path, DATABASE_URL=POSTGRES, DATABASE_CONN_MAX_AGE="60")
    done = profile_settings(env)
    assert done.returncode != 0
    assert "COI_DB_POOL and DATABASE_CONN_MAX_AGE exclude each other" in done.stderr
    done = profile_settings({**env, "COI_DB_POOL": "false"})
    assert json.loads(done.stdout)["database"]["CONN_MAX_AGE"] == 60


@pytest.mark.postgres
@pytest.mark.django_db
def test_the_pool_serves_queries_on_postgres(tmp_path: Path) -> None:
    """The profile's pool against the test server: queries go through pooled connections."""
    db = connection.settings_dict
    url = f"postgres://{db['USER']}:{db['PASSWORD']}@{db['HOST']}:{db['PORT']}/{db['NAME']}"
    script = (
        "import django, json; django.setup(); from django.db import connection; "
        "from declarations.models import Declaration; Declaration.objects.count(); "
        "first = connection.pool.get_stats(); connection.close(); "
        "Declaration.objects.exists(); "
        "print(json.dumps([first, connection.pool.get_stats()]))"
    )
    done = run(production_env(tmp_path, DATABASE_URL=url), "-c", script, timeout=60)
    assert done.returncode == 0, done.stderr
    first, second = json.loads(done.stdout)
    assert (first["pool_min"], first["pool_max"]) == (1, 4)
    # the second query took a connection from the pool: none was opened for it
    assert second["requests_num"] == first["requests_num"] + 1
    assert second["connections_num"] == first["connections_num"]


def test_whitenoise_serves_static_files_with_debug_off(client: Client, settings) -> None:
    assert settings.DEBUG is False  # as pytest-django runs every test
    response = client.get("/static/declarations/web.css")
    assert response.status_code == 200
    assert response["Access-Control-Allow-Origin"] == "*"  # WhiteNoise's, not a view's
    source = finders.find("declarations/web.css")
    assert b"".join(response.streaming_content) == Path(str(source)).read_bytes()  # type: ignore[attr-defined]


# -- processes ------------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def fetch(url: str, headers: dict[str, str] | None = None) -> tuple[int, dict[str, str], bytes]:
    request = urllib.request.Request(url, headers=headers or {})  # noqa: S310 (loopback, http)
    try:
        with urllib.request.urlopen(request, timeout=10) as response:  # noqa: S310
            return response.status, dict(response.headers), response.read()
    except urllib.error.HTTPError as error:
        return error.code, dict(error.headers), error.read()


def wait_healthy(port: int, process: subprocess.Popen[Any], seconds: float = 60) -> bytes:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        assert process.poll() is None, "the server stopped while starting"
        try:
            status, _headers, body = fetch(f"http://127.0.0.1:{port}/healthz")
        except OSError:
            time.sleep(0.3)
            continue
        assert status == 200, body
        return body
    raise AssertionError("the server did not answer /healthz in time")


@pytest.fixture(scope="module")
def deployed(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A machine's folder after `migrate` and `collectstatic` (ours) in the production profile."""
    var = tmp_path_factory.mktemp("deployed")
    env = production_env(var)
    for step in ("migrate --noinput -v 0", f"collectstatic --noinput -v 0 {COLLECT_OURS}"):
        done = run(env, "manage.py", *step.split(), timeout=600)
        assert done.returncode == 0, done.stderr
    return var


@pytest.fixture
def stopped_at_the_end() -> Iterator[list[subprocess.Popen[Any]]]:
    started: list[subprocess.Popen[Any]] = []
    yield started
    for process in started:  # a failed test leaves nothing running
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()


def test_gunicorn_serves_the_profile(
    deployed: Path, stopped_at_the_end: list[subprocess.Popen[Any]]
) -> None:
    port = free_port()
    env = production_env(deployed, COI_WEB_BIND=f"127.0.0.1:{port}", COI_WEB_WORKERS="1")
    log = deployed / "gunicorn.log"
    with log.open("w") as stderr:
        gunicorn = subprocess.Popen(
            [PYTHON, "-m", "gunicorn", "coi.wsgi"],
            cwd=ROOT,
            env=env,
            stdout=stderr,
            stderr=stderr,
            start_new_session=True,
        )
        stopped_at_the_end.append(gunicorn)
        health = json.loads(wait_healthy(port, gunicorn))
        assert health["checks"]["seal"] == {"ok": True, "development": False}
        assert health["checks"]["task_queue"]["backend"] == "DatabaseBackend"
        status, _headers, body = fetch(f"http://127.0.0.1:{port}/readyz")
        assert status == 200, body
        # a static file, by the hashed name the pages use, from behind the TLS proxy
        manifest = json.loads((deployed / "static" / "staticfiles.json").read_text())
        hashed = manifest["paths"]["declarations/web.css"]
        status, headers, body = fetch(
            f"http://127.0.0.1:{port}/static/{hashed}",
            {"Host": "coi.example.kz", "X-Forwarded-Proto": "https", "Accept-Encoding": "gzip"},
        )
        assert status == 200
        assert headers["Cache-Control"] == "max-age=315360000, public, immutable"
        assert headers["Content-Encoding"] == "gzip"
        request_id = headers["X-Request-ID"]
        gunicorn.send_signal(signal.SIGTERM)
        assert gunicorn.wait(timeout=60) == 0
    lines = [json.loads(line) for line in log.read_text().splitlines() if line.startswith("{")]
    served = [line for line in lines if line.get("request_id") == request_id]
    assert [(line["logger"], line["path"], line["status"]) for line in served] == [
        ("coi.requests", f"/static/{hashed}", 200)
    ]
    assert any(line["logger"] == "gunicorn.error" for line in lines)  # gunicorn's own, as JSON


def test_gunicorn_will_not_start_with_a_seal_that_does_not_open(tmp_path: Path) -> None:
    env = production_env(tmp_path, COI_WEB_BIND=f"127.0.0.1:{free_port()}")
    env["COI_SEAL_PASSPHRASE"] = "Tr0ub4dor&3"
    done = subprocess.run(
        [PYTHON, "-m", "gunicorn", "coi.wsgi"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 1
    assert "(coi.E022)" in done.stderr
    assert "does not open with COI_SEAL_PASSPHRASE" in done.stderr
    assert "Booting worker" not in done.stderr


def _processes_in_group(group: int) -> list[str]:
    found = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
            cmdline = (stat.parent / "cmdline").read_bytes().replace(b"\0", b" ").decode()
        except (OSError, IndexError):
            continue  # gone meanwhile
        if int(fields[2]) == group and fields[0] != "Z":
            found.append(cmdline)
    return found


def test_the_pilot_starts_the_profile_and_stops_it_together(
    deployed: Path, tmp_path: Path, stopped_at_the_end: list[subprocess.Popen[Any]]
) -> None:
    var = tmp_path / "var"
    shutil.copytree(deployed, var, ignore=shutil.ignore_patterns("static", "*.log"))
    procfile = tmp_path / "Procfile"
    source = (ROOT / "Procfile").read_text()
    assert "collectstatic --noinput" in source
    procfile.write_text(
        source.replace("collectstatic --noinput", f"collectstatic --noinput {COLLECT_OURS}")
    )
    port = free_port()
    env = production_env(
        var,
        COI_WEB_BIND=f"127.0.0.1:{port}",
        COI_WEB_WORKERS="1",
        COI_SCHEDULER_TICK_SECONDS="1",
    )
    del env["DJANGO_DEBUG"]  # the pilot's own default: the production profile
    log = tmp_path / "pilot.log"
    with log.open("w") as stderr:
        pilot = subprocess.Popen(
            ["bash", str(ROOT / "bin" / "pilot"), str(procfile)],
            cwd=ROOT,
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=stderr,
            start_new_session=True,
        )
        stopped_at_the_end.append(pilot)
        wait_healthy(port, pilot, seconds=120)
        assert (var / "static" / "staticfiles.json").exists()  # the release step ran first
        running = _processes_in_group(pilot.pid)
        assert any("gunicorn" in line for line in running), running
        assert any("run_worker" in line for line in running), running

        pilot.send_signal(signal.SIGTERM)
        assert pilot.wait(timeout=90) == 0, log.read_text()
    assert _processes_in_group(pilot.pid) == []
    assert "pilot: stopping" in log.read_text()
