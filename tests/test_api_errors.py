"""Every status under ``/api/`` answers JSON in the one envelope, in the caller's language, never
an HTML page, with ``DEBUG`` on (the demo an integrator tries) or off (issue 18, point 6); and
versions at run time: a measure's ``version`` is its ``ETag``, and a state change without
``If-Match`` is a 428 (point 4)."""

from __future__ import annotations

import io
from typing import Any

import pytest
from django.conf import settings as django_settings
from django.core.cache import cache
from django.db import OperationalError
from django.template.defaultfilters import filesizeformat
from django.test import override_settings
from django.utils import timezone, translation
from django.utils.translation import gettext, ngettext

from declarations.choices import DeclarationState, MeasureState
from declarations.models import AuditEvent
from declarations.services.attachments import attachment_add
from declarations.web.middleware import SessionLimitMiddleware
from tests.api import BASE, act, client_for, current_etag, declaration_url, measure_url, ok
from tests.builders import Org, declaration_in, new_draft, pending_measure

pytestmark = pytest.mark.django_db

S = DeclarationState
LANGUAGES = ["kk", "ru", "en"]
NOBODY = "00000000-0000-4000-8000-000000000000"


@pytest.fixture(params=[False, True], ids=["debug-off", "debug-on"])
def debug(request: Any, settings: Any) -> bool:
    """Both modes: Django shows its technical pages (HTML) only with ``DEBUG`` on."""
    settings.DEBUG = request.param
    return bool(request.param)


@pytest.fixture(autouse=True)
def _fresh_counters() -> Any:
    cache.clear()
    yield
    cache.clear()


def envelope(response: Any, status: int, code: str) -> dict[str, Any]:
    """The one error shape, as JSON, with ``status`` and ``code``."""
    assert response.status_code == status, (response.status_code, response.content[:300])
    assert response["Content-Type"] == "application/json", response["Content-Type"]
    body = response.json()
    assert set(body) <= {"code", "message", "fields", "retry_after"}, body
    assert body["code"] == code and body["message"], body
    return body


def in_language(language: str, message: str, english: str) -> None:
    """``message`` is ``english`` translated: itself in English, something else in kk and ru."""
    assert (message == english) is (language == "en"), (language, message)


def translated(language: str, text: str) -> str:
    with translation.override(language):
        return gettext(text)


# ---- 404: no URL matched ------------------------------------------------------------------------


@pytest.mark.parametrize("language", LANGUAGES)
@pytest.mark.parametrize(
    "path",
    [
        f"{BASE}/declarations/not-a-uuid/",
        f"{BASE}/measures/12345/consent/",
        f"{BASE}/no-such-thing/",
        "/api/v2/declarations/",
    ],
)
def test_an_unknown_path_or_a_malformed_id_is_a_404_envelope(
    org: Org, debug: bool, language: str, path: str
) -> None:
    client = client_for(org.servant, HTTP_ACCEPT_LANGUAGE=language)
    for send in (client.get, client.post):
        body = envelope(send(path), 404, "not_found")
        assert body["message"] == translated(language, "Not found.")
        in_language(language, body["message"], "Not found.")


def test_pages_keep_their_html_404(debug: bool) -> None:
    response = client_for(None).get("/declarations/not-a-uuid/")
    assert response.status_code == 404
    assert response["Content-Type"].startswith("text/html")


# ---- 413: a body over the limit -----------------------------------------------------------------


@pytest.mark.parametrize("language", LANGUAGES)
def test_json_over_the_limit_is_a_413_envelope(org: Org, debug: bool, language: str) -> None:
    client = client_for(org.servant, HTTP_ACCEPT_LANGUAGE=language)
    big = '{"matter": "' + "x" * django_settings.DATA_UPLOAD_MAX_MEMORY_SIZE + '"}'
    before = AuditEvent.objects.count()
    for method, path in [
        ("post", f"{BASE}/declarations/"),
        ("patch", declaration_url(new_draft(org))),
        ("post", f"{BASE}/auth/token/"),
    ]:
        response = getattr(client, method)(path, big, content_type="application/json")
        body = envelope(response, 413, "payload_too_large")
        english = "The request body is larger than %(size)s."
        with translation.override(language):
            size = filesizeformat(django_settings.DATA_UPLOAD_MAX_MEMORY_SIZE)
            assert body["message"] == gettext(english) % {"size": size}, (path, body)
        in_language(language, translated(language, english), english)
    assert AuditEvent.objects.count() == before


def test_a_body_django_refuses_before_the_view_is_a_413_envelope(
    org: Org, debug: bool, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Something reads the body before the view (Django refuses it: a 400 page, the technical
    one with ``DEBUG``): under ``/api/`` it is the 413 envelope all the same."""
    passing = SessionLimitMiddleware.__call__

    def reads_the_body(self: SessionLimitMiddleware, request: Any) -> Any:
        request.body  # noqa: B018 - what a middleware reading the body does
        return passing(self, request)

    monkeypatch.setattr(SessionLimitMiddleware, "__call__", reads_the_body)
    client = client_for(org.servant)
    client.raise_request_exception = False
    big = '{"matter": "' + "x" * django_settings.DATA_UPLOAD_MAX_MEMORY_SIZE + '"}'
    response = client.post(f"{BASE}/declarations/", big, content_type="application/json")
    envelope(response, 413, "payload_too_large")
    small = client.post(f"{BASE}/declarations/", {}, format="json")
    assert small.status_code == 400 and small.json()["code"] == "invalid"


def test_an_upload_over_its_limit_stays_a_413(org: Org, debug: bool) -> None:
    declaration = new_draft(org)
    upload = io.BytesIO(b"%PDF-" + b"x" * (django_settings.COI_ATTACHMENT_MAX_BYTES + 1))
    upload.name = "big.pdf"
    response = client_for(org.servant).post(
        declaration_url(declaration, "attachments"), {"file": upload}, format="multipart"
    )
    envelope(response, 413, "payload_too_large")


# ---- 405 and 406 --------------------------------------------------------------------------------


@pytest.mark.parametrize("language", LANGUAGES)
def test_a_wrong_method_is_a_405_envelope_with_allow(org: Org, debug: bool, language: str) -> None:
    declaration = new_draft(org)
    client = client_for(org.servant, HTTP_ACCEPT_LANGUAGE=language)
    response = client.put(declaration_url(declaration), {}, format="json")
    body = envelope(response, 405, "method_not_allowed")
    allowed = {m.strip() for m in response["Allow"].split(",")}
    assert {"GET", "PATCH", "DELETE"} <= allowed and "PUT" not in allowed
    english = "%(method)s is not allowed here. Allowed: %(allowed)s."
    assert body["message"] == translated(language, english) % {
        "method": "PUT",
        "allowed": response["Allow"],
    }
    in_language(language, translated(language, english), english)
    envelope(client.get(declaration_url(declaration, "submit")), 405, "method_not_allowed")


@pytest.mark.parametrize("language", LANGUAGES)
@pytest.mark.parametrize("accept", ["text/html", "application/xml", "image/png"])
def test_a_wrong_accept_is_a_406_answered_in_json(
    org: Org, debug: bool, language: str, accept: str
) -> None:
    client = client_for(org.servant, HTTP_ACCEPT_LANGUAGE=language, HTTP_ACCEPT=accept)
    body = envelope(client.get(f"{BASE}/me/"), 406, "not_acceptable")
    english = "This operation answers only in %(types)s; ask for it in Accept."
    assert body["message"] == translated(language, english) % {"types": "application/json"}
    in_language(language, translated(language, english), english)


def test_a_download_may_be_asked_for_by_its_type(org: Org) -> None:
    """``Accept: application/pdf`` on a PDF is what a strict client sends: not a 406. Asking a
    download for HTML is; its 404 is JSON whatever was asked for."""
    draft = new_draft(org)
    attachment = attachment_add(
        declaration=draft,
        actor=org.servant,
        filename="e.pdf",
        content=io.BytesIO(b"%PDF-1"),
        size=6,
    )
    url = f"{BASE}/attachments/{attachment.code}/"
    for accept in ("application/pdf", "application/pdf, application/json;q=0.5", "*/*"):
        response = client_for(org.servant, HTTP_ACCEPT=accept).get(url)
        assert response.status_code == 200 and response.content == b"%PDF-1", accept
    envelope(client_for(org.servant, HTTP_ACCEPT="text/html").get(url), 406, "not_acceptable")
    missing = client_for(org.servant, HTTP_ACCEPT="application/pdf").get(
        f"{BASE}/attachments/{NOBODY}/"
    )
    envelope(missing, 404, "not_found")
    # a JSON operation is not a download
    refused = client_for(org.servant, HTTP_ACCEPT="application/pdf").get(f"{BASE}/me/")
    envelope(refused, 406, "not_acceptable")


# ---- 429 ----------------------------------------------------------------------------------------


@pytest.mark.parametrize("language", LANGUAGES)
def test_throttling_speaks_one_language(org: Org, language: str) -> None:
    rest: dict[str, Any] = django_settings.REST_FRAMEWORK
    rest = {**rest, "DEFAULT_THROTTLE_RATES": {**rest["DEFAULT_THROTTLE_RATES"], "write": "1/min"}}
    client = client_for(org.servant, HTTP_ACCEPT_LANGUAGE=language)
    with override_settings(REST_FRAMEWORK=rest):
        client.post(f"{BASE}/declarations/", {}, format="json")
        response = client.post(f"{BASE}/declarations/", {}, format="json")
    body = envelope(response, 429, "throttled")
    seconds = body["retry_after"]
    assert 0 < seconds <= 60 and response["Retry-After"] == str(seconds)
    with translation.override(language):
        expected = ngettext(
            "Too many requests. Try again in %(seconds)s second.",
            "Too many requests. Try again in %(seconds)s seconds.",
            seconds,
        ) % {"seconds": seconds}
    assert body["message"] == expected
    in_language(language, expected, f"Too many requests. Try again in {seconds} seconds.")
    assert "Expected" not in body["message"] and "throttled" not in body["message"]


# ---- 500 and 503 --------------------------------------------------------------------------------


def _boom(*args: Any, **kwargs: Any) -> Any:
    raise RuntimeError("boom: the-secret-detail")


@pytest.mark.parametrize("language", LANGUAGES)
def test_a_crash_in_a_view_is_a_500_envelope(
    org: Org, debug: bool, language: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("declarations.api.people.MeView.get", _boom)
    client = client_for(org.servant, HTTP_ACCEPT_LANGUAGE=language)
    client.raise_request_exception = False
    body = envelope(client.get(f"{BASE}/me/"), 500, "server_error")
    english = "Something went wrong on our side. The error is logged."
    assert body["message"] == translated(language, english)
    in_language(language, body["message"], english)
    assert "the-secret-detail" not in str(body)


def test_a_crash_outside_a_view_is_a_500_envelope(
    org: Org, debug: bool, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A middleware that fails: Django's 500 page (its technical page with ``DEBUG``) becomes
    the envelope under ``/api/``; pages keep theirs."""
    monkeypatch.setattr(SessionLimitMiddleware, "__call__", _boom)
    client = client_for(org.servant)
    client.raise_request_exception = False
    body = envelope(client.get(f"{BASE}/me/"), 500, "server_error")
    assert "the-secret-detail" not in str(body)
    page = client.get("/")
    assert page.status_code == 500 and page["Content-Type"].startswith("text/html")


@pytest.mark.parametrize("language", LANGUAGES)
def test_the_database_away_is_a_503_envelope(
    org: Org, debug: bool, language: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    def away(*args: Any, **kwargs: Any) -> Any:
        raise OperationalError("server closed the connection unexpectedly")

    monkeypatch.setattr("declarations.api.people.MeView.get", away)
    client = client_for(org.servant, HTTP_ACCEPT_LANGUAGE=language)
    response = client.get(f"{BASE}/me/")
    body = envelope(response, 503, "unavailable")
    assert int(response["Retry-After"]) > 0
    english = "The service is briefly unavailable. Try again in a few seconds."
    assert body["message"] == translated(language, english)
    in_language(language, body["message"], english)


# ---- versions: a measure's version, If-Match required -------------------------------------------


def test_a_measures_version_is_its_etag_and_opens_its_writes(org: Org) -> None:
    declaration = declaration_in(org, S.AWAITING_CONSENT)
    measure = pending_measure(declaration)
    servant = client_for(org.servant)
    read = servant.get(measure_url(measure))
    version = ok(read)["version"]
    assert read["ETag"] == f'"{version}"'
    listed = ok(servant.get(declaration_url(declaration, "measures")))
    assert [m["version"] for m in listed] == [version]
    paged = ok(servant.get(f"{BASE}/measures/"))["results"]
    assert [m["version"] for m in paged if m["id"] == str(measure.code)] == [version]

    url = measure_url(measure, "consent")
    answer = {"decision": "accept"}
    envelope(servant.post(url, answer, format="json"), 428, "precondition_required")
    envelope(
        servant.post(url, answer, format="json", HTTP_IF_MATCH="*"), 428, "precondition_required"
    )
    envelope(
        servant.post(url, answer, format="json", HTTP_IF_MATCH='"stale"'),
        412,
        "precondition_failed",
    )
    measure.refresh_from_db()
    assert measure.state == MeasureState.PENDING_CONSENT  # refusals change nothing
    done = servant.post(url, answer, format="json", HTTP_IF_MATCH=version)  # bare, as in the body
    assert ok(done)["state"] == MeasureState.PENDING_ORDER
    assert done["ETag"] == f'"{done.json()["version"]}"' != read["ETag"]
    # HR's order, on the version the consent answered with
    hr = client_for(org.hr)
    order = {"order_number": "17-k", "order_date": str(timezone.localdate())}
    implement = measure_url(measure, "implement")
    envelope(hr.post(implement, order, format="json"), 428, "precondition_required")
    envelope(
        hr.post(implement, order, format="json", HTTP_IF_MATCH=read["ETag"]),
        412,
        "precondition_failed",
    )
    ok(hr.post(implement, order, format="json", HTTP_IF_MATCH=done["ETag"]))


REQUIRED = [
    # (state, persona, method, action, body)
    (S.DRAFT, "servant", "patch", "", {"matter": "New"}),
    (S.DRAFT, "servant", "delete", "", None),
    (S.DRAFT, "servant", "post", "submit", {}),
    (S.SUBMITTED, "manager", "post", "start-review", {}),
    (S.SUBMITTED, "servant", "post", "withdraw", {"reason": "Mistake"}),
    (S.IN_REVIEW, "manager", "post", "no-conflict", {"reason": "None"}),
    (
        S.IN_REVIEW,
        "manager",
        "post",
        "decide",
        {"reason": "r", "measures": [{"kind": "other", "description": "d"}]},
    ),
]


@pytest.mark.parametrize(("state", "persona", "method", "action", "body"), REQUIRED)
def test_a_state_change_without_if_match_is_a_428_and_changes_nothing(
    org: Org, state: str, persona: str, method: str, action: str, body: Any
) -> None:
    declaration = declaration_in(org, state)
    client = client_for(org.users[persona])
    url = declaration_url(declaration, action)
    events = AuditEvent.objects.count()
    send = getattr(client, method)
    refused = send(url, body, format="json") if body is not None else send(url)
    envelope(refused, 428, "precondition_required")
    declaration.refresh_from_db()
    assert declaration.state == state and AuditEvent.objects.count() == events
    # the same request, naming the version just read, goes through
    done = act(send, url, body, format="json") if body is not None else act(send, url)
    assert done.status_code in (200, 204), done.content


@pytest.mark.parametrize("language", LANGUAGES)
def test_the_428_says_what_to_send(org: Org, language: str) -> None:
    declaration = declaration_in(org, S.SUBMITTED)
    client = client_for(org.manager, HTTP_ACCEPT_LANGUAGE=language)
    body = envelope(
        client.post(declaration_url(declaration, "start-review")), 428, "precondition_required"
    )
    english = "This change needs If-Match: send the ETag from your last read."
    assert body["message"] == translated(language, english)
    in_language(language, body["message"], english)
    assert "If-Match" in body["message"] and "ETag" in body["message"]


def test_an_append_needs_no_if_match_but_a_stale_one_is_refused(org: Org) -> None:
    """A comment changes nothing already written: no version needed; a stale one named is still
    a 412."""
    declaration = declaration_in(org, S.IN_REVIEW)
    manager = client_for(org.manager)
    url = declaration_url(declaration, "comments")
    etag = current_etag(url)
    ok(manager.post(url, {"text": "Asked HR"}, format="json"), 201)
    envelope(
        manager.post(url, {"text": "Again"}, format="json", HTTP_IF_MATCH=etag),
        412,
        "precondition_failed",
    )
