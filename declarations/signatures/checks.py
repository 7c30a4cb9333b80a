"""System checks of the signature settings: the development signer and the NCA test root must
never reach production (issue 15, part 5), and a broken trust store should fail at start-up,
not at the first signature.

Register once at start-up, from the app config's ``ready()``::

    from declarations.signatures.checks import register_checks
    register_checks()

| id | level | when |
|---|---|---|
| ``coi.E015`` | error | ``COI_EDS_DEV_SIGNER`` is on and ``DEBUG`` is off |
| ``coi.E017`` | error | the NCA test root is a trusted root and ``DEBUG`` is off: its keys and |
|              |       | their password are public, so anyone could sign as the test people |
| ``coi.E016`` | error | a configured root or CA certificate cannot be read or does not chain |
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from django.apps import AppConfig
from django.conf import settings
from django.core import checks
from django.core.exceptions import ImproperlyConfigured

from declarations.signatures import conf, trust
from declarations.signatures.certificates import load_certificate_file, sha256


def _trusts_test_root() -> bool:
    test_root = sha256(load_certificate_file(conf.TEST_ROOT))
    for path in conf.trusted_roots():
        try:
            if sha256(load_certificate_file(path)) == test_root:
                return True
        except (OSError, ValueError):
            continue  # reported by coi.E016
    return False


def check_signature_settings(
    app_configs: Sequence[AppConfig] | None = None, **kwargs: Any
) -> list[checks.CheckMessage]:
    messages: list[checks.CheckMessage] = []
    if conf.dev_signer_enabled() and not settings.DEBUG:
        messages.append(
            checks.Error(
                "COI_EDS_DEV_SIGNER is on while DEBUG is off.",
                hint="The development signer signs with public test keys; turn it off.",
                id="coi.E015",
            )
        )
    if not settings.DEBUG and _trusts_test_root():
        messages.append(
            checks.Error(
                "The NCA test root is among COI_EDS_TRUSTED_ROOTS while DEBUG is off.",
                hint="Signatures made with the public test keys would verify; trust only the "
                "production NCA roots.",
                id="coi.E017",
            )
        )
    try:
        trust.trust_store()
    except ImproperlyConfigured as error:
        messages.append(checks.Error(str(error), id="coi.E016"))
    return messages


def register_checks() -> None:
    """Idempotent: Django's registry is a set of functions."""
    checks.register(check_signature_settings, checks.Tags.security)
