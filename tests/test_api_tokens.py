"""API tokens, one per client (issue 18, points 9 and 10).

A sign-in makes a token of its own and leaves the user's others working (the issue measured the
opposite: the first token answered 401 after a second sign-in); the caller lists their tokens,
ends one by id, or signs out the one they send; ``Bearer`` and ``Token`` both work; only the
key's digest is stored; a user keeps at most ``COI_TOKEN_MAX_PER_USER``.
"""

from __future__ import annotations

import hashlib
from datetime import timedelta
from typing import Any

import pytest
import time_machine
from django.conf import settings
from django.db import connection
from django.test import Client, override_settings
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone
from drf_spectacular.generators import SchemaGenerator

from declarations.models import ApiToken
from declarations.services.tokens import token_issue, tokens_sweep
from tests.api import BASE, client_for, ok
from tests.builders import Org

pytestmark = pytest.mark.django_db

SIGN_IN = f"{BASE}/auth/token/"
TOKENS = f"{BASE}/auth/tokens/"
ME = f"{BASE}/me/"


def sign_in(user: Any, **body: str) -> dict[str, Any]:
    """``user`` signs in through the API (password ``pw``), as a program would."""
    user.set_password("pw")
    user.save()
    headers = {"HTTP_USER_AGENT": body.pop("user_agent")} if "user_agent" in body else {}
    answer = client_for(None).post(
        SIGN_IN,
        {"username": user.username, "password": "pw", **body},
        format="json",
        **headers,
    )
    return dict(ok(answer))


def calling(key: str, scheme: str = "Bearer") -> Any:
    return client_for(None, HTTP_AUTHORIZATION=f"{scheme} {key}")


def refused(response: Any) -> dict[str, Any]:
    """401 in the one error shape, naming the scheme to use."""
    assert response.status_code == 401, (response.status_code, response.content[:300])
    assert response["WWW-Authenticate"] == "Bearer"
    body: dict[str, Any] = response.json()
    assert body["code"] in ("not_authenticated", "authentication_failed") and body["message"]
    return body


# ---- the scheme ------------------------------------------------------------------------------


@pytest.mark.parametrize("scheme", ["Bearer", "bearer", "Token", "token"])
def test_a_token_works_under_bearer_and_under_token(org: Org, scheme: str) -> None:
    key = sign_in(org.servant)["token"]
    assert ok(calling(key, scheme).get(ME))["username"] == org.servant.username


@pytest.mark.parametrize(
    "header",
    [
        "",
        "Basic c2VydmFudDpwdw==",
        "Bearer",
        "Bearer two words",
        "Bearer not-a-token",
        "Token not-a-token",
        "Bearer caf\u00e9",
    ],
)
def test_a_wrong_scheme_or_a_wrong_key_is_a_401_naming_bearer(org: Org, header: str) -> None:
    sign_in(org.servant)  # a real token exists: none of these is it
    refused(client_for(None, HTTP_AUTHORIZATION=header).get(ME))


def test_a_revoked_key_is_told_to_sign_in_again(org: Org) -> None:
    key = sign_in(org.servant)["token"]
    ok(calling(key).delete(SIGN_IN), 204)
    assert refused(calling(key).get(ME))["code"] == "authentication_failed"


# ---- one token per client ---------------------------------------------------------------------


def test_a_second_sign_in_leaves_the_first_token_working(org: Org) -> None:
    first = sign_in(org.servant, client="Laptop")["token"]
    second = sign_in(org.servant, client="HR system")["token"]
    assert first != second
    assert ok(calling(first).get(ME))["username"] == org.servant.username
    assert ok(calling(second).get(ME))["username"] == org.servant.username


def test_the_list_shows_each_token_and_marks_the_current_one(org: Org) -> None:
    laptop = sign_in(org.servant, client="Laptop")
    hr = sign_in(org.servant, client="HR system")
    sign_in(org.servant2)  # another user's: not listed
    listed = ok(calling(hr["token"]).get(TOKENS))
    assert [(t["id"], t["client"], t["current"]) for t in listed] == [
        (hr["id"], "HR system", True),
        (laptop["id"], "Laptop", False),
    ]
    assert set(listed[0]) == {"id", "client", "created_at", "last_used_at", "expires_at", "current"}
    assert listed[0]["expires_at"] == hr["expires_at"]
    assert laptop["token"] not in str(listed) and hr["token"] not in str(listed)
    # the same list from the other token: the other one is current
    assert [t["current"] for t in ok(calling(laptop["token"]).get(TOKENS))] == [False, True]


def test_the_client_is_named_by_the_user_agent_when_not_given(org: Org) -> None:
    agent = "Mozilla/5.0 \x00(X11;\tLinux)  " + "x" * 200
    body = sign_in(org.servant, user_agent=agent)
    assert body["client"] == ("Mozilla/5.0 (X11; Linux) " + "x" * 200)[:100]
    assert ApiToken.objects.get(code=body["id"]).client == body["client"]


def test_revoking_a_token_by_id_ends_only_that_one(org: Org) -> None:
    laptop = sign_in(org.servant, client="Laptop")
    hr = sign_in(org.servant, client="HR system")
    ok(calling(hr["token"]).delete(f"{TOKENS}{laptop['id']}/"), 204)
    refused(calling(laptop["token"]).get(ME))
    assert [t["id"] for t in ok(calling(hr["token"]).get(TOKENS))] == [hr["id"]]
    # again: it is gone
    assert ok(calling(hr["token"]).delete(f"{TOKENS}{laptop['id']}/"), 404)["code"] == "not_found"


def test_another_users_token_id_is_a_404_and_that_token_keeps_working(org: Org) -> None:
    theirs = sign_in(org.servant2)
    mine = sign_in(org.servant)["token"]
    response = calling(mine).delete(f"{TOKENS}{theirs['id']}/")
    assert ok(response, 404)["code"] == "not_found"
    assert ok(calling(theirs["token"]).get(ME))["username"] == org.servant2.username


def test_sign_out_ends_only_the_token_it_is_sent_with(org: Org) -> None:
    laptop = sign_in(org.servant, client="Laptop")
    hr = sign_in(org.servant, client="HR system")
    ok(calling(laptop["token"]).delete(SIGN_IN), 204)
    refused(calling(laptop["token"]).get(ME))
    assert [t["id"] for t in ok(calling(hr["token"]).get(TOKENS))] == [hr["id"]]


def test_sign_out_needs_a_token_a_session_has_the_pages_own(org: Org) -> None:
    sign_in(org.servant)
    browser = Client(HTTP_ACCEPT_LANGUAGE="en")
    browser.force_login(org.servant)
    assert browser.delete(SIGN_IN).status_code == 401
    assert ApiToken.objects.filter(user=org.servant).count() == 1
    # the list and the revoke take the session too
    assert ok(browser.get(TOKENS))[0]["current"] is False


def test_no_token_no_list() -> None:
    refused(client_for(None).get(TOKENS))


# ---- expiry, storage, the cap ---------------------------------------------------------------


def test_an_expired_token_is_refused_and_the_sweep_deletes_the_others(org: Org) -> None:
    old = sign_in(org.servant)
    unused = sign_in(org.servant2)
    later = timezone.now() + timedelta(seconds=settings.COI_TOKEN_TTL_SECONDS + 5)
    with time_machine.travel(later):
        fresh = sign_in(org.manager)["token"]
        assert "expired" in refused(calling(old["token"]).get(ME))["message"]
        assert not ApiToken.objects.filter(code=old["id"]).exists()  # deleted when it came
        assert tokens_sweep(now=timezone.now()) == 1  # servant2's, never sent again
        assert not ApiToken.objects.filter(code=unused["id"]).exists()
        assert ok(calling(fresh).get(ME))["username"] == org.manager.username


def test_the_key_is_stored_only_as_its_digest(org: Org) -> None:
    body = sign_in(org.servant)
    key = body["token"]
    assert len(key) >= 43  # 32 random bytes
    row = ApiToken.objects.filter(code=body["id"]).values().get()
    assert row["digest"] == hashlib.sha256(key.encode()).hexdigest()
    assert key not in str(row)
    with connection.cursor() as cursor:
        cursor.execute("SELECT * FROM declarations_apitoken")
        assert key not in str(cursor.fetchall())


def test_last_used_moves_at_most_once_a_minute(org: Org) -> None:
    issued = token_issue(user=org.servant, client="script")
    client = calling(issued.key)
    with CaptureQueriesContext(connection) as queries:
        ok(client.get(ME))
    assert not [q for q in queries.captured_queries if q["sql"].startswith("UPDATE")]
    assert ApiToken.objects.get().last_used_at == issued.token.last_used_at
    with time_machine.travel(timezone.now() + timedelta(minutes=2)):
        ok(client.get(ME))
        moved = ApiToken.objects.get().last_used_at
    assert moved > issued.token.last_used_at


@override_settings(COI_TOKEN_MAX_PER_USER=3)
def test_beyond_the_cap_a_sign_in_ends_the_least_recently_used(org: Org) -> None:
    start = timezone.now()
    keys = []
    for minute in range(3):
        with time_machine.travel(start + timedelta(minutes=minute)):
            keys.append(token_issue(user=org.servant, client=f"device {minute}").key)
    with time_machine.travel(start + timedelta(minutes=5)):
        ok(calling(keys[0]).get(ME))  # the oldest is in use: device 1 is now the least used
        fourth = token_issue(user=org.servant, client="device 3").key
        assert ApiToken.objects.filter(user=org.servant).count() == 3
        refused(calling(keys[1]).get(ME))
        for key in (keys[0], keys[2], fourth):
            ok(calling(key).get(ME))
    assert ApiToken.objects.filter(user=org.servant2).count() == 0  # nobody else's counted


# ---- the schema and the admin -----------------------------------------------------------------


def test_the_schema_declares_bearer_and_the_auth_operations() -> None:
    schema = SchemaGenerator().get_schema(request=None, public=True)
    scheme = schema["components"]["securitySchemes"]["bearerAuth"]
    assert (scheme["type"], scheme["scheme"]) == ("http", "bearer")
    assert "Authorization: Token <token>" in scheme["description"]
    operations = {
        op["operationId"]: (method, path, op)
        for path, item in schema["paths"].items()
        for method, op in item.items()
    }
    for name, method, path in [
        ("sign_in", "post", "/api/v1/auth/token/"),
        ("sign_out", "delete", "/api/v1/auth/token/"),
        ("tokens_list", "get", "/api/v1/auth/tokens/"),
        ("tokens_revoke", "delete", "/api/v1/auth/tokens/{id}/"),
    ]:
        found_method, found_path, op = operations[name]
        assert (found_method, found_path) == (method, path)
        assert op["tags"] == ["auth"] and op["summary"] and op["description"]
        assert not any(p["name"] == "If-Match" for p in op.get("parameters", []))
    assert operations["sign_in"][2].get("security", []) in ([], [{}])
    assert operations["sign_out"][2]["security"] == [{"bearerAuth": []}]
    assert {"401", "404"} <= set(operations["tokens_revoke"][2]["responses"])


def test_the_admin_lists_a_users_tokens_without_keys_and_revokes_them(org: Org) -> None:
    body = sign_in(org.servant, client="Laptop")
    kept = sign_in(org.servant2)
    admin = Client(HTTP_ACCEPT_LANGUAGE="en")
    admin.force_login(org.admin)
    url = reverse("admin:declarations_apitoken_changelist")
    page = admin.get(url, {"q": org.servant.username})
    assert page.status_code == 200 and b"Laptop" in page.content
    token = ApiToken.objects.get(code=body["id"])
    detail = admin.get(reverse("admin:declarations_apitoken_change", args=[token.pk]))
    assert detail.status_code == 200 and b"Laptop" in detail.content
    for content in (page.content, detail.content):
        assert body["token"].encode() not in content and token.digest.encode() not in content
    pk = token.pk
    admin.post(url, {"action": "revoke", "_selected_action": [pk]})
    refused(calling(body["token"]).get(ME))
    ok(calling(kept["token"]).get(ME))
