"""Hostile and broken input: each gets a clear 4xx in the one error shape and changes nothing."""

from __future__ import annotations

import hashlib
import io
from datetime import timedelta
from typing import Any

import pytest
import time_machine
from django.conf import settings
from django.core.cache import cache
from django.test import override_settings
from django.utils import timezone

from declarations.choices import DeclarationState
from declarations.models import Attachment, AuditEvent, Declaration
from declarations.models.declaration import MATTER_MAX
from tests.api import BASE, act, client_for, declaration_url, ok
from tests.builders import Org, declaration_in, new_draft

S = DeclarationState
pytestmark = pytest.mark.django_db

GOOD = {
    "conflict_type": "actual",
    "category": "kinship",
    "matter": "Tender 7",
    "personal_interest": "My cousin bids.",
}


def good(**kw: Any) -> dict[str, Any]:
    return {**GOOD, "aware_since": str(timezone.localdate()), **kw}


def snapshot() -> tuple[int, int, int]:
    return Declaration.objects.count(), AuditEvent.objects.count(), Attachment.objects.count()


def refused(response: Any, status: int, code: str) -> dict[str, Any]:
    assert response.status_code == status, response.content
    body = response.json()
    assert body["code"] == code, body
    assert body["message"]
    return body


def test_malformed_json(org: Org) -> None:
    before = snapshot()
    response = client_for(org.servant).post(
        f"{BASE}/declarations/", b'{"matter": "x",', content_type="application/json"
    )
    refused(response, 400, "parse_error")
    assert snapshot() == before


def test_not_json_at_all(org: Org) -> None:
    response = client_for(org.servant).post(
        f"{BASE}/declarations/", "matter=x", content_type="text/plain"
    )
    refused(response, 415, "unsupported_media_type")


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("conflict_type", "maybe"),
        ("category", 5),
        ("matter", ["a list"]),
        ("matter", {"an": "object"}),
        ("aware_since", "yesterday"),
        ("aware_since", 20250101),
        ("addressee", None),
        ("matter", ""),
        ("matter", 0),
        ("personal_interest", True),
    ],
)
def test_wrong_types(org: Org, field: str, value: Any) -> None:
    before = snapshot()
    body = refused(
        client_for(org.servant).post(
            f"{BASE}/declarations/", good(**{field: value}), format="json"
        ),
        400,
        "invalid",
    )
    assert list(body["fields"]) == [field]
    assert snapshot() == before


def test_top_level_not_an_object(org: Org) -> None:
    body = refused(
        client_for(org.servant).post(f"{BASE}/declarations/", [1, 2], format="json"),
        400,
        "invalid",
    )
    assert "non_field_errors" in body["fields"]


def test_unknown_fields_are_refused_not_dropped(org: Org) -> None:
    before = snapshot()
    body = refused(
        client_for(org.servant).post(
            f"{BASE}/declarations/", good(state="resolved", reviewer="me"), format="json"
        ),
        400,
        "invalid",
    )
    assert set(body["fields"]) == {"state", "reviewer"}
    assert snapshot() == before


def test_future_aware_since(org: Org) -> None:
    tomorrow = str(timezone.localdate() + timedelta(days=1))
    before = snapshot()
    body = refused(
        client_for(org.servant).post(
            f"{BASE}/declarations/", good(aware_since=tomorrow), format="json"
        ),
        400,
        "invalid",
    )
    assert body["fields"] == {"aware_since": ["This date cannot be in the future."]}
    assert snapshot() == before


def test_over_long_text_is_refused_and_the_limit_is_in_the_schema(org: Org) -> None:
    body = refused(
        client_for(org.servant).post(
            f"{BASE}/declarations/", good(matter="я" * (MATTER_MAX + 1)), format="json"
        ),
        400,
        "invalid",
    )
    assert list(body["fields"]) == ["matter"]
    schema = client_for(org.servant).get("/api/schema/?format=json").json()
    matter = schema["components"]["schemas"]["DeclarationCreateInputRequest"]["properties"]
    assert matter["matter"]["maxLength"] == MATTER_MAX


def test_html_and_script_are_stored_as_text(org: Org) -> None:
    hostile = '<script>alert(1)</script><img src=x onerror="alert(2)"> & </textarea>'
    created = ok(
        client_for(org.servant).post(
            f"{BASE}/declarations/", good(matter=hostile, personal_interest=hostile), format="json"
        ),
        201,
    )
    declaration = Declaration.objects.get(code=created["id"])
    assert declaration.matter == hostile  # kept exactly as typed, for the record
    assert created["matter"] == hostile  # JSON carries text, never markup
    response = client_for(org.servant).get(declaration_url(declaration))
    assert response["Content-Type"] == "application/json"


def test_invalid_transition_input_writes_nothing(org: Org) -> None:
    declaration = declaration_in(org, S.IN_REVIEW)
    before = snapshot()
    body = refused(
        act(
            client_for(org.manager).post,
            declaration_url(declaration, "decide"),
            {
                "reason": "x",
                "measures": [
                    {"kind": "other", "description": "ok"},
                    {"kind": "transfer"},
                    {"kind": "reassign", "substitute": str(org.servants["servant"].code)},
                ],
            },
            format="json",
        ),
        400,
        "invalid",
    )
    measures = body["fields"]["measures"]
    assert measures[0] == {}
    assert set(measures[1]) == {"position", "proposed_date"}
    assert set(measures[2]) == {"substitute"}
    assert snapshot() == before
    declaration.refresh_from_db()
    assert declaration.state == S.IN_REVIEW and not declaration.measures.exists()


def test_measures_list_bounds(org: Org) -> None:
    declaration = declaration_in(org, S.IN_REVIEW)
    client = client_for(org.manager)
    for measures in ([], [{"kind": "other", "description": "x"}] * 11):
        refused(
            act(
                client.post,
                declaration_url(declaration, "decide"),
                {"reason": "r", "measures": measures},
                format="json",
            ),
            400,
            "invalid",
        )


def test_illegal_transition_is_409_and_changes_nothing(org: Org) -> None:
    declaration = declaration_in(org, S.RESOLVED)
    before = snapshot()
    refused(
        act(client_for(org.manager).post, declaration_url(declaration, "start-review")),
        409,
        "conflict",
    )
    refused(
        act(
            client_for(org.servant).post,
            declaration_url(declaration, "withdraw"),
            {"reason": "x"},
            format="json",
        ),
        409,
        "conflict",
    )
    assert snapshot() == before


def test_unknown_ids_and_urls(org: Org) -> None:
    client = client_for(org.auditor)
    refused(
        client.get(f"{BASE}/declarations/00000000-0000-0000-0000-000000000000/"), 404, "not_found"
    )
    refused(client.get(f"{BASE}/declarations/not-a-uuid/"), 404, "not_found")
    refused(client.get(f"{BASE}/no-such-thing/"), 404, "not_found")


def test_bad_filters(org: Org) -> None:
    client = client_for(org.auditor)
    body = refused(
        client.get(f"{BASE}/declarations/", {"state": "bogus", "submitted_from": "x"}),
        400,
        "invalid",
    )
    assert set(body["fields"]) == {"state", "submitted_from"}
    refused(client.get(f"{BASE}/declarations/", {"cursor": "garbage"}), 400, "invalid")
    refused(client.get(f"{BASE}/declarations/", {"unit": ""}), 400, "invalid")
    refused(client.get(f"{BASE}/declarations/", {"overdue": "maybe"}), 400, "invalid")
    refused(client.get(f"{BASE}/declarations/", {"page_size": "0"}), 400, "invalid")
    refused(client.get(f"{BASE}/declarations/", {"page_size": "201"}), 400, "invalid")
    refused(client.get(f"{BASE}/positions/", {"vacant": "perhaps"}), 400, "invalid")


# ---- uploads ----------------------------------------------------------------------------------


def _upload(org: Org, declaration: Declaration, content: bytes, name: str) -> Any:
    f = io.BytesIO(content)
    f.name = name
    return client_for(org.servant).post(
        declaration_url(declaration, "attachments"), {"file": f}, format="multipart"
    )


def test_upload_is_hashed_and_typed_by_content(org: Org) -> None:
    declaration = new_draft(org)
    content = b"\x89PNG\r\n\x1a\n" + b"\0" * 100
    body = ok(_upload(org, declaration, content, "../../etc/photo.pdf"), 201)
    assert body["content_type"] == "image/png"  # what it is, not what the name says
    assert body["filename"] == "photo.png"  # no path
    assert body["sha256"] == hashlib.sha256(content).hexdigest()


@pytest.mark.parametrize(
    ("content", "name"),
    [
        (b"<html><script>alert(1)</script></html>", "invoice.pdf"),
        (b"MZ\x90\x00\x03" + b"\0" * 50, "scan.jpg"),
        (b"PK\x03\x04" + b"\0" * 50, "letter.pdf"),
        (b"", "empty.pdf"),
    ],
)
def test_disguised_uploads_are_415(org: Org, content: bytes, name: str) -> None:
    declaration = new_draft(org)
    before = snapshot()
    response = _upload(org, declaration, content, name)
    if content:
        refused(response, 415, "unsupported_media_type")
    else:
        refused(response, 400, "invalid")  # DRF: "The submitted file is empty."
    assert snapshot() == before


@override_settings(COI_ATTACHMENT_MAX_BYTES=1024)
def test_oversized_upload_is_413(org: Org) -> None:
    declaration = new_draft(org)
    before = snapshot()
    refused(_upload(org, declaration, b"%PDF-" + b"x" * 2000, "big.pdf"), 413, "payload_too_large")
    refused(
        _upload(org, declaration, b"%PDF-" + b"x" * 200_000, "huge.pdf"), 413, "payload_too_large"
    )
    assert snapshot() == before


def test_no_uploads_after_filing(org: Org) -> None:
    declaration = declaration_in(org, S.SUBMITTED)
    refused(_upload(org, declaration, b"%PDF-1.4", "late.pdf"), 409, "conflict")


def test_attachment_hashes_are_frozen_into_the_notice(org: Org) -> None:
    declaration = new_draft(org)
    ok(_upload(org, declaration, b"%PDF-1.4 evidence", "e.pdf"), 201)
    ok(act(client_for(org.servant).post, declaration_url(declaration, "submit")))
    event = AuditEvent.objects.get(declaration=declaration, seq=1)
    (frozen,) = event.data["notice"]["attachments"]
    assert frozen["sha256"] == declaration.attachments.get().sha256


# ---- versions -------------------------------------------------------------------------------


def test_etag_and_stale_if_match(org: Org) -> None:
    declaration = new_draft(org)
    client = client_for(org.servant)
    first = client.get(declaration_url(declaration))
    etag = first["ETag"]
    assert etag.strip('"') == first.json()["version"]
    changed = client.patch(
        declaration_url(declaration), {"matter": "New"}, format="json", HTTP_IF_MATCH=etag
    )
    assert changed.status_code == 200 and changed["ETag"] != etag
    stale = client.patch(
        declaration_url(declaration), {"matter": "Again"}, format="json", HTTP_IF_MATCH=etag
    )
    refused(stale, 412, "precondition_failed")
    declaration.refresh_from_db()
    assert declaration.matter == "New"
    refused(
        client.post(declaration_url(declaration, "submit"), HTTP_IF_MATCH=etag),
        412,
        "precondition_failed",
    )
    ok(client.post(declaration_url(declaration, "submit"), HTTP_IF_MATCH=changed["ETag"]))


# ---- language and throttling ------------------------------------------------------------------


def test_accept_language_selects_messages_and_labels(org: Org) -> None:
    declaration = declaration_in(org, S.SUBMITTED)
    texts = {}
    for lang in ("kk", "ru", "en"):
        client = client_for(org.servant, HTTP_ACCEPT_LANGUAGE=lang)
        label = client.get(declaration_url(declaration)).json()["state_display"]
        error = client.post(f"{BASE}/declarations/", {}, format="json").json()["message"]
        texts[lang] = (label, error)
    assert texts["en"] == ("Submitted", "Some fields are not valid.")
    assert texts["ru"][0] == "Подано" and texts["kk"][0] == "Берілді"
    assert len({t[1] for t in texts.values()}) == 3, texts


@override_settings(
    REST_FRAMEWORK={
        **settings.REST_FRAMEWORK,
        "DEFAULT_THROTTLE_RATES": {"login-address": "3/min", "write": "2/min"},
    }
)
def test_throttling(org: Org) -> None:
    cache.clear()
    anon = client_for(None)
    codes = [
        anon.post(
            f"{BASE}/auth/token/", {"username": "x", "password": "y"}, format="json"
        ).status_code
        for _ in range(4)
    ]
    assert codes == [400, 400, 400, 429]
    body = anon.post(f"{BASE}/auth/token/", {"username": "x", "password": "y"}, format="json")
    assert body.json()["code"] == "throttled" and body.json()["retry_after"] > 0
    assert body["Retry-After"]
    client = client_for(org.servant)
    writes = [
        client.post(f"{BASE}/declarations/", good(), format="json").status_code for _ in range(3)
    ]
    assert writes == [201, 201, 429]
    assert client.get(f"{BASE}/declarations/").status_code == 200  # reads are not limited
    cache.clear()


def test_token_login_and_logout(org: Org) -> None:
    org.servant.set_password("s3cret-pass")
    org.servant.save()
    anon = client_for(None)
    body = ok(
        anon.post(
            f"{BASE}/auth/token/",
            {"username": org.servant.username, "password": "s3cret-pass"},
            format="json",
        )
    )
    me = ok(anon.get(f"{BASE}/me/", HTTP_AUTHORIZATION=f"Token {body['token']}"))
    assert me["servant"]["id"] == str(org.servants["servant"].code)
    assert me["direct_manager"]["id"] == str(org.servants["manager"].code)
    ok(anon.delete(f"{BASE}/auth/token/", HTTP_AUTHORIZATION=f"Token {body['token']}"), 204)
    refused(
        anon.get(f"{BASE}/me/", HTTP_AUTHORIZATION=f"Token {body['token']}"),
        401,
        "authentication_failed",
    )


def test_expired_token(org: Org) -> None:
    client = client_for(org.servant)
    ok(client.get(f"{BASE}/me/"))
    with time_machine.travel(
        timezone.now() + timedelta(seconds=settings.COI_TOKEN_TTL_SECONDS + 5)
    ):
        body = refused(client.get(f"{BASE}/me/"), 401, "authentication_failed")
    assert "expired" in body["message"]
