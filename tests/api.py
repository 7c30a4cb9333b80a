"""Calling the API as a persona: a token client per user, and short helpers."""

from __future__ import annotations

from typing import Any

from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

BASE = "/api/v1"


def client_for(user: Any | None, **headers: str) -> APIClient:
    """A client authenticated with a real token (``None``: anonymous), reading English unless
    told otherwise (the deployment's default language is Russian)."""
    headers.setdefault("HTTP_ACCEPT_LANGUAGE", "en")
    client = APIClient(**headers)
    if user is not None:
        token, _ = Token.objects.get_or_create(user=user)
        client.credentials(HTTP_AUTHORIZATION=f"Token {token.key}")
    return client


def declaration_url(declaration: Any, action: str = "") -> str:
    return f"{BASE}/declarations/{declaration.code}/" + (f"{action}/" if action else "")


def measure_url(measure: Any, action: str = "") -> str:
    return f"{BASE}/measures/{measure.code}/" + (f"{action}/" if action else "")


def ok(response: Any, status: int = 200) -> Any:
    assert response.status_code == status, (response.status_code, response.content[:2000])
    return response.json() if response.content else None
