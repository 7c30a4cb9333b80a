"""Personal signatures from the pages (issue 15).

A signable step's form carries three ways to sign, all read here and handed to the service as
its ``signature``:

- ``signature``: the detached CMS NCALayer made (base64), put there by ``sign.js``;
- ``_statement``: the script asks first for the bytes to sign; the step runs its own checks and
  encodes its statement exactly as it will verify it, and answers it as JSON (nothing written);
- ``dev_sign``: where NCALayer is not (development, the demo), the step signs with the NCA
  *test* key of the servant's IIN — only while the development signer is available.

With none of them the step goes unsigned, which the state body's policy allows or refuses.
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Callable
from functools import wraps
from typing import Any

from django.http import HttpRequest, HttpResponse, JsonResponse

from declarations.choices import SignaturePolicy
from declarations.models import StateBody
from declarations.services.personal_signatures import (
    DevelopmentSignature,
    StatementOnly,
    StatementWanted,
)

MALFORMED = b"\0"  # what a garbled field becomes: the verifier refuses it as malformed


def posted_signature(request: HttpRequest) -> bytes | None:
    if "_statement" in request.POST:
        return StatementOnly()
    if request.POST.get("dev_sign"):
        return DevelopmentSignature()
    raw = "".join(request.POST.get("signature", "").split())
    if not raw:
        return None
    try:
        return base64.b64decode(raw, validate=True) or MALFORMED
    except (binascii.Error, ValueError):
        return MALFORMED


def answers_statement(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    """The view answers a statement request (``_statement``) with the bytes to sign."""

    @wraps(view)
    def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        try:
            return view(request, *args, **kwargs)
        except StatementWanted as wanted:
            return JsonResponse(
                {"statement": base64.b64encode(wanted.statement).decode(), "iin": wanted.iin}
            )

    return wrapper


def signing_context(body: StateBody) -> dict[str, bool]:
    """Which of the body's steps the pages offer to sign (issue 15): all but those it turned
    off; ``any`` loads the script."""
    on = {
        step: str(getattr(body, field)) != SignaturePolicy.OFF
        for step, field in (
            ("notice", "sign_notice"),
            ("answer", "sign_answer"),
            ("addendum", "sign_addendum"),
            ("decision", "sign_decision"),
        )
    }
    return {**on, "any": any(on.values())}
