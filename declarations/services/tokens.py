"""API tokens (issue 18): a token per signed-in client, each ended on its own.

A sign-in makes a new token and leaves the user's others working, so a second device, a second
integration on the same service account or a script signing in while a page is open no longer
signs anyone out. Each token is ended by sign-out (the token the request carries), by its owner
from the list of their tokens, by the cap on a user's live tokens (``COI_TOKEN_MAX_PER_USER``:
the least recently used go first), or by its expiry (``COI_TOKEN_TTL_SECONDS`` after the
sign-in, a working day). Ended tokens are deleted: a key that no longer works has nothing to
keep, and the sweep deletes the expired ones nobody sent again.
"""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING
from uuid import UUID

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from declarations.models import ApiToken
from declarations.models.tokens import CLIENT_MAX

if TYPE_CHECKING:
    from django.contrib.auth.models import User

#: random bytes in a key (it travels as 43 characters of URL-safe base64)
KEY_BYTES = 32
#: how stale ``last_used_at`` may be before a request moves it: reads must not all write
LAST_USED_STEP = timedelta(minutes=1)


class TokenExpired(Exception):
    """The key was a token's, but the token's time is over (it has just been deleted)."""


@dataclass(frozen=True)
class IssuedToken:
    token: ApiToken
    key: str  # shown once, in the sign-in's answer; only its digest is stored


def key_digest(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


def client_label(value: str) -> str:
    """What names a client in the list: the ``client`` a sign-in gave, else its User-Agent, on
    one line of printable characters, at most ``CLIENT_MAX`` of them."""
    printable = "".join(char if char.isprintable() else " " for char in value)
    return " ".join(printable.split())[:CLIENT_MAX]


def token_issue(*, user: User, client: str, now: datetime | None = None) -> IssuedToken:
    """A new token for ``user``; the user's other tokens keep working.

    1. a random key, of which only the SHA-256 is stored;
    2. the token, expiring ``COI_TOKEN_TTL_SECONDS`` from now, named by ``client``;
    3. the user's live tokens beyond ``COI_TOKEN_MAX_PER_USER`` are revoked, least recently
       used first (the new one was used just now, so it stays), and the user's expired ones
       deleted on the way. Two sign-ins at the same moment may leave one token over the cap
       until the next: the cap bounds the list, it is not a quota.
    """
    now = now or timezone.now()
    key = secrets.token_urlsafe(KEY_BYTES)
    token = ApiToken(
        user=user,
        digest=key_digest(key),
        client=client_label(client),
        created_at=now,
        last_used_at=now,
        expires_at=now + timedelta(seconds=settings.COI_TOKEN_TTL_SECONDS),
    )
    token.full_clean()
    with transaction.atomic():
        token.save()
        ApiToken.objects.filter(user_id=user.pk, expires_at__lte=now).delete()
        beyond = list(
            ApiToken.objects.filter(user_id=user.pk)
            .order_by("-last_used_at", "-created_at", "-id")
            .values_list("pk", flat=True)[settings.COI_TOKEN_MAX_PER_USER :]
        )
        if beyond:
            ApiToken.objects.filter(pk__in=beyond).delete()
    return IssuedToken(token=token, key=key)


def token_authenticate(*, key: str, now: datetime | None = None) -> ApiToken | None:
    """The token whose key is ``key``, with its user (one query), or ``None`` if there is none.

    An expired token is deleted and raises ``TokenExpired``. A token last used over a minute
    ago is marked used now, with an update conditional on the time it read, so that of two
    requests at once one writes.
    """
    now = now or timezone.now()
    token = ApiToken.objects.select_related("user").filter(digest=key_digest(key)).first()
    if token is None:
        return None
    if token.expires_at <= now:
        token.delete()
        raise TokenExpired
    if now - token.last_used_at >= LAST_USED_STEP:
        ApiToken.objects.filter(pk=token.pk, last_used_at=token.last_used_at).update(
            last_used_at=now
        )
        token.last_used_at = now
    return token


def token_revoke(*, user: User, code: UUID, now: datetime | None = None) -> bool:
    """End ``user``'s live token ``code``; ``False`` if the user has no such token (another
    user's token is not theirs to end, and is not found)."""
    now = now or timezone.now()
    deleted, _ = ApiToken.objects.filter(user_id=user.pk, code=code, expires_at__gt=now).delete()
    return deleted > 0


def tokens_revoke(*, ids: Iterable[int]) -> int:
    """End the tokens ``ids`` (the admin's action); returns how many there were."""
    deleted, _ = ApiToken.objects.filter(pk__in=list(ids)).delete()
    return deleted


def tokens_sweep(*, now: datetime) -> int:
    """Delete the tokens expired by ``now`` (the ``tokens.sweep`` job); returns how many."""
    deleted, _ = ApiToken.objects.filter(expires_at__lte=now).delete()
    return deleted
