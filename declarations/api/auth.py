"""Token authentication (issue 18): ``Authorization: Bearer <key>``, or ``Token <key>`` as the
API first documented it, checked against the stored digests of ``services/tokens.py``.

A header with another scheme (``Basic``, from a proxy in front of the site) is left to the
other authentications (the session); a request that ends up unauthenticated gets a 401 with
``WWW-Authenticate: Bearer``. A ``Bearer`` or ``Token`` header that is malformed, or whose key
is unknown, revoked or expired, is a 401 at once, in the one error shape.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from django.utils.translation import gettext as _
from drf_spectacular.extensions import OpenApiAuthenticationExtension
from rest_framework import exceptions
from rest_framework.authentication import BaseAuthentication, get_authorization_header
from rest_framework.request import Request

from declarations.models import ApiToken
from declarations.services.tokens import TokenExpired, token_authenticate

if TYPE_CHECKING:
    from django.contrib.auth.models import User

#: the schemes a key may come under: ``Bearer`` (RFC 6750, what generated clients send) and
#: ``Token`` (DRF's, the one documented until issue 18)
SCHEMES = (b"bearer", b"token")


class ApiTokenAuthentication(BaseAuthentication):
    """``Authorization: Bearer <key>`` or ``Authorization: Token <key>`` (either case)."""

    def authenticate(self, request: Request) -> tuple[User, ApiToken] | None:
        header = get_authorization_header(request).split()
        if not header or header[0].lower() not in SCHEMES:
            return None
        if len(header) != 2:
            raise exceptions.AuthenticationFailed(
                _('Send the token as "Authorization: Bearer <token>".')
            )
        # a key is URL-safe base64; anything else cannot be one
        return self.authenticate_credentials(header[1].decode("ascii", errors="replace"))

    def authenticate_credentials(self, key: str) -> tuple[User, ApiToken]:
        try:
            token = token_authenticate(key=key)
        except TokenExpired:
            raise exceptions.AuthenticationFailed(
                _("The token has expired; log in again.")
            ) from None
        if token is None or not token.user.is_active:
            raise exceptions.AuthenticationFailed(_("The token is not valid; log in again."))
        return token.user, token

    def authenticate_header(self, request: Request) -> str:
        return "Bearer"


class ApiTokenScheme(OpenApiAuthenticationExtension):
    """The scheme generators understand (``http``/``bearer``), so a generated client sends
    ``Authorization: Bearer <token>`` with no configuration."""

    target_class = ApiTokenAuthentication
    name = "bearerAuth"

    def get_security_definition(self, auto_schema: Any) -> dict[str, str]:
        return {
            "type": "http",
            "scheme": "bearer",
            "description": (
                "The `token` of `POST /api/v1/auth/token/` (sign-in), sent as "
                "`Authorization: Bearer <token>`; `Authorization: Token <token>` is accepted too. "
                "A token lasts a working day (8 hours unless the deployment sets otherwise: "
                "`expires_at` in the sign-in's answer) and is ended by `DELETE "
                "/api/v1/auth/token/` (sign-out) or `DELETE /api/v1/auth/tokens/{id}/`. A "
                "missing, unknown, revoked or expired token gets 401 with "
                "`WWW-Authenticate: Bearer`."
            ),
        }
