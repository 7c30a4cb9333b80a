"""What an operation answers, and the content negotiation that knows it (issue 18).

Every operation answers JSON; a download answers its file's types as well, named by
``@downloads(...)`` on the view's method. DRF's own negotiation knows only the renderers (JSON),
so ``Accept: application/pdf`` on a record's PDF was a 406. Here an ``Accept`` that names the
download's type selects the JSON renderer: the download hands over its own ``HttpResponse``, and
an error on the way is JSON, as everywhere under ``/api/``. Any other ``Accept`` that JSON does
not satisfy (``text/html``, ``application/xml``) is a 406, whose envelope DRF renders as JSON
anyway (with ``force``, it falls back to the first renderer).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any, TypeVar

from rest_framework.exceptions import NotAcceptable
from rest_framework.negotiation import DefaultContentNegotiation
from rest_framework.renderers import BaseRenderer
from rest_framework.request import Request
from rest_framework.utils.mediatypes import media_type_matches, order_by_precedence

Handler = TypeVar("Handler", bound=Callable[..., Any])

JSON = "application/json"


#: what a generic client asks a file for (the schema offers it beside each file's own types)
OCTET_STREAM = "application/octet-stream"


def downloads(*media_types: str) -> Callable[[Handler], Handler]:
    """Mark a view method as a download of ``media_types`` (``Accept`` may name them, or
    ``application/octet-stream``)."""

    def mark(handler: Handler) -> Handler:
        handler.download_types = (*media_types, OCTET_STREAM)  # type: ignore[attr-defined]
        return handler

    return mark


def _download_types(view: Any, method: str) -> tuple[str, ...]:
    handler = getattr(view, method.lower(), None)
    return tuple(getattr(handler, "download_types", ()))


def answers(view: Any, method: str = "GET") -> list[str]:
    """The media types an operation answers in: JSON, and a download's own."""
    return [JSON, *_download_types(view, method)] if view is not None else [JSON]


class ApiContentNegotiation(DefaultContentNegotiation):
    def select_renderer(
        self, request: Request, renderers: Iterable[BaseRenderer], format_suffix: str | None = None
    ) -> tuple[BaseRenderer, str]:
        renderers = list(renderers)
        try:
            chosen: tuple[BaseRenderer, str] = super().select_renderer(
                request, renderers, format_suffix
            )
            return chosen
        except NotAcceptable:
            view = (getattr(request, "parser_context", None) or {}).get("view")
            offered = _download_types(view, request.method or "GET")
            for accepted_set in order_by_precedence(self.get_accept_list(request)):
                for accepted in accepted_set:
                    if any(media_type_matches(offer, accepted) for offer in offered):
                        return renderers[0], renderers[0].media_type
            raise
