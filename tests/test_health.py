"""``/healthz`` and ``/readyz`` (issue 17): 200 when every check passes, 503 naming the one that
failed; no sign-in, no HTTPS redirect, no Host check; nothing secret; a handful of queries."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Any
from unittest import mock

import pytest
import time_machine
from django.db import OperationalError, connection, connections
from django.db.migrations.loader import MigrationLoader
from django.db.migrations.recorder import MigrationRecorder
from django.test import Client
from django.utils import timezone

from declarations.records.tasks import issue_record, plan_export
from tests.records import DATABASE
from tests.seals import PASSPHRASE, write_seal


def _get(client: Client, path: str, status: int) -> dict[str, Any]:
    response = client.get(path)
    assert response.status_code == status, response.content
    assert response["Content-Type"] == "application/json"
    assert response["Cache-Control"] == "no-store"
    return json.loads(response.content)


def test_healthz_reports_each_check(
    client: Client, db: None, django_assert_max_num_queries
) -> None:
    with DATABASE, django_assert_max_num_queries(2):  # SELECT 1, the queue's lag
        body = _get(client, "/healthz", 200)
    assert body["ok"] is True and body["failed"] == []
    checks = body["checks"]
    assert set(checks) == {"database", "task_queue", "record_store", "seal"}
    assert checks["database"]["ok"] is True
    assert checks["task_queue"] == {
        "ok": True,
        "backend": "DatabaseBackend",
        "lag_seconds": 0,
        "max_lag_seconds": 900,
        "queues": {},
    }
    assert checks["record_store"] == {"ok": True}
    assert checks["seal"] == {"ok": True, "development": True}


def test_readyz_reports_each_check(client: Client, db: None, django_assert_max_num_queries) -> None:
    with django_assert_max_num_queries(3):  # SELECT 1, the migrations table and its rows
        body = _get(client, "/readyz", 200)
    assert body["failed"] == []
    assert body["checks"]["migrations"] == {"ok": True, "unapplied": []}
    # the tests' plain storage has no manifest to miss
    assert body["checks"]["static_files"] == {"ok": True, "manifest": False}


def test_a_database_that_does_not_answer_fails_both(client: Client, db: None) -> None:
    refused = OperationalError('connection to server at "10.1.2.3" failed: password for "coi"')
    with mock.patch.object(connections["default"], "cursor", side_effect=refused):
        health = _get(client, "/healthz", 503)
        ready = _get(client, "/readyz", 503)
    assert health["failed"] == ["database"]
    assert health["checks"]["database"] == {"ok": False, "error": "OperationalError"}
    assert ready["failed"] == ["database", "migrations"]
    for body in (health, ready):  # the error's text (an address, a user name) is only logged
        assert "10.1.2.3" not in json.dumps(body)


def test_a_queue_falling_behind_fails_healthz(client: Client, db: None, settings) -> None:
    settings.COI_HEALTH_MAX_QUEUE_LAG_SECONDS = 600
    now = timezone.now()
    with DATABASE:
        with time_machine.travel(now - dt.timedelta(minutes=20), tick=False):
            issue_record.enqueue(1)  # no worker takes it up
        with time_machine.travel(now - dt.timedelta(minutes=30), tick=False):
            # queued earlier, but not to run before a minute from now: not waiting yet
            issue_record.using(run_after=now + dt.timedelta(minutes=1)).enqueue(2)
            # ...and this one waits since its run_after, five minutes ago
            plan_export.using(run_after=now - dt.timedelta(minutes=5)).enqueue(3)
        with time_machine.travel(now, tick=False):
            body = _get(client, "/healthz", 503)
    assert body["failed"] == ["task_queue"]
    assert body["checks"]["task_queue"]["lag_seconds"] == 20 * 60
    assert body["checks"]["task_queue"]["queues"] == {
        "records": {"ready": 1, "lag_seconds": 20 * 60},
        "exports": {"ready": 1, "lag_seconds": 5 * 60},
    }


def test_a_record_store_that_takes_no_write_fails_healthz(
    client: Client, db: None, settings, tmp_path: Path
) -> None:
    (tmp_path / "a-file").write_text("not a folder")
    settings.MEDIA_ROOT = str(tmp_path / "a-file" / "media")
    body = _get(client, "/healthz", 503)
    assert body["failed"] == ["record_store"]
    assert body["checks"]["record_store"]["ok"] is False
    assert str(tmp_path) not in json.dumps(body)


def test_a_record_store_that_works_keeps_no_probe(client: Client, db: None, settings) -> None:
    _get(client, "/healthz", 200)
    probes = Path(settings.MEDIA_ROOT) / "healthz"
    assert not probes.exists() or list(probes.iterdir()) == []


@pytest.mark.parametrize(
    ("change", "error"),
    [
        ({"COI_SEAL_PKCS12": "/nonexistent/seal.p12"}, "missing"),
        ({"COI_SEAL_PASSPHRASE": "Tr0ub4dor&3"}, "does_not_open"),
        ({"COI_SEAL_PKCS12": "", "COI_SEAL_ALLOW_DEVELOPMENT": False}, "none_configured"),
    ],
)
def test_a_seal_that_would_not_sign_fails_healthz(
    client: Client, db: None, settings, tmp_path: Path, change: dict[str, Any], error: str
) -> None:
    settings.COI_SEAL_PKCS12 = str(write_seal(tmp_path / "seal.p12"))
    settings.COI_SEAL_PASSPHRASE = PASSPHRASE
    assert _get(client, "/healthz", 200)["checks"]["seal"] == {"ok": True, "development": False}
    for name, value in change.items():
        setattr(settings, name, value)
    body = _get(client, "/healthz", 503)
    assert body["failed"] == ["seal"]
    assert body["checks"]["seal"] == {"ok": False, "error": error}
    assert PASSPHRASE not in json.dumps(body) and "seal.p12" not in json.dumps(body)


def test_an_unapplied_migration_fails_readyz(client: Client, db: None) -> None:
    (latest,) = MigrationLoader(connection).graph.leaf_nodes("declarations")
    MigrationRecorder(connection).record_unapplied(*latest)  # rolled back with the test
    body = _get(client, "/readyz", 503)
    assert body["failed"] == ["migrations"]
    assert body["checks"]["migrations"]["unapplied"] == [".".join(latest)]


def test_static_files_not_collected_fail_readyz(
    client: Client, db: None, settings, tmp_path: Path
) -> None:
    settings.STATIC_ROOT = str(tmp_path)
    settings.STORAGES = {
        **settings.STORAGES,
        "staticfiles": {"BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"},
    }
    body = _get(client, "/readyz", 503)
    assert body["failed"] == ["static_files"]
    assert body["checks"]["static_files"] == {"ok": False, "manifest": True}


def test_probes_need_no_sign_in_no_https_and_no_known_host(
    client: Client, db: None, settings
) -> None:
    settings.SECURE_SSL_REDIRECT = True
    settings.ALLOWED_HOSTS = ["coi.example.kz"]
    # a load balancer probes the machine's own address over plain HTTP
    assert client.get("/healthz", HTTP_HOST="10.0.0.7:8000").status_code == 200
    assert client.get("/readyz", HTTP_HOST="10.0.0.7:8000").status_code == 200
    # ...where any other page is refused or sent to HTTPS
    assert client.get("/accounts/login/", HTTP_HOST="10.0.0.7:8000").status_code == 400
    assert client.get("/accounts/login/", HTTP_HOST="coi.example.kz").status_code == 301


def test_probes_answer_get_and_head_only(client: Client, db: None) -> None:
    head = client.head("/healthz")
    assert head.status_code == 200 and head.content == b""
    refused = client.post("/healthz")
    assert refused.status_code == 405 and refused["Allow"] == "GET, HEAD"
    assert client.get("/healthz/").status_code == 404  # one spelling, none redirected
