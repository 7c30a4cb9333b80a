"""The caller and the organisation: signing in and out, the caller's tokens, ``/me/``, and
the pickers of servants (a substitute, a reviewer) and positions (the target of a
transfer)."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from axes.helpers import get_cool_off  # type: ignore[import-untyped]
from axes.utils import reset as axes_reset  # type: ignore[import-untyped]
from django.conf import settings
from django.contrib.auth import authenticate
from django.utils import timezone
from django.utils.translation import get_language
from django.utils.translation import gettext as _
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_view
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.exceptions import NotFound
from rest_framework.permissions import AllowAny, IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from declarations import permissions, selectors
from declarations.api import serializers as io
from declarations.api.auth import ApiTokenAuthentication
from declarations.api.common import NamePagination, TitlePagination, acting, valid_input
from declarations.api.errors import SignInPaused
from declarations.api.schema import errors
from declarations.api.throttles import LoginAddressRateThrottle
from declarations.client import client_address
from declarations.models import ApiToken, StateBody
from declarations.selectors.tokens import token_list_of
from declarations.services.tokens import token_issue, token_revoke

# ---- auth and /me/ ----------------------------------------------------------------------------


class TokenView(APIView):
    """``POST``: sign in, user name and password give a new token; ``DELETE``: sign out, the
    token the request carries ends (the caller's other tokens keep working).

    Signing in here is under the sign-in page's lock (django-axes, one policy for both doors):
    ``COI_LOGIN_FAILURE_LIMIT`` wrong passwords for one user name from one address pause that
    pair for ``COI_LOGIN_COOLOFF_MINUTES``, whichever door they came through; colleagues behind
    the same NAT address sign in meanwhile. Every attempt from an address also counts against a
    ceiling against floods (``COI_THROTTLE_LOGIN_ADDRESS``), shared with the page.

    Sign-out is ``DELETE`` on the resource sign-in made, as it was before tokens per client
    (issue 18), so a client that signed out keeps signing out; only a token ends it: a session
    has the pages' own sign-out.
    """

    throttle_classes = [LoginAddressRateThrottle]

    def get_permissions(self) -> list[Any]:
        if self.request is not None and self.request.method == "DELETE":
            return [IsAuthenticated()]
        return [AllowAny()]

    def get_authenticators(self) -> list[Any]:
        if getattr(self, "request", None) is None or self.request.method != "DELETE":
            # logging in needs no credentials, and no CSRF token either
            return []
        return [ApiTokenAuthentication()]

    def get_throttles(self) -> list[Any]:
        return super().get_throttles() if self.request.method == "POST" else []

    @extend_schema(
        operation_id="sign_in",
        summary="Sign in: a user name and password give a new token",
        description=(
            "Answers a new token, shown only this once: send it as `Authorization: Bearer "
            "<token>` (or `Authorization: Token <token>`) on every other call. Every sign-in "
            "makes a token of its own and leaves the account's other tokens working, so each "
            "device or integration signs in once and keeps its token; `client` names it in "
            "`GET /api/v1/auth/tokens/` (else the request's User-Agent does). A token lasts a "
            "working day (8 hours unless the deployment sets otherwise; `expires_at` says "
            "when), then sign in again. An account keeps at most 20 live tokens unless the "
            "deployment sets otherwise: a sign-in beyond that ends the least recently used "
            "one.\n\n"
            "Wrong passwords are limited per user name and address: after 5 (unless the "
            "deployment sets otherwise) that user name is paused at that address for 30 "
            "minutes, answered 429 with `Retry-After`, whether the attempts came here or "
            "through the sign-in page. A wrong user name or password is a 400."
        ),
        request=io.TokenInput,
        responses={200: io.TokenOutput, **errors(400, 415, 429)},
        auth=[],
        tags=["auth"],
    )
    def post(self, request: Request) -> Response:
        """Steps: (1) authenticate through the backends, axes' first, with the Django request
        axes reads the address from: a locked pair is refused before the password is checked,
        and a wrong password counts against the pair; (2) a locked pair (just now, or before) is
        a 429, in our shape; (3) a wrong password is a 400; (4) a right one forgets the pair's
        failures, as the page does (``AXES_RESET_ON_SUCCESS``), and gets a new token."""
        data = valid_input(io.TokenInput, request)
        username = data["username"]
        user = authenticate(request._request, username=username, password=data["password"])
        if getattr(request._request, "axes_locked_out", False):
            raise SignInPaused(seconds=int(get_cool_off(request._request).total_seconds()))
        if user is None or not user.is_active:
            raise serializers.ValidationError(
                {"non_field_errors": [_("Unable to log in with this user name and password.")]}
            )
        if settings.AXES_RESET_ON_SUCCESS:
            # the page resets on Django's user_logged_in signal, which a token sign-in does not
            # send (axes would open a session for its access log)
            axes_reset(ip=client_address(request._request), username=username)
        client = data.get("client") or request.headers.get("User-Agent", "")
        issued = token_issue(user=user, client=client)
        token = issued.token
        return Response(
            io.TokenOutput(
                {
                    "token": issued.key,
                    "code": token.code,
                    "client": token.client,
                    "expires_at": token.expires_at,
                }
            ).data
        )

    @extend_schema(
        operation_id="sign_out",
        summary="Sign out: end the token this request carries",
        description=(
            "Ends the token sent in `Authorization`; from now on it gets 401. The account's "
            "other tokens (other devices, other integrations) keep working: end one of them "
            "with `DELETE /api/v1/auth/tokens/{id}/`. Only a token is signed out here, so a "
            "request without one gets 401."
        ),
        request=None,
        responses={204: None, **errors(401)},
        tags=["auth"],
    )
    def delete(self, request: Request) -> Response:
        token = request.auth
        assert isinstance(token, ApiToken)  # noqa: S101 - the only authentication here
        token_revoke(user=acting(request), code=token.code)
        return Response(status=status.HTTP_204_NO_CONTENT)


class TokenListView(APIView):
    @extend_schema(
        operation_id="tokens_list",
        summary="The caller's live tokens",
        description=(
            "Every token of the caller's account that has not ended, newest first: where it "
            "signed in from (`client`), when, when it was last used (to the minute) and when "
            "it expires; `current` marks the one this request was made with. Never a key: "
            "keys are not stored, only shown once at sign-in."
        ),
        responses={200: io.ApiTokenOutput(many=True), **errors(401)},
        tags=["auth"],
    )
    def get(self, request: Request) -> Response:
        tokens = token_list_of(user=acting(request), now=timezone.now())
        current = request.auth.pk if isinstance(request.auth, ApiToken) else None
        return Response(io.ApiTokenOutput(tokens, many=True, context={"current": current}).data)


class TokenDetailView(APIView):
    @extend_schema(
        operation_id="tokens_revoke",
        summary="End one of the caller's tokens",
        description=(
            "Ends the caller's token `id` (from `GET /api/v1/auth/tokens/`), e.g. a lost "
            "laptop's or a retired integration's; from now on it gets 401, and the caller's "
            "other tokens keep working. Ending the token the request carries is signing out. "
            "Another account's token, or one that has ended, is a 404."
        ),
        request=None,
        responses={204: None, **errors(401, 404)},
        tags=["auth"],
    )
    def delete(self, request: Request, id: UUID) -> Response:
        if not token_revoke(user=acting(request), code=id):
            raise NotFound
        return Response(status=status.HTTP_204_NO_CONTENT)


class MeView(APIView):
    @extend_schema(responses=io.MeOutput, tags=["me"])
    def get(self, request: Request) -> Response:
        user = acting(request)
        roles = permissions.roles_of(user)
        bodies = StateBody.objects.in_bulk(list(roles))
        servant = selectors.servant_of(user)
        manager = selectors.direct_manager_of(servant) if servant is not None else None
        data = {
            "username": user.get_username(),
            "full_name": servant.full_name if servant else user.get_full_name(),
            "language": get_language(),
            "roles": [
                {"body": bodies[body_id], "roles": sorted(names)}
                for body_id, names in sorted(roles.items())
            ],
            "servant": servant,
            "direct_manager": manager,
        }
        return Response(io.MeOutput(data).data)


# ---- pickers -------------------------------------------------------------------------------


@extend_schema_view(
    list=extend_schema(
        tags=["pickers"],
        parameters=[
            OpenApiParameter(
                "search", str, description="Part of the name, or the personnel number."
            )
        ],
    )
)
class ServantViewSet(mixins.ListModelMixin, viewsets.GenericViewSet):
    """Servants of the caller's bodies, to pick a substitute or a reviewer."""

    serializer_class = io.ServantOutput
    pagination_class = NamePagination

    def get_queryset(self) -> Any:
        query = self.request.query_params.get("search", "")[:200]
        return selectors.servant_search(user=self.request.user, query=query)


@extend_schema_view(
    list=extend_schema(
        tags=["pickers"],
        parameters=[
            OpenApiParameter("vacant", bool, description="Only vacant (true) or held (false)."),
            OpenApiParameter("search", str, description="Part of the title or unit name."),
        ],
        responses={200: io.VacantPositionOutput(many=True), **errors(400)},
    )
)
class PositionViewSet(mixins.ListModelMixin, viewsets.GenericViewSet):
    """Positions of the caller's bodies; ``vacant=true`` lists the targets of a transfer."""

    serializer_class = io.VacantPositionOutput
    pagination_class = TitlePagination

    def get_queryset(self) -> Any:
        raw = self.request.query_params.get("vacant")
        vacant = {"true": True, "false": False}.get((raw or "").lower())
        if raw is not None and vacant is None:
            raise serializers.ValidationError({"vacant": [_("Use true or false.")]})
        query = self.request.query_params.get("search", "")[:200]
        return selectors.position_search(user=self.request.user, vacant=vacant, query=query)
