"""Token authentication with an expiry, and the token endpoint (``POST /api/v1/auth/token/``)."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from django.conf import settings
from django.utils import timezone
from django.utils.translation import gettext as _
from rest_framework import exceptions
from rest_framework.authentication import TokenAuthentication
from rest_framework.authtoken.models import Token


class ExpiringTokenAuthentication(TokenAuthentication):
    """DRF's ``Authorization: Token <key>``, refused once older than ``COI_TOKEN_TTL_SECONDS``.

    A token that leaks from a script is good for one working day at most, like a session.
    """

    def authenticate_credentials(self, key: str) -> tuple[Any, Token]:
        user, token = super().authenticate_credentials(key)
        ttl = timedelta(seconds=settings.COI_TOKEN_TTL_SECONDS)
        if token.created < timezone.now() - ttl:
            token.delete()
            raise exceptions.AuthenticationFailed(_("The token has expired; log in again."))
        return user, token


def token_issue(*, user: Any) -> Token:
    """A fresh token: an old one (expired or not) is replaced, so logging in again renews it."""
    Token.objects.filter(user=user).delete()
    return Token.objects.create(user=user)


def token_revoke(*, user: Any) -> None:
    Token.objects.filter(user=user).delete()
