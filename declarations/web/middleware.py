"""The reader's session: its absolute time limit, and the reader's language — what they chose
(kept in their session since they signed in) wins over the browser's Accept-Language, which
``LocaleMiddleware`` has already applied."""

from __future__ import annotations

import time
from collections.abc import Callable

from django.conf import settings
from django.contrib.auth import logout
from django.contrib.auth.views import redirect_to_login
from django.http import HttpRequest, HttpResponse
from django.utils import translation

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
