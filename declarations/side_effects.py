"""The one place where work outside the transaction is scheduled.

Services call ``after_commit(name, **payload)`` inside their transaction; the named effect runs
only if and when the transaction commits (STYLE.md anti-pattern 5). Effects register themselves
by name: notification dispatch here, record issuing in a later issue. An effect that fails is
logged and never breaks the change that scheduled it; what it had to do is still in the outbox.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from django.db import transaction

logger = logging.getLogger(__name__)

Effect = Callable[..., None]
_EFFECTS: dict[str, Effect] = {}


def register_effect(name: str) -> Callable[[Effect], Effect]:
    def decorator(func: Effect) -> Effect:
        _EFFECTS[name] = func
        return func

    return decorator


def _run(name: str, payload: dict[str, Any]) -> None:
    try:
        _EFFECTS[name](**payload)
    except Exception:
        logger.exception("side effect %s failed; it stays queued for the worker", name)


def after_commit(name: str, **payload: Any) -> None:
    if name not in _EFFECTS:
        raise KeyError(f"unknown side effect {name!r}")
    transaction.on_commit(lambda: _run(name, payload))
