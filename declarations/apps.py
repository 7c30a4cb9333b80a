from __future__ import annotations

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class DeclarationsConfig(AppConfig):
    name = "declarations"
    verbose_name = _("Conflict-of-interest declarations")
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        # Registers the rulebook's predicates; Django's documented place for start-up registration.
        from declarations import permissions  # noqa: F401
