"""The request id: one per request, on its response (``X-Request-ID``) and on every log line
written while it is served (issue 17).

The id lives in a context variable that ``RequestIdMiddleware`` (``web/middleware.py``) sets
when a request comes in and that is cleared when its response is closed (``request_finished``:
Django logs a 5xx after the middleware has returned, and a streamed download goes on after
it); ``RequestIdFilter``, attached to the log handlers in ``LOGGING``, copies it onto every
record. This module imports nothing of Django's: logging is
configured before the apps are loaded, and the filter is loaded with it.
"""

from __future__ import annotations

import logging
import re
from contextvars import ContextVar

#: the response header, and the request header a trusted proxy may set
HEADER = "X-Request-ID"
#: what log lines written outside any request (start-up, the worker, the scheduler) carry
NO_REQUEST = "-"

#: what we accept from a proxy: the ids nginx, HAProxy, Envoy and cloud balancers assign
#: (hex, UUIDs, ``Root=1-…;Parent=…``), and nothing that could forge a log line or a header
_ACCEPTED = re.compile(r"[A-Za-z0-9._:;=+/@-]{1,128}", re.ASCII)

_current: ContextVar[str] = ContextVar("coi_request_id", default=NO_REQUEST)


def current_request_id() -> str:
    return _current.get()


def acceptable(value: str) -> bool:
    """Whether ``value`` may serve as a request id as it is."""
    return _ACCEPTED.fullmatch(value) is not None


class RequestIdFilter(logging.Filter):
    """Puts ``request_id`` on every record (``-`` outside a request); lets every record pass."""

    def filter(self, record: logging.LogRecord) -> bool:
        if not hasattr(record, "request_id"):
            record.request_id = _current.get()
        return True


def set_request_id(value: str) -> None:
    _current.set(value)


def forget_request_id() -> None:
    _current.set(NO_REQUEST)
