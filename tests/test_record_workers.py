"""Records and the task queue: a worker that is down, a worker killed mid-render, SSRF."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from django_tasks_db.management.commands.db_worker import Worker
from django_tasks_db.models import DBTaskResult

from declarations.choices import RecordStatus
from declarations.records.pdf import AssetFetcher, Renderer, render_pdf, renderer
from declarations.services.transitions import declaration_submit
from tests.builders import Org, new_draft
from tests.records import DATABASE, flat, issue_all, pdf_of, records_of, text_of

ROOT = Path(__file__).resolve().parent.parent


def _drain() -> None:
    Worker(
        queue_names=["*"],
        interval=0,
        batch=True,
        backend_name="default",
        startup_delay=False,
        max_tasks=None,
        worker_id="test",
        excluded_queue_names=[],
    ).run()


@pytest.mark.django_db(transaction=True)
def test_a_record_filed_while_the_worker_is_down_is_issued_when_it_comes_back(org: Org) -> None:
    with DATABASE:
        declaration = new_draft(org)
        declaration_submit(
            declaration=declaration, actor=org.servant
        )  # commits: enqueued, no worker
        (record,) = records_of(declaration)
        assert record.status == RecordStatus.PENDING
        assert list(DBTaskResult.objects.values_list("status", flat=True)) == ["READY"]
        _drain()  # the worker comes back
    record.refresh_from_db()
    assert record.status == RecordStatus.ISSUED
    assert list(DBTaskResult.objects.values_list("status", flat=True)) == ["SUCCESSFUL"]


def _run(env: dict[str, str], *args: str, timeout: int = 120) -> str:
    done = subprocess.run(
        [sys.executable, *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    return done.stdout


def test_a_worker_killed_mid_render_leaves_nothing_stuck_and_issues_once(tmp_path: Path) -> None:
    env = {
        **os.environ,
        "DATABASE_URL": f"sqlite:///{tmp_path / 'coi.sqlite3'}",
        "COI_MEDIA_ROOT": str(tmp_path / "media"),
        "COI_DEV_SEAL_DIR": str(tmp_path / "seal"),
        "COI_RENDER_MARKER": str(tmp_path / "rendering"),
        "DJANGO_SETTINGS_MODULE": "tests.worker_settings",
    }
    script = ("-m", "tests.worker_script")
    _run(env, "manage.py", "migrate", "--noinput", "-v", "0")
    record_id = int(_run(env, *script, "setup").strip().splitlines()[-1])

    doomed = subprocess.Popen([sys.executable, *script, "slow-worker"], cwd=ROOT, env=env)
    try:
        deadline = time.monotonic() + 60
        while not (tmp_path / "rendering").exists():
            assert doomed.poll() is None, "the worker died on its own"
            assert time.monotonic() < deadline, "the worker never started rendering"
            time.sleep(0.1)
        doomed.send_signal(signal.SIGKILL)  # killed in the middle of the render
    finally:
        doomed.wait(timeout=30)

    state = json.loads(_run(env, *script, "state"))
    assert state["tasks"] == ["RUNNING"]  # the database queue alone would leave it so forever
    assert state["records"][0]["status"] == "pending"

    # A minute later nothing is reaped yet (a render may still be running) ...
    assert json.loads(_run(env, *script, "sweep", "1")) == {"reaped": 0, "requeued": 0}
    # ... once past any render's time limit, the task is reaped and the record queued again.
    assert json.loads(_run(env, *script, "sweep", "10")) == {"reaped": 1, "requeued": 1}
    _run(env, *script, "worker")
    state = json.loads(_run(env, *script, "state"))
    assert sorted(state["tasks"]) == ["FAILED", "SUCCESSFUL"]
    (record,) = state["records"]
    assert (record["pk"], record["status"]) == (record_id, "issued")
    assert len(record["sha256"]) == 64
    # Running the sweep and the worker again changes nothing: issued exactly once.
    assert json.loads(_run(env, *script, "sweep", "10")) == {"reaped": 0, "requeued": 0}
    _run(env, *script, "worker")
    assert json.loads(_run(env, *script, "state"))["records"] == state["records"]
    files = list((tmp_path / "media" / "records").rglob("*.pdf"))
    assert len(files) == 1


# ---- nothing is fetched --------------------------------------------------------------------


class _Counter(BaseHTTPRequestHandler):
    hits: list[str] = []

    def do_GET(self) -> None:
        type(self).hits.append(self.path)
        self.send_response(200)
        self.send_header("Content-Type", "text/css")
        self.end_headers()
        self.wfile.write(b"body { background: url(http://127.0.0.1/again) }")

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def listener():
    _Counter.hits = []
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Counter)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server.server_address[1], _Counter.hits
    server.shutdown()
    server.server_close()


def _hostile(port: int) -> str:
    return (
        f'<img src="http://127.0.0.1:{port}/img.png">'
        f'<link rel="stylesheet" href="http://127.0.0.1:{port}/style.css">'
        f'<style>@import url("http://127.0.0.1:{port}/import.css");'
        f' body {{ background: url("file:///etc/passwd") }}</style>'
        '<img src="file:///etc/passwd"><iframe src="file:///etc/passwd"></iframe>'
        f'<object data="http://127.0.0.1:{port}/object"></object>'
        '<script>document.write("owned")</script>'
    )


def test_a_hostile_notice_fetches_nothing_and_prints_as_text(org: Org, listener) -> None:
    port, hits = listener
    passwd = Path("/etc/passwd").read_text().splitlines()[0]
    payload = _hostile(port)
    declaration = new_draft(
        org,
        matter=payload[:2000],
        personal_interest=payload[:2000],
        related_persons=f"<a href='http://127.0.0.1:{port}/a'>x</a>",
    )
    declaration_submit(declaration=declaration, actor=org.servant)
    (record,) = issue_all(declaration)
    text = flat(text_of(pdf_of(record)))
    assert hits == []
    assert passwd not in text
    assert f'<img src="http://127.0.0.1:{port}/img.png">' in text  # shown as the text it is
    assert "<script>" in text and "owned" in text and "document.write" in text


def test_the_fetcher_refuses_even_markup_that_was_not_escaped(listener) -> None:
    """Defence in depth: were a template ever to print raw HTML, nothing is fetched still."""
    port, hits = listener
    shared = renderer()
    fetcher = AssetFetcher()
    own = Renderer(fetcher, shared.font_config, shared.stylesheet)
    html = f"<html><head></head><body><p>x</p>{_hostile(port)}</body></html>"
    doc = own.document(html)
    assert doc.pages
    assert hits == []
    assert any(f"127.0.0.1:{port}" in url for url in fetcher.refused)
    assert any(url.startswith("file:///etc/passwd") for url in fetcher.refused)
    # and the shared renderer, used for records, says the same
    data = render_pdf(html).data
    assert hits == [] and data.startswith(b"%PDF")
    passwd = Path("/etc/passwd").read_text().splitlines()[0]
    assert passwd not in text_of(data)


def test_redirects_and_relative_escapes_are_refused() -> None:
    fetcher = AssetFetcher()
    for url in (
        "https://assets.coi.invalid/../../../../etc/passwd",
        "https://assets.coi.invalid/%2e%2e/%2e%2e/settings.py",
        "https://assets.coi.invalid/fonts/../../../coi/settings.py",
        "http://assets.coi.invalid/pdf/record.css",
        "https://assets.coi.invalid.evil.example/pdf/record.css",
        "ftp://127.0.0.1/",
        "file:///etc/passwd",
    ):
        with pytest.raises(ValueError):
            fetcher.fetch(url)
    assert fetcher.fetch("https://assets.coi.invalid/pdf/record.css").read().startswith(b"/*")
    assert fetcher.fetch("data:text/plain,hello").read() == b"hello"


def test_a_render_that_runs_too_long_is_stopped(monkeypatch, settings) -> None:
    import threading as _threading

    from declarations.records import pdf

    if _threading.current_thread() is not _threading.main_thread():
        pytest.skip("the time limit applies in a worker's main thread")
    settings.COI_RENDER_TIME_LIMIT = 1

    def endless(self: Renderer, html: str) -> None:
        time.sleep(30)

    monkeypatch.setattr(pdf.Renderer, "document", endless)
    started = time.monotonic()
    with pytest.raises(pdf.RenderTimeout):
        pdf.render_pdf("<p>x</p>")
    assert time.monotonic() - started < 10
