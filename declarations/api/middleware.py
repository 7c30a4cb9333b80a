"""Under ``/api/`` every error is JSON in the one envelope, never an HTML page (issue 18).

The API's views answer their own errors in the envelope (``errors.exception_handler``). What
reaches a client without passing through them is Django's: no URL matched (a path id that is not
a UUID, a misspelt path), a crash outside a view, and, with ``DEBUG`` on as in the demo, Django's
technical pages, which ``handler404``/``handler500`` never replace. This middleware puts the
envelope for the same status in place of any such page, keeping the headers (``Allow``,
``Retry-After``, ``Vary``, cookies) and the status. It sits inside ``LocaleMiddleware``, so the
message is in the caller's language and ``Content-Language`` is set on the new answer, and outside
``CommonMiddleware``, whose slash redirect still comes first.
"""

from __future__ import annotations

from collections.abc import Callable

from django.http import HttpRequest, HttpResponseBase

from declarations.api.errors import status_response

PREFIX = "/api/"

#: headers that describe the page being replaced, not the answer
_BODY_HEADERS = {"content-type", "content-length", "content-disposition", "content-encoding"}


def is_json(response: HttpResponseBase) -> bool:
    media_type = response.get("Content-Type", "").split(";")[0].strip().lower()
    return media_type == "application/json" or media_type.endswith("+json")


class ApiErrorMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponseBase]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponseBase:
        response = self.get_response(request)
        if response.status_code < 400 or not request.path.startswith(PREFIX) or is_json(response):
            return response
        envelope = status_response(request, response.status_code, allow=response.get("Allow", ""))
        for name, value in response.items():
            if name.lower() not in _BODY_HEADERS:
                envelope[name] = value
        envelope.cookies = response.cookies
        # Not ``response.close()``: closing a response sends ``request_finished``, which would end
        # the request's database work early (``close_old_connections``). The page replaced is
        # Django's own, made in memory; it holds no file.
        return envelope
