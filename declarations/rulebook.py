"""A registry of permission predicates, so that models can name a rule without importing it.

``permissions.py`` registers every predicate (it may import models and selectors); the FSM's
``permission=`` callables on the models look them up by name at call time. This keeps the one
rulebook of STYLE.md rule 15 while the layering stays one-directional (rule 1). Unlike
``User.has_perm`` there is no superuser bypass: an administrator does not decide declarations.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

Predicate = Callable[[Any, Any], bool]  # (user, obj) -> bool

_RULES: dict[str, Predicate] = {}


def register(name: str) -> Callable[[Predicate], Predicate]:
    def decorator(func: Predicate) -> Predicate:
        if name in _RULES and _RULES[name] is not func:
            raise ValueError(f"rule {name!r} is registered twice")
        _RULES[name] = func
        return func

    return decorator


def allows(name: str, user: Any, obj: Any) -> bool:
    """Whether rule ``name`` lets ``user`` act on ``obj`` (an unknown rule is a KeyError: a bug)."""
    return bool(_RULES[name](user, obj))


def fsm_permission(name: str) -> Callable[[Any, Any], bool]:
    """An FSM ``permission=`` callable (instance, user) that defers to rule ``name``."""

    def check(instance: Any, user: Any) -> bool:
        return allows(name, user, instance)

    check.__name__ = f"rule_{name.replace('.', '_')}"
    return check
