"""Hostile input (issue 12): bodies built to crash the parser, forged client addresses, endless
addenda, a file named for another type, and what a crash may show.

Every write endpoint of the API is taken from the OpenAPI schema, so a new one is covered the day
it is added.
"""

from __future__ import annotations

import io
import json
import logging
import re
import time
from dataclasses import dataclass
from typing import Any

import pytest
from axes.models import AccessAttempt  # type: ignore[import-untyped]
from django.conf import settings
from django.core.cache import cache
from django.core.exceptions import ImproperlyConfigured, RequestDataTooBig
from django.test import Client, RequestFactory, override_settings
from django.urls import reverse
from drf_spectacular.generators import SchemaGenerator
from rest_framework.exceptions import ParseError

from coi.settings import env_networks
from declarations.api.parsers import JSON_MAX_DEPTH, BoundedJSONParser, nesting_depth
from declarations.choices import AuditAction
from declarations.choices import DeclarationState as S
from declarations.client import client_address
from declarations.models import AuditEvent
from declarations.services.attachments import attachment_add
from declarations.services.declarations import declaration_add_addendum
from tests.api import BASE, client_for, declaration_url, ok
from tests.builders import Org, declaration_in, new_draft
from tests.web import client_as, text

pytestmark = pytest.mark.django_db

LOGIN = "/accounts/login/"
PDF = b"%PDF-1.4\n1 0 obj << >> endobj\ntrailer << >>\n%%EOF\n"
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64
JPEG = b"\xff\xd8\xff\xe0" + b"\x00" * 64
PROXY = ["127.0.0.1"]  # the test client's REMOTE_ADDR: as if our proxy sent every request


@pytest.fixture(autouse=True)
def _fresh_counters() -> Any:
    """Throttle counters live in the cache, which outlives a test's database."""
    cache.clear()
    yield
    cache.clear()


def rates(**kw: str) -> dict[str, Any]:
    rest: dict[str, Any] = settings.REST_FRAMEWORK
    return {**rest, "DEFAULT_THROTTLE_RATES": {**rest["DEFAULT_THROTTLE_RATES"], **kw}}


def envelope(response: Any, status: int | set[int], code: str | None = None) -> dict[str, Any]:
    """The one error shape, with ``status`` (one of them, for a set; ``code`` when given)."""
    wanted = status if isinstance(status, set) else {status}
    assert response.status_code in wanted, (response.status_code, response.content[:500])
    assert response["Content-Type"] == "application/json", response["Content-Type"]
    body = response.json()
    assert set(body) <= {"code", "message", "fields", "retry_after"}, body
    assert body["code"] and body["message"], body
    if code is not None:
        assert body["code"] == code, body
    return body


# ---- every write endpoint, from the schema ------------------------------------------------------


NOBODY = "00000000-0000-4000-8000-000000000000"  # the id of nothing, in every path parameter


@dataclass(frozen=True)
class Operation:
    method: str
    template: str  # the schema's path, "/api/v1/declarations/{id}/comments/"
    media_types: tuple[str, ...]  # what the request body may be; () when the view reads none
    public: bool  # no sign-in needed

    def __str__(self) -> str:
        return f"{self.method.upper()} {self.template}"

    @property
    def path(self) -> str:
        return re.sub(r"\{[^}]+\}", NOBODY, self.template)


def write_operations() -> list[Operation]:
    schema = SchemaGenerator().get_schema(request=None, public=True)
    return [
        Operation(
            method,
            template,
            tuple(op.get("requestBody", {}).get("content", {})),
            public=not op.get("security") or {} in op["security"],
        )
        for template, methods in schema["paths"].items()
        for method, op in methods.items()
        if method in ("post", "put", "patch")
    ]


OPERATIONS = write_operations()
JSON_OPERATIONS = [op for op in OPERATIONS if "application/json" in op.media_types]


def test_the_schema_lists_the_write_endpoints() -> None:
    """The generated list is the real one (a broken generator must not pass every test below)."""
    names = {f"{op.method} {op.path.split('/')[3]}" for op in JSON_OPERATIONS}
    assert {"post auth", "post declarations", "patch declarations", "post measures"} <= names
    assert len(OPERATIONS) >= 15
    # a new endpoint open to anyone should be a decision, so this list is spelled out
    public = {op.path for op in OPERATIONS if op.public}
    assert public == {f"{BASE}/auth/token/", f"{BASE}/verify/"}


def _deep(shape: str, depth: int = 2000) -> str:
    if shape == "arrays":
        return "[" * depth + "]" * depth
    if shape == "objects":
        return '{"a":' * depth + "1" + "}" * depth
    return '{"text": ' + "[" * depth + "]" * depth + "}"  # inside a field a view reads


def _expected(op: Operation, signed_in: bool, json_status: int) -> set[int]:
    if not signed_in and not op.public:
        return {401}  # refused before the body is read
    if "application/json" in op.media_types:
        return {json_status}
    if op.media_types:
        return {404, 415}  # multipart only: JSON is refused, before or after the declaration lookup
    return {404}  # the view reads no body; the made-up id is not found


def _send(op: Operation, body: str | bytes, signed_in: bool, org: Org) -> Any:
    client = client_for(org.servant if signed_in else None)
    call = getattr(client, op.method)
    return call(op.path, body, content_type="application/json")


@pytest.mark.parametrize("shape", ["arrays", "objects", "in a field"])
@pytest.mark.parametrize("signed_in", [True, False], ids=["signed-in", "anonymous"])
@pytest.mark.parametrize("op", OPERATIONS, ids=str)
def test_deeply_nested_json_is_a_400_never_a_500(
    org: Org, op: Operation, signed_in: bool, shape: str
) -> None:
    events = AuditEvent.objects.count()
    response = _send(op, _deep(shape), signed_in, org)
    body = envelope(response, _expected(op, signed_in, 400))
    if response.status_code == 400:
        assert body["code"] == "parse_error"
        assert str(JSON_MAX_DEPTH) in body["message"]
    assert AuditEvent.objects.count() == events


@pytest.mark.parametrize("signed_in", [True, False], ids=["signed-in", "anonymous"])
@pytest.mark.parametrize("op", OPERATIONS, ids=str)
def test_json_over_the_size_limit_is_a_413(org: Org, op: Operation, signed_in: bool) -> None:
    limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE
    big = json.dumps({"text": "x" * limit})
    response = _send(op, big, signed_in, org)
    body = envelope(response, _expected(op, signed_in, 413))
    if response.status_code == 413:
        assert body["code"] == "payload_too_large"
        assert "1.0" in body["message"]  # the limit, "1.0 MB"


def test_nesting_up_to_the_limit_reaches_the_view(org: Org) -> None:
    """Depth 32 is parsed and refused by the input serializer as a wrong type; 33 is not parsed."""
    client = client_for(org.servant)
    url = f"{BASE}/declarations/"
    at_limit = '{"matter": ' + "[" * (JSON_MAX_DEPTH - 1) + "]" * (JSON_MAX_DEPTH - 1) + "}"
    body = envelope(client.post(url, at_limit, content_type="application/json"), 400, "invalid")
    assert "matter" in body["fields"]
    over = '{"matter": ' + "[" * JSON_MAX_DEPTH + "]" * JSON_MAX_DEPTH + "}"
    envelope(client.post(url, over, content_type="application/json"), 400, "parse_error")


def test_a_non_text_charset_is_refused(org: Org) -> None:
    response = client_for(org.servant).post(
        f"{BASE}/declarations/", b"{}", content_type="application/json; charset=bz2_codec"
    )
    envelope(response, 400, "parse_error")


@pytest.mark.parametrize(
    ("text", "depth"),
    [
        ("1", 0),
        ('"[[[["', 0),
        ("[]", 1),
        ('{"a": [{"b": [1, 2]}, []]}', 4),
        (r'["a\"[[[[", {"k\\": "]]]"}]', 2),  # brackets inside strings, escaped quotes
        ("[" * 100, 100),  # malformed still counts; json refuses it afterwards
        ('"unterminated [[[[', 0),
    ],
)
def test_nesting_depth(text: str, depth: int) -> None:
    assert nesting_depth(text) == depth


@pytest.mark.parametrize(
    "text",
    [
        '"' + '\\"' * 500_000,  # one string that never ends, full of escaped quotes
        '"\\"' * 333_333,
        "\\" * 1_000_000,
        "[]" * 500_000,
        "[" * 1_000_000,
    ],
    ids=["escaped-quotes", "quote-runs", "backslashes", "flat", "deep"],
)
def test_the_depth_scan_is_linear_on_hostile_megabytes(text: str) -> None:
    start = time.perf_counter()
    nesting_depth(text)
    assert time.perf_counter() - start < 1.0


def test_the_parser_holds_its_limits_on_any_stream() -> None:
    parser = BoundedJSONParser()
    assert parser.parse(io.BytesIO(b'{"a": [1, {"b": null}]}')) == {"a": [1, {"b": None}]}
    with pytest.raises(RequestDataTooBig):
        parser.parse(io.BytesIO(b" " * (settings.DATA_UPLOAD_MAX_MEMORY_SIZE + 1)))
    for hostile in (b"[" * 5000, b'{"a": NaN}', b'{"a": 1' + b"0" * 5000 + b"}", b"\xff{}"):
        with pytest.raises(ParseError):
            parser.parse(io.BytesIO(hostile))


# ---- what a crash may show ---------------------------------------------------------------------


def _boom(*args: Any, **kwargs: Any) -> Any:
    raise RuntimeError("boom: the-secret-detail")


def _upload(data: bytes = b"not a pdf", name: str = "record.pdf") -> io.BytesIO:
    upload = io.BytesIO(data)
    upload.name = name
    return upload


@override_settings(DEBUG=False)
def test_a_crash_on_a_page_shows_our_page_and_no_traceback(
    org: Org, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("declarations.web.verify.verify_pdf", _boom)
    browser = Client(raise_request_exception=False, HTTP_ACCEPT_LANGUAGE="en")
    response = browser.post("/verify/", {"file": _upload()})
    assert response.status_code == 500
    page = response.content.decode()
    assert "Something went wrong" in page
    for leak in ("Traceback", "RuntimeError", "the-secret-detail", "SECRET_KEY", "INSTALLED_APPS"):
        assert leak not in page, leak
    assert settings.SECRET_KEY not in page


@override_settings(DEBUG=False)
def test_a_crash_in_the_api_answers_the_envelope_and_is_logged(
    org: Org, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    monkeypatch.setattr("declarations.api.records.verify_pdf", _boom)
    anon = client_for(None)
    anon.raise_request_exception = False
    with caplog.at_level(logging.ERROR, logger="django.request"):
        response = anon.post(f"{BASE}/verify/", {"file": _upload()}, format="multipart")
    body = envelope(response, 500, "server_error")
    assert "the-secret-detail" not in response.content.decode()
    assert "Traceback" not in response.content.decode() and "fields" not in body
    (logged,) = [r for r in caplog.records if r.name == "django.request"]
    assert logged.exc_info is not None and "the-secret-detail" in str(logged.exc_info[1])
    # the test client still raises it, as for any view: no test can miss a crash
    with pytest.raises(RuntimeError):
        client_for(None).post(f"{BASE}/verify/", {"file": _upload()}, format="multipart")


# ---- client addresses --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("trusted", "peer", "headers", "client"),
    [
        ([], "127.0.0.1", {"HTTP_X_FORWARDED_FOR": "1.2.3.4"}, "127.0.0.1"),
        ([], "127.0.0.1", {"HTTP_X_REAL_IP": "1.2.3.4"}, "127.0.0.1"),
        (PROXY, "127.0.0.1", {"HTTP_X_FORWARDED_FOR": "1.2.3.4"}, "1.2.3.4"),
        (PROXY, "127.0.0.1", {"HTTP_X_REAL_IP": "1.2.3.4"}, "127.0.0.1"),  # never read
        # what the client wrote on the left is passed over: the proxy appended the real peer
        (PROXY, "127.0.0.1", {"HTTP_X_FORWARDED_FOR": "6.6.6.6, 1.2.3.4"}, "1.2.3.4"),
        # two proxies of ours
        (
            ["10.0.0.0/8"],
            "10.0.0.2",
            {"HTTP_X_FORWARDED_FOR": "6.6.6.6, 1.2.3.4, 10.0.0.1"},
            "1.2.3.4",
        ),
        # a request that bypassed the proxy: its header is the client's own word
        (PROXY, "203.0.113.9", {"HTTP_X_FORWARDED_FOR": "1.2.3.4"}, "203.0.113.9"),
        (PROXY, "127.0.0.1", {}, "127.0.0.1"),
        (PROXY, "127.0.0.1", {"HTTP_X_FORWARDED_FOR": "not-an-address"}, "127.0.0.1"),
        (PROXY, "127.0.0.1", {"HTTP_X_FORWARDED_FOR": " 2001:DB8::1 "}, "2001:db8::1"),
    ],
)
def test_client_address(
    trusted: list[str], peer: str, headers: dict[str, str], client: str
) -> None:
    request = RequestFactory().get("/", REMOTE_ADDR=peer, **headers)
    with override_settings(COI_TRUSTED_PROXIES=trusted):
        assert client_address(request) == client


def test_the_trusted_proxies_setting_refuses_what_is_not_an_address(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("COI_TRUSTED_PROXIES", "10.0.0.1, 192.168.0.0/16 ,::1")
    assert env_networks("COI_TRUSTED_PROXIES") == ["10.0.0.1", "192.168.0.0/16", "::1"]
    monkeypatch.setenv("COI_TRUSTED_PROXIES", "10.0.0.1,proxy.internal")
    with pytest.raises(ImproperlyConfigured, match=r"proxy\.internal"):
        env_networks("COI_TRUSTED_PROXIES")
    assert settings.COI_TRUSTED_PROXIES == []  # the default: nobody's headers are believed


def _forged(i: int) -> dict[str, str]:
    return {"HTTP_X_FORWARDED_FOR": f"198.51.100.{i}", "HTTP_X_REAL_IP": f"192.0.2.{i}"}


def _token(i: int, address: dict[str, str]) -> int:
    body = {"username": f"guess-{i}", "password": "x"}  # a new name each time
    response = client_for(None).post(f"{BASE}/auth/token/", body, format="json", **address)
    return int(response.status_code)


@override_settings(REST_FRAMEWORK=rates(**{"login-address": "3/min"}))
def test_forged_addresses_do_not_reset_the_api_login_throttle(org: Org) -> None:
    assert [_token(i, _forged(i)) for i in range(4)] == [400, 400, 400, 429]


@override_settings(REST_FRAMEWORK=rates(**{"login-address": "3/min"}), COI_TRUSTED_PROXIES=PROXY)
def test_behind_a_trusted_proxy_the_api_login_throttle_counts_the_forwarded_address(
    org: Org,
) -> None:
    assert [_token(i, _forged(i)) for i in range(5)] == [400] * 5
    one = {"HTTP_X_FORWARDED_FOR": "203.0.113.7"}
    assert [_token(10 + i, one) for i in range(4)] == [400, 400, 400, 429]


def _api_verify(address: dict[str, str]) -> int:
    response = client_for(None).post(
        f"{BASE}/verify/", {"file": _upload()}, format="multipart", **address
    )
    return int(response.status_code)


def _page_verify(address: dict[str, str]) -> Any:
    return Client(HTTP_ACCEPT_LANGUAGE="en", **address).post("/verify/", {"file": _upload()})


@override_settings(REST_FRAMEWORK=rates(verify="2/min"))
def test_forged_addresses_do_not_reset_the_verification_limits(org: Org) -> None:
    assert [_api_verify(_forged(i)) for i in range(3)] == [200, 200, 429]
    cache.clear()
    codes = [_page_verify(_forged(i)) for i in range(3)]
    assert [r.status_code for r in codes] == [200, 200, 429]
    refused = codes[-1]
    assert "Too many requests" in text(refused)
    assert 1 <= int(refused["Retry-After"]) <= 60
    assert "script-src 'self'" in refused["Content-Security-Policy"]  # our page, like the rest


@override_settings(REST_FRAMEWORK=rates(verify="2/min"))
def test_the_page_and_the_api_share_one_verification_budget(org: Org) -> None:
    assert _api_verify({}) == 200
    assert _page_verify({}).status_code == 200
    assert _page_verify({}).status_code == 429
    assert _api_verify({}) == 429
    # looking a record up by its code is not an upload and is not counted
    assert Client().get("/verify/AAAA-BBBB-CCCC").status_code == 404


@override_settings(REST_FRAMEWORK=rates(verify="2/min"), COI_TRUSTED_PROXIES=PROXY)
def test_behind_a_trusted_proxy_the_verification_limits_count_the_forwarded_address(
    org: Org,
) -> None:
    assert [_api_verify(_forged(i)) for i in range(4)] == [200] * 4
    assert [_page_verify(_forged(10 + i)).status_code for i in range(4)] == [200] * 4
    one = {"HTTP_X_FORWARDED_FOR": "203.0.113.7"}
    assert [_page_verify(one).status_code for _ in range(3)] == [200, 200, 429]


def _login(address: dict[str, str], username: str, password: str) -> int:
    client = Client(HTTP_ACCEPT_LANGUAGE="en", **address)
    return int(client.post(LOGIN, {"username": username, "password": password}).status_code)


def test_forged_addresses_do_not_dodge_the_sign_in_lock(org: Org) -> None:
    name, limit = org.servant.username, settings.AXES_FAILURE_LIMIT
    codes = [_login(_forged(i), name, "wrong") for i in range(limit)]
    assert codes == [200] * (limit - 1) + [429]
    assert _login(_forged(99), name, "pw") == 429  # even the right password, "from elsewhere"
    assert set(AccessAttempt.objects.values_list("ip_address", flat=True)) == {"127.0.0.1"}


@override_settings(COI_TRUSTED_PROXIES=PROXY)
def test_behind_a_trusted_proxy_the_sign_in_lock_is_per_forwarded_address(org: Org) -> None:
    name, limit = org.servant.username, settings.AXES_FAILURE_LIMIT
    assert [_login(_forged(i), name, "wrong") for i in range(limit)] == [200] * limit
    one = {"HTTP_X_FORWARDED_FOR": "203.0.113.7"}
    assert [_login(one, name, "wrong") for _ in range(limit)] == [200] * (limit - 1) + [429]
    assert "203.0.113.7" in set(AccessAttempt.objects.values_list("ip_address", flat=True))
    # a colleague's address is not locked out of the same name
    assert _login({"HTTP_X_FORWARDED_FOR": "203.0.113.8"}, name, "pw") == 302


# ---- addenda -----------------------------------------------------------------------------------


@override_settings(COI_ADDENDA_MAX=2)
def test_addenda_stop_at_the_limit_in_the_api_and_on_the_page(org: Org) -> None:
    declaration = declaration_in(org, S.SUBMITTED)
    for i in range(2):
        declaration_add_addendum(declaration=declaration, actor=org.servant, text=f"Correction {i}")
    events = AuditEvent.objects.filter(declaration=declaration).count()
    response = client_for(org.servant).post(
        declaration_url(declaration, "addenda"), {"text": "3"}, format="json"
    )
    body = envelope(response, 400, "invalid")
    assert body["fields"] == {"text": ["A case can have at most 2 addenda."]}
    response = client_as(org.servant).post(
        reverse("declarations:addendum", args=[declaration.code]), {"addendum-text": "3"}
    )
    assert response.status_code == 400
    assert "A case can have at most 2 addenda." in text(response)
    assert AuditEvent.objects.filter(declaration=declaration).count() == events
    # the limit is per declaration
    other = declaration_in(org, S.SUBMITTED)
    ok(
        client_for(org.servant).post(
            declaration_url(other, "addenda"), {"text": "x"}, format="json"
        ),
        201,
    )
    assert AuditEvent.objects.filter(action=AuditAction.ADDENDUM).count() == 3


# ---- attachment names --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("content", "sent", "kept"),
    [
        (PNG, "evil.html", "evil.png"),
        (PNG, "photo.pdf", "photo.png"),
        (PDF, "../../etc/passwd", "passwd.pdf"),
        (PDF, "Report.PDF", "Report.PDF"),
        (JPEG, "scan.jpeg", "scan.jpeg"),
        (JPEG, "scan.svg", "scan.jpg"),
        (PDF, "Order No 5 of 01.02.2025", "Order No 5 of 01.02.2025.pdf"),
        (PDF, "evil.html. .", "evil.pdf"),
        (PDF, "", "file.pdf"),
        (PNG, "a" * 300 + ".exe", "a" * 251 + ".png"),
    ],
)
def test_a_file_is_named_for_what_it_is(org: Org, content: bytes, sent: str, kept: str) -> None:
    attachment = attachment_add(
        declaration=new_draft(org),
        actor=org.servant,
        filename=sent,
        content=io.BytesIO(content),
        size=len(content),
    )
    assert attachment.filename == kept


def test_a_png_sent_as_html_is_served_as_png(org: Org) -> None:
    declaration = new_draft(org)
    client = client_for(org.servant)
    body = ok(
        client.post(
            declaration_url(declaration, "attachments"),
            {"file": _upload(PNG, "evil.html")},
            format="multipart",
        ),
        201,
    )
    assert (body["filename"], body["content_type"]) == ("evil.png", "image/png")
    response = client.get(f"{BASE}/attachments/{body['id']}/")
    assert response["Content-Type"] == "image/png"
    assert response["Content-Disposition"] == 'attachment; filename="evil.png"'
