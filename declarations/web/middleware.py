"""The reader's session: its absolute time limit, and the reader's language — what they chose
(kept in their session since they signed in) wins over the browser's Accept-Language, which
``LocaleMiddleware`` has already applied. And the request id every request gets (issue 17)."""

from __future__ import annotations

import logging
import time
import uuid
from collections.abc import Callable
from typing import Any

from django.conf import settings
from django.contrib.auth import logout
from django.contrib.auth.views import redirect_to_login
from django.core.signals import request_finished
from django.dispatch import receiver
from django.http import HttpRequest, HttpResponse
from django.utils import translation

from declarations.client import client_address, from_trusted_proxy
from declarations.web.health import PATHS as HEALTH_PATHS
from declarations.web.request_id import HEADER, acceptable, forget_request_id, set_request_id

#: one line per request: method, path, status, duration (the production profile's access log)
request_log = logging.getLogger("coi.requests")

#: the session key the login and the language switch write
SESSION_LANGUAGE = "coi_language"


class UserLanguageMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        language = request.session.get(SESSION_LANGUAGE) if hasattr(request, "session") else None
        if language:
            translation.activate(language)
            request.LANGUAGE_CODE = language
        response = self.get_response(request)
        if language:
            response.headers.setdefault("Content-Language", language)
        return response


#: the session key holding when the reader signed in (seconds since the epoch)
SESSION_SIGNED_IN_AT = "coi_signed_in_at"


class SessionLimitMiddleware:
    """Sign the reader out ``COI_SESSION_MAX_SECONDS`` after they signed in, however active.

    The idle limit is Django's own (``SESSION_COOKIE_AGE``, renewed by every request); this adds
    the absolute one that Django lacks. The first request of a session stamps the time.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated:
            now = time.time()
            signed_in_at = request.session.setdefault(SESSION_SIGNED_IN_AT, now)
            if now - float(signed_in_at) > settings.COI_SESSION_MAX_SECONDS:
                logout(request)  # flushes the session: the next page asks to sign in
                return redirect_to_login(request.get_full_path())
        return self.get_response(request)


class RequestIdMiddleware:
    """First in ``MIDDLEWARE``: give the request its id, for its response and its log lines.

    The id is the ``X-Request-ID`` our reverse proxy assigned, when the request comes from one
    (``COI_TRUSTED_PROXIES``) and the id is well-formed, so that the proxy's log and ours join
    up; otherwise a fresh one. A client's own header is never believed: it could make its
    requests look like someone else's in the logs. After the response, one line says what was
    served (health probes at DEBUG, so that a probe every few seconds does not fill the log).
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        offered = request.headers.get(HEADER, "")
        if offered and acceptable(offered) and from_trusted_proxy(request):
            request_id = offered
        else:
            request_id = uuid.uuid4().hex
        set_request_id(request_id)  # until the response is closed (below)
        started = time.monotonic()
        response = self.get_response(request)
        response[HEADER] = request_id
        request_log.log(
            logging.DEBUG if request.path_info in HEALTH_PATHS else logging.INFO,
            "%s %s %s",
            request.method,
            request.path,
            response.status_code,
            extra={
                "method": request.method,
                "path": request.path,
                "status": response.status_code,
                "duration_ms": round((time.monotonic() - started) * 1000, 1),
                "client": client_address(request),
            },
        )
        return response


@receiver(request_finished, dispatch_uid="coi-forget-request-id")
def _request_served(**kwargs: Any) -> None:
    """The response is closed: what is logged from now on belongs to no request."""
    forget_request_id()
