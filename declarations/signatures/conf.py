"""The settings of personal signatures (issue 15), with their defaults.

``coi/settings.py`` sets them from the environment; everything here reads them through
``getattr(settings, NAME, default)`` at call time, so tests may override them per test. The
defaults fail closed: no trusted root and no CRL means every signature is refused.

| setting | default | what |
|---|---|---|
| ``COI_EDS_TRUSTED_ROOTS`` | ``()`` | certificate files (DER or PEM) of the trusted NCA roots |
| ``COI_EDS_CA_CERTS`` | ``()`` | intermediate CA certificate files (the NCA issuing CAs) |
| ``COI_EDS_CRLS`` | ``()`` | CRL files or ``http(s)://`` URLs, full or delta |
| ``COI_EDS_CRL_REFRESH_MINUTES`` | ``60`` | a parsed CRL is reloaded after this, or at nextUpdate |
| ``COI_EDS_OCSP_URL`` | ``""`` | an OCSP responder, asked in addition to the CRLs |
| ``COI_EDS_HTTP_TIMEOUT_SECONDS`` | ``10`` | for CRL downloads, OCSP and NCANode |
| ``COI_EDS_SIGNING_TIME_TOLERANCE_MINUTES`` | ``30`` | how far ``signingTime`` may be from ``at`` |
| ``COI_EDS_VERIFIER`` | ``"local"`` | ``"local"`` or ``"ncanode"`` |
| ``COI_EDS_NCANODE_URL`` | ``""`` | NCANode's base URL, e.g. ``http://ncanode:14579`` |
| ``COI_EDS_NCANODE_REVOCATION`` | ``("OCSP", "CRL")`` | what NCANode is asked to check |
| ``COI_EDS_DEV_SIGNER`` | ``False`` | the development signer (DEBUG and the test root only) |
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

# The NCA test PKI shipped with the code (README.md beside it): the development signer, the demo
# and the tests use it. Never trust this root outside development.
TEST_PKI = Path(__file__).resolve().parent / "testpki"
TEST_ROOT = TEST_PKI / "root_test_gost_2022.cer"
TEST_CA = TEST_PKI / "nca_gost2022_test.cer"
TEST_CRL = TEST_PKI / "nca_gost2022_test.crl"


def _strings(name: str) -> tuple[str, ...]:
    value = getattr(settings, name, ())
    if isinstance(value, str | Path):
        value = [value] if str(value) else []
    if not isinstance(value, Sequence | set | frozenset):
        raise ImproperlyConfigured(f"{name} must be a list of paths or URLs")
    return tuple(str(item) for item in value)


def _number(name: str, default: float) -> float:
    value = getattr(settings, name, default)
    if isinstance(value, bool) or not isinstance(value, int | float) or value < 0:
        raise ImproperlyConfigured(f"{name} must be a non-negative number")
    return float(value)


def _text(name: str, default: str) -> str:
    value = getattr(settings, name, default)
    if not isinstance(value, str):
        raise ImproperlyConfigured(f"{name} must be a string")
    return value


def trusted_roots() -> tuple[str, ...]:
    return _strings("COI_EDS_TRUSTED_ROOTS")


def ca_certs() -> tuple[str, ...]:
    return _strings("COI_EDS_CA_CERTS")


def crl_sources() -> tuple[str, ...]:
    return _strings("COI_EDS_CRLS")


def crl_refresh_minutes() -> float:
    return _number("COI_EDS_CRL_REFRESH_MINUTES", 60)


def ocsp_url() -> str:
    return _text("COI_EDS_OCSP_URL", "")


def http_timeout() -> float:
    return _number("COI_EDS_HTTP_TIMEOUT_SECONDS", 10)


def signing_time_tolerance_minutes() -> float:
    return _number("COI_EDS_SIGNING_TIME_TOLERANCE_MINUTES", 30)


def verifier_name() -> str:
    return _text("COI_EDS_VERIFIER", "local")


def ncanode_url() -> str:
    return _text("COI_EDS_NCANODE_URL", "")


def ncanode_revocation() -> tuple[str, ...]:
    checks = getattr(settings, "COI_EDS_NCANODE_REVOCATION", ("OCSP", "CRL"))
    if not checks or any(check not in ("OCSP", "CRL") for check in checks):
        raise ImproperlyConfigured('COI_EDS_NCANODE_REVOCATION must list "OCSP" and/or "CRL"')
    return tuple(checks)


def dev_signer_enabled() -> bool:
    return getattr(settings, "COI_EDS_DEV_SIGNER", False) is True
