"""System checks of the deployment (``manage.py check --deploy`` runs them too)."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.checks import Error, Tags, register


@register(Tags.security, deploy=True)
def test_contour_off_in_production(app_configs: Any, **kwargs: Any) -> list[Error]:
    """The NCA test contour's identifiers are for development and the demo (issue 15): a
    production body must never accept an IIN that fails its check digit."""
    if not settings.DEBUG and getattr(settings, "COI_EDS_ACCEPT_TEST_IDENTIFIERS", False):
        return [
            Error(
                "COI_EDS_ACCEPT_TEST_IDENTIFIERS is on with DEBUG off: the NCA test contour's "
                "identifiers would be accepted in production.",
                hint="Unset COI_EDS_ACCEPT_TEST_IDENTIFIERS (it defaults to DEBUG).",
                id="coi.E021",
            )
        ]
    return []
