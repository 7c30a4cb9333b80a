"""Rate limits: logins per address and user name, writes per user (429 with ``Retry-After``).

Rates come from ``REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"]`` and are read on every request (DRF
binds them once at import), so a deployment or a test can change them through settings.
Counters live in the default cache: per process with the local-memory cache, shared when a
deployment configures a shared one. Addresses are ``declarations.client.client_address``:
``X-Forwarded-For`` counts only from the proxies in ``COI_TRUSTED_PROXIES``. The verification
and dossier throttles live there too, since the pages share their counters.
"""

from __future__ import annotations

from typing import Any

from rest_framework.request import Request

from declarations.client import AddressRateThrottle, UserRateThrottle
from declarations.client import DossierRateThrottle as DossierRateThrottle  # re-exported
from declarations.client import VerifyRateThrottle as VerifyRateThrottle  # re-exported

SAFE_METHODS = {"GET", "HEAD", "OPTIONS"}


class LoginRateThrottle(AddressRateThrottle):
    """Password guessing: by client address and, separately, by the user name tried."""

    scope = "login"

    _by_name: _UsernameThrottle | None = None

    def allow_request(self, request: Request, view: Any) -> bool:
        self._by_name = None
        if not super().allow_request(request, view):
            return False
        username = request.data.get("username") if hasattr(request.data, "get") else None
        if not isinstance(username, str) or not username:
            return True
        by_name = _UsernameThrottle(username)
        if by_name.allow_request(request, view):
            return True
        self._by_name = by_name
        return False

    def wait(self) -> float | None:
        return self._by_name.wait() if self._by_name is not None else super().wait()


class _UsernameThrottle(AddressRateThrottle):
    scope = "login"

    def __init__(self, username: str) -> None:
        super().__init__()
        self.username = username.strip().lower()[:150]

    def get_cache_key(self, request: Request, view: Any) -> str | None:
        return self.cache_format % {"scope": "login-user", "ident": self.username}


class WriteRateThrottle(UserRateThrottle):
    """Every unsafe request of a signed-in user counts; reads are not limited here."""

    scope = "write"

    def get_cache_key(self, request: Request, view: Any) -> str | None:
        return None if request.method in SAFE_METHODS else super().get_cache_key(request, view)
