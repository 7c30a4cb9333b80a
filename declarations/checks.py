"""System checks of the deployment (``manage.py check --deploy`` runs them too)."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.checks import CheckMessage, Error, Tags, Warning, register

from declarations.records.signing import SealProblem, seal_problem


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


_SEAL_HINT = (
    "Set COI_SEAL_PKCS12 to the state body's PKCS#12 file and COI_SEAL_PASSPHRASE to its "
    "passphrase (docs/DEPLOY.md). A pilot without one may set COI_SEAL_ALLOW_DEVELOPMENT=true: "
    "every record then says it is not valid."
)


def _seal_error(problem: SealProblem) -> str:
    path = settings.COI_SEAL_PKCS12
    return {
        SealProblem.NONE_CONFIGURED: (
            "No seal: COI_SEAL_PKCS12 is not set and the development seal is not allowed "
            "(COI_SEAL_ALLOW_DEVELOPMENT is off, as it is with DEBUG off). No record could be "
            "issued."
        ),
        SealProblem.MISSING: f"The seal file COI_SEAL_PKCS12={path} does not exist.",
        SealProblem.UNREADABLE: (
            f"The seal file COI_SEAL_PKCS12={path} cannot be read by this process "
            "(its permissions, or it is not a file)."
        ),
        SealProblem.DOES_NOT_OPEN: (
            f"The seal file COI_SEAL_PKCS12={path} does not open with COI_SEAL_PASSPHRASE: "
            "a wrong passphrase, or not a PKCS#12 file."
        ),
        SealProblem.INCOMPLETE: (
            f"The seal file COI_SEAL_PKCS12={path} opens but holds no private key or no "
            "certificate."
        ),
    }[problem]


@register(Tags.security)
def seal_readable(app_configs: Any, **kwargs: Any) -> list[CheckMessage]:
    """A missing or unreadable seal stops the start (``migrate``, ``runserver``, gunicorn's
    start through ``gunicorn.conf.py``), with what is wrong, instead of failing the first
    record in a worker hours later (issue 17). Not a deploy-only check for that reason."""
    problem = seal_problem()
    if problem is None:
        return []
    return [Error(_seal_error(problem), hint=_SEAL_HINT, id="coi.E022")]


@register(Tags.security, deploy=True)
def development_seal_in_production(app_configs: Any, **kwargs: Any) -> list[CheckMessage]:
    """A development seal with DEBUG off is allowed (a pilot), but never silently."""
    if settings.DEBUG or settings.COI_SEAL_PKCS12 or not settings.COI_SEAL_ALLOW_DEVELOPMENT:
        return []
    return [
        Warning(
            "Records are sealed with a development seal (COI_SEAL_ALLOW_DEVELOPMENT with DEBUG "
            "off): each one says it is not valid.",
            hint=_SEAL_HINT,
            id="coi.W023",
        )
    ]
