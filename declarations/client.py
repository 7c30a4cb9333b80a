"""Who is asking: the client's address, and the per-address counters the API and the pages share.

The address is the TCP peer (``REMOTE_ADDR``) unless that peer is one of our own reverse
proxies (``COI_TRUSTED_PROXIES``); only then is ``X-Forwarded-For`` read, from the right, one
hop per trusted proxy. Anything a client writes into a header is otherwise ignored, so rotating
``X-Forwarded-For`` or ``X-Real-IP`` buys no fresh rate limits (issue 12). The API's throttles,
django-axes (``AXES_CLIENT_IP_CALLABLE``, so the sign-in lock of the page and of the API is
per the same address), the sign-in page and the public verification page all ask here.
"""

from __future__ import annotations

import ipaddress
from functools import lru_cache
from typing import Any

from django.conf import settings
from django.contrib.auth.models import AnonymousUser
from django.http import HttpRequest
from rest_framework.request import Request
from rest_framework.settings import api_settings
from rest_framework.throttling import SimpleRateThrottle

Network = ipaddress.IPv4Network | ipaddress.IPv6Network
Address = ipaddress.IPv4Address | ipaddress.IPv6Address


@lru_cache(maxsize=8)
def _networks(entries: tuple[str, ...]) -> tuple[Network, ...]:
    # the settings module has checked every entry; a test may override the list
    return tuple(ipaddress.ip_network(entry, strict=False) for entry in entries)


def _address(text: str) -> Address | None:
    try:
        return ipaddress.ip_address(text.strip())
    except ValueError:
        return None


def _trusted(address: Address | None, networks: tuple[Network, ...]) -> bool:
    return address is not None and any(address in network for network in networks)


def client_address(request: HttpRequest) -> str:
    """The address of the client that sent ``request``, as far as we can vouch for it.

    Steps: start from the TCP peer; while the current address is a trusted proxy, step to the
    hop it appended to ``X-Forwarded-For`` (the right-most one not yet read); stop at the first
    address that is not ours — that is the client — or at a hop that is not an address (kept
    as the last proxy: a proxy of ours never writes one, so the client did).
    """
    peer: str = request.META.get("REMOTE_ADDR", "")
    networks = _networks(tuple(settings.COI_TRUSTED_PROXIES))
    if not networks:
        return peer
    current = _address(peer)
    if not _trusted(current, networks):
        return peer
    hops = request.META.get("HTTP_X_FORWARDED_FOR", "").split(",")
    for hop in reversed(hops):
        forwarded = _address(hop)
        if forwarded is None:
            break
        current = forwarded
        if not _trusted(current, networks):
            break
    return str(current)


def from_trusted_proxy(request: HttpRequest) -> bool:
    """Whether the TCP peer is one of our reverse proxies, so that what it adds to a request
    (the request id it assigned, the client's address) may be believed."""
    networks = _networks(tuple(settings.COI_TRUSTED_PROXIES))
    return _trusted(_address(request.META.get("REMOTE_ADDR", "")), networks)


class AddressRateThrottle(SimpleRateThrottle):
    """DRF's sliding-window counter in the default cache, per client address.

    The rate is ``REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"][scope]``, read on every request (DRF
    binds it at import), so a deployment or a test changes it through settings.
    """

    def __init__(self) -> None:  # DRF reads the rate in __init__; read it live instead
        self.rate = self.get_rate()
        self.num_requests, self.duration = self.parse_rate(self.rate)

    def get_rate(self) -> str | None:
        rate = api_settings.DEFAULT_THROTTLE_RATES.get(self.scope or "")
        return str(rate) if rate is not None else None

    def get_ident(self, request: HttpRequest) -> str:
        return client_address(request)

    def get_cache_key(self, request: Request, view: Any) -> str | None:
        return self.cache_format % {"scope": self.scope, "ident": self.get_ident(request)}

    def allow_page(self, request: HttpRequest) -> bool:
        """The same check for a plain Django view (a web page)."""
        wrapped = Request(request)
        # the page's own user: left alone, DRF would authenticate nobody and write that
        # AnonymousUser back onto the page's request
        wrapped.user = getattr(request, "user", AnonymousUser())
        # DRF hands the view only to get_cache_key, which has no use for it here
        return self.allow_request(wrapped, None)  # type: ignore[arg-type]


class VerifyRateThrottle(AddressRateThrottle):
    """Anyone may check a PDF, through ``POST /api/v1/verify/`` or the page ``/verify/``; a flood
    of uploads from one address is limited. Both doors count against one budget, so taking
    turns between them gains nothing."""

    scope = "verify"


class LoginAddressRateThrottle(AddressRateThrottle):
    """A ceiling on sign-in attempts from one address, against floods only (issue 17).

    Password guessing is stopped per user name and address by django-axes
    (``COI_LOGIN_FAILURE_LIMIT`` wrong passwords, then a pause), on the sign-in page and the token
    endpoint alike. This counts every attempt, right or wrong, from one address, so it must stay
    well above a whole office signing in at nine behind one NAT address (``600/min`` by
    default). The page and ``POST /api/v1/auth/token/`` count against one budget."""

    scope = "login-address"


class UserRateThrottle(AddressRateThrottle):
    """Counted per signed-in user (per address for anyone else)."""

    def get_cache_key(self, request: Request, view: Any) -> str | None:
        user = request.user
        ident = user.pk if user.is_authenticated else self.get_ident(request)
        return self.cache_format % {"scope": self.scope, "ident": ident}


class DossierRateThrottle(UserRateThrottle):
    """Every dossier is rendered and sealed for its reader (seconds of a worker's time): a
    reader may have a few an hour, through the API or the declaration page, from one budget."""

    scope = "dossier"
