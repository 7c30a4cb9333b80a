"""Reading the web pages as a persona: a signed-in Django test client, and what a page says."""

from __future__ import annotations

import html
import re
from typing import Any

from django.test import Client


def client_as(user: Any | None, language: str = "en", **kw: Any) -> Client:
    """A browser signed in as ``user`` (``None``: nobody), asking for ``language``."""
    client = Client(HTTP_ACCEPT_LANGUAGE=language, **kw)
    if user is not None:
        client.force_login(user)
    return client


def text(response: Any) -> str:
    """What a reader sees: the page without its tags, entities decoded, spaces collapsed."""
    body = response.content.decode()
    body = re.sub(r"<(script|style)\b.*?</\1>", " ", body, flags=re.S)
    body = re.sub(r"<[^>]+>", " ", body)
    return " ".join(html.unescape(body).split())


def said(response: Any) -> list[str]:
    """The messages a page shows (after a redirect was followed)."""
    return [str(m) for m in response.context["messages"]] if response.context else []


def field_errors(response: Any, form: str = "form") -> dict[str, list[str]]:
    return {name: list(errors) for name, errors in response.context[form].errors.items()}
