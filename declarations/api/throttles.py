"""Rate limits: sign-in attempts per address, writes per user (429 with ``Retry-After``).

Rates come from ``REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"]`` and are read on every request (DRF
binds them once at import), so a deployment or a test can change them through settings.
Counters live in the default cache: per process with the local-memory cache, shared when a
deployment configures a shared one. Addresses are ``declarations.client.client_address``:
``X-Forwarded-For`` counts only from the proxies in ``COI_TRUSTED_PROXIES``. The sign-in,
verification and dossier throttles live there too, since the pages share their counters.

Password guessing is not a rate here: django-axes locks a user name at an address after
``COI_LOGIN_FAILURE_LIMIT`` wrong passwords, on the page and the token endpoint alike
(``TokenView``); the sign-in throttle is only a ceiling against floods.
"""

from __future__ import annotations

from typing import Any

from rest_framework.request import Request

from declarations.client import DossierRateThrottle as DossierRateThrottle  # re-exported
from declarations.client import LoginAddressRateThrottle as LoginAddressRateThrottle  # re-exported
from declarations.client import UserRateThrottle
from declarations.client import VerifyRateThrottle as VerifyRateThrottle  # re-exported

SAFE_METHODS = {"GET", "HEAD", "OPTIONS"}


class WriteRateThrottle(UserRateThrottle):
    """Every unsafe request of a signed-in user counts; reads are not limited here."""

    scope = "write"

    def get_cache_key(self, request: Request, view: Any) -> str | None:
        return None if request.method in SAFE_METHODS else super().get_cache_key(request, view)
