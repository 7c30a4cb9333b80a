from __future__ import annotations

from typing import Any

from django.apps import AppConfig
from django.db.backends.signals import connection_created
from django.utils.translation import gettext_lazy as _


def _unicode_lower(value: str | None) -> str | None:
    return value.lower() if isinstance(value, str) else value


def sqlite_unicode_lower(sender: Any, connection: Any, **kwargs: Any) -> None:
    """SQLite's LOWER() (and so case-insensitive matching) knows only ASCII letters: "БРАТ"
    would never find "брат", nor "ҚАЗАҚ" "қазақ". Replace it on every SQLite connection with
    Python's, which knows Kazakh and Russian; PostgreSQL's is already Unicode-aware."""
    if connection.vendor == "sqlite":
        connection.connection.create_function("LOWER", 1, _unicode_lower, deterministic=True)


class DeclarationsConfig(AppConfig):
    name = "declarations"
    verbose_name = _("Conflict-of-interest declarations")
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        # Django's documented place for start-up registration: the rulebook's predicates, and
        # the task queue's entry points with the after-commit effects that feed them.
        from declarations import checks, permissions  # noqa: F401
        from declarations.records import tasks  # noqa: F401
        from declarations.signatures.checks import register_checks

        register_checks()

        connection_created.connect(sqlite_unicode_lower, dispatch_uid="coi-sqlite-unicode-lower")
