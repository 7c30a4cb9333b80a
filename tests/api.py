"""Calling the API as a persona: a token client per user, and short helpers."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from rest_framework.test import APIClient

from declarations.api.common import version_of
from declarations.models import Declaration, Measure
from declarations.services.tokens import token_issue

BASE = "/api/v1"


def client_for(user: Any | None, **headers: str) -> APIClient:
    """A client authenticated with a token of its own, issued as a sign-in issues it (``None``:
    anonymous), reading English unless told otherwise (the deployment's default language is
    Russian)."""
    headers.setdefault("HTTP_ACCEPT_LANGUAGE", "en")
    client = APIClient(**headers)
    if user is not None:
        key = token_issue(user=user, client="tests").key
        client.credentials(HTTP_AUTHORIZATION=f"Bearer {key}")
    return client


def declaration_url(declaration: Any, action: str = "") -> str:
    return f"{BASE}/declarations/{declaration.code}/" + (f"{action}/" if action else "")


def measure_url(measure: Any, action: str = "") -> str:
    return f"{BASE}/measures/{measure.code}/" + (f"{action}/" if action else "")


def ok(response: Any, status: int = 200) -> Any:
    assert response.status_code == status, (response.status_code, response.content[:2000])
    return response.json() if response.content else None


_VERSIONED = re.compile(r"/(declarations|measures)/([0-9a-fA-F-]{36})/")


def current_etag(url: str) -> str | None:
    """The ``ETag`` a client that has just read the object at ``url`` (a declaration or a
    measure, or one of their actions) holds; a made-up one when there is no such object, and
    ``None`` when ``url`` names neither (nothing to send)."""
    match = _VERSIONED.search(url)
    if match is None:
        return None
    model = Declaration if match[1] == "declarations" else Measure
    obj = model.objects.filter(code=match[2]).first()
    return f'"{version_of(obj)}"' if obj is not None else '"none"'


def act(send: Callable[..., Any], url: str, *args: Any, **kwargs: Any) -> Any:
    """A write as a client makes it after reading the object: ``send`` (``client.post``,
    ``client.patch``, ``client.delete``) with ``If-Match`` set to the object's current
    ``ETag``, which a state change or an edit must carry (428 without, issue 18). The version
    is taken from the database, not by a GET, so that the read leaves no trace (access log,
    query counts) in the test."""
    etag = current_etag(url)
    if etag is not None:
        kwargs.setdefault("HTTP_IF_MATCH", etag)
    return send(url, *args, **kwargs)
