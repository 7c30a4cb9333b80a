"""Every request has an id (issue 17): on its response's ``X-Request-ID`` and on every log line
written while it is served; our reverse proxy's id is kept, a client's never."""

from __future__ import annotations

import io
import json
import logging
import logging.config
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from django.test import Client

from coi import settings as profile
from declarations.web.request_id import NO_REQUEST, RequestIdFilter, current_request_id

PROXY = "10.0.0.2"


@pytest.fixture
def behind_our_proxy(settings) -> None:
    settings.COI_TRUSTED_PROXIES = ["10.0.0.0/24"]


def test_each_request_gets_a_fresh_id(client: Client, db: None) -> None:
    first = client.get("/healthz")["X-Request-ID"]
    second = client.get("/accounts/login/")["X-Request-ID"]
    assert re.fullmatch(r"[0-9a-f]{32}", first) and re.fullmatch(r"[0-9a-f]{32}", second)
    assert first != second
    assert current_request_id() == NO_REQUEST  # nothing left behind after the request


def test_our_proxy_s_id_is_kept(client: Client, db: None, behind_our_proxy: None) -> None:
    for offered in ("7f3a9c0e2b4d4e0f9a1b2c3d4e5f6a7b", "Root=1-67891233-abcdef012345678912345678"):
        response = client.get("/healthz", REMOTE_ADDR=PROXY, HTTP_X_REQUEST_ID=offered)
        assert response["X-Request-ID"] == offered


def test_a_client_s_own_id_is_ignored(client: Client, db: None, behind_our_proxy: None) -> None:
    response = client.get("/healthz", REMOTE_ADDR="203.0.113.9", HTTP_X_REQUEST_ID="someone-else")
    assert response["X-Request-ID"] != "someone-else"


def test_without_trusted_proxies_no_one_s_id_is_kept(client: Client, db: None) -> None:
    response = client.get("/healthz", REMOTE_ADDR=PROXY, HTTP_X_REQUEST_ID="from-the-proxy")
    assert response["X-Request-ID"] != "from-the-proxy"


@pytest.mark.parametrize("offered", ["a b", "x" * 129, "line\\nbreak", "é"])
def test_a_malformed_id_even_from_our_proxy_is_replaced(
    client: Client, db: None, behind_our_proxy: None, offered: str
) -> None:
    response = client.get("/healthz", REMOTE_ADDR=PROXY, HTTP_X_REQUEST_ID=offered)
    assert re.fullmatch(r"[0-9a-f]{32}", response["X-Request-ID"])


@pytest.fixture
def json_log() -> Iterator[io.StringIO]:
    """The production profile's console handler (its JSON formatter and request-id filter, from
    coi/settings.py's LOGGING), writing to a buffer; every per-request line, probes' too."""
    stream = io.StringIO()
    formatters: Any = profile.LOGGING["formatters"]
    handler = logging.StreamHandler(stream)
    handler.setFormatter(
        logging.config.DictConfigurator({}).configure_formatter(dict(formatters["json"]))
    )
    handler.addFilter(RequestIdFilter())
    root = logging.getLogger()
    requests = logging.getLogger("coi.requests")
    level = requests.level
    root.addHandler(handler)
    requests.setLevel(logging.DEBUG)
    try:
        yield stream
    finally:
        root.removeHandler(handler)
        requests.setLevel(level)


def test_every_log_line_of_a_request_carries_its_id(
    client: Client, db: None, settings, tmp_path: Path, json_log: io.StringIO
) -> None:
    (tmp_path / "a-file").write_text("")
    settings.MEDIA_ROOT = str(tmp_path / "a-file" / "media")  # the probe logs why it failed
    response = client.get("/healthz")
    lines = [json.loads(line) for line in json_log.getvalue().splitlines()]
    by_logger = {line["logger"]: line for line in lines}
    # the probe's own error, Django's for the 503, and the access line
    assert set(by_logger) == {"declarations.web.health", "django.request", "coi.requests"}
    assert {line["request_id"] for line in lines} == {response["X-Request-ID"]}
    assert by_logger["declarations.web.health"]["level"] == "ERROR"
    access = by_logger["coi.requests"]
    assert (access["method"], access["path"], access["status"]) == ("GET", "/healthz", 503)
    assert access["client"] == "127.0.0.1" and access["duration_ms"] >= 0
    assert access["time"].endswith("+00:00")


def test_a_page_s_access_line_is_info_a_probe_s_debug(
    client: Client, db: None, json_log: io.StringIO
) -> None:
    client.get("/accounts/login/")
    client.get("/readyz")
    levels = {
        line["path"]: line["level"]
        for line in map(json.loads, json_log.getvalue().splitlines())
        if line["logger"] == "coi.requests"
    }
    assert levels == {"/accounts/login/": "INFO", "/readyz": "DEBUG"}


def test_lines_outside_a_request_say_so(json_log: io.StringIO) -> None:
    logging.getLogger("declarations").warning("a worker's line")
    (line,) = map(json.loads, json_log.getvalue().splitlines())
    assert line["request_id"] == NO_REQUEST and line["message"] == "a worker's line"
