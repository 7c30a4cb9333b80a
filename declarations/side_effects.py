"""The one place where work outside the transaction is scheduled.

Services call ``after_commit(name, **payload)`` inside their transaction; the named effect runs
only if and when the transaction commits (STYLE.md anti-pattern 5). Effects register themselves
by name (``Effect``): the notification dispatch (``services/notifications.py``), record issuing
and export planning (``records/tasks.py``). An effect that fails is logged and never breaks the
change that scheduled it; what it had to do is still in the outbox or the pending rows.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from enum import StrEnum
from typing import Any

from django.db import transaction

logger = logging.getLogger(__name__)


class Effect(StrEnum):
    """The work a transaction may hand on, by name."""

    NOTIFICATIONS_DISPATCH = "notifications.dispatch"
    RECORDS_ISSUE = "records.issue"
    EXPORTS_START = "exports.start"


Handler = Callable[..., None]
_EFFECTS: dict[Effect, Handler] = {}


def register_effect(name: Effect) -> Callable[[Handler], Handler]:
    def decorator(func: Handler) -> Handler:
        _EFFECTS[Effect(name)] = func
        return func

    return decorator


def _run(name: Effect, payload: dict[str, Any]) -> None:
    try:
        _EFFECTS[name](**payload)
    except Exception:
        logger.exception("side effect %s failed; it stays queued for the worker", name)


def after_commit(name: Effect, **payload: Any) -> None:
    name = Effect(name)  # an unknown name is a bug: ValueError, never a silent no-op
    if name not in _EFFECTS:
        raise KeyError(f"side effect {name!r} has no handler registered")
    transaction.on_commit(lambda: _run(name, payload))
