"""The API views: scoped reads, and one POST per action calling the service (STYLE.md rule 19).

Every object is fetched from the caller's scoped queryset, so anything outside it is a 404.
A write first locks the row and checks ``If-Match`` (412), then calls the same service the web
pages and commands use; that service checks the state (409) and the actor (403).
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import timedelta
from typing import TYPE_CHECKING, Any

from django.conf import settings
from django.contrib.auth import authenticate
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import transaction
from django.http import HttpResponse
from django.utils import timezone
from django.utils.translation import get_language
from django.utils.translation import gettext as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import (
    OpenApiParameter,
    OpenApiResponse,
    extend_schema,
    extend_schema_view,
)
from rest_framework import mixins, parsers, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import NotAuthenticated, NotFound
from rest_framework.generics import get_object_or_404
from rest_framework.pagination import CursorPagination
from rest_framework.permissions import AllowAny, IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from declarations import permissions, selectors
from declarations.api import serializers as io
from declarations.api.auth import token_issue, token_revoke
from declarations.api.errors import PayloadTooLarge, PreconditionFailed
from declarations.api.filters import DeclarationFilter, MeasureFilter
from declarations.api.schema import errors
from declarations.api.throttles import LoginRateThrottle
from declarations.choices import Origin
from declarations.http import file_response
from declarations.models import Attachment, Declaration, Measure, Position, Servant, StateBody
from declarations.permissions import allowed_actions
from declarations.services import attachments as attachment_services
from declarations.services import decisions, transitions
from declarations.services import declarations as declaration_services
from declarations.services import measures as measure_services
from declarations.services.attachments import ALLOWED_TYPES
from declarations.services.steps import lock_case

if TYPE_CHECKING:
    from django.contrib.auth.models import User


def acting(request: Request) -> User:
    """The signed-in caller (every view that writes requires authentication)."""
    user = request.user
    if not user.is_authenticated:
        raise NotAuthenticated()
    return user


def valid_input(serializer_class: type[serializers.Serializer], request: Request, **kw: Any) -> Any:
    """The request body checked by an input serializer (400 with per-field messages)."""
    data = serializer_class(data=request.data, **kw)
    data.is_valid(raise_exception=True)
    return data.validated_data


def in_body(model: type[Servant] | type[Position], code: Any, body_id: int, key: str) -> Any:
    """An object of the case's body named by the client, or a 400 on ``key``. ``key`` may be
    ``measures.<i>.<field>``: the error handler nests it like the service's own errors."""
    found = model.objects.filter(code=code, body_id=body_id).first()
    if found is None:
        message = (
            _("No such servant in this body.")
            if model is Servant
            else _("No such position in this body.")
        )
        raise DjangoValidationError({key: [message]})
    return found


# ---- versions (ETag / If-Match) ---------------------------------------------------------------


def version_of(obj: Declaration | Measure) -> str:
    """Opaque and changing with every write: every step of a case moves ``updated_at``."""
    raw = f"{obj.code}:{getattr(obj, 'audit_seq', 0)}:{obj.state}:{obj.updated_at.isoformat()}"
    return hashlib.sha256(raw.encode()).hexdigest()[:20]


def check_if_match(request: Request, obj: Declaration | Measure) -> None:
    header = request.headers.get("If-Match")
    if not header or header.strip() == "*":
        return
    wanted = {tag.strip().removeprefix("W/").strip('"') for tag in header.split(",")}
    if version_of(obj) not in wanted:
        raise PreconditionFailed(_("The case has changed since you read it; read it again."))


def with_etag(response: Response, obj: Declaration | Measure) -> Response:
    response["ETag"] = f'"{version_of(obj)}"'
    return response


# ---- pagination -------------------------------------------------------------------------------


class StrictCursorPagination(CursorPagination):
    """Keyset pagination: a page deep in the list costs what the first one does.

    ``page_size`` must be a whole number from 1 to ``max_page_size``; DRF would silently fall
    back to the default on anything else.
    """

    page_size_query_param = "page_size"

    def get_page_size(self, request: Request) -> int | None:
        values = request.query_params.getlist("page_size")
        if not values:
            return self.page_size
        if (
            len(values) > 1
            or not values[0].isdigit()
            or not 1 <= int(values[0]) <= (self.max_page_size or 0)
        ):
            raise serializers.ValidationError(
                {"page_size": [_("A whole number from 1 to %(n)d.") % {"n": self.max_page_size}]}
            )
        return int(values[0])

    def decode_cursor(self, request: Request) -> Any:
        try:
            return super().decode_cursor(request)
        except NotFound:  # DRF answers a mangled cursor with 404; it is bad input
            raise serializers.ValidationError(
                {"cursor": [_("This is not a cursor from a previous page.")]}
            ) from None


class CasePagination(StrictCursorPagination):
    ordering = "-created_at"
    page_size = 50
    max_page_size = 200


class NamePagination(StrictCursorPagination):
    ordering = "full_name"
    page_size = 20
    max_page_size = 100


class TitlePagination(NamePagination):
    ordering = "title"


# ---- auth and /me/ ----------------------------------------------------------------------------


class TokenView(APIView):
    """``POST``: user name and password give a token (``Authorization: Token <key>``);
    ``DELETE``: revoke the caller's token."""

    throttle_classes = [LoginRateThrottle]

    def get_permissions(self) -> list[Any]:
        if self.request is not None and self.request.method == "DELETE":
            return [IsAuthenticated()]
        return [AllowAny()]

    def get_authenticators(self) -> list[Any]:
        if getattr(self, "request", None) is None or self.request.method != "DELETE":
            # logging in needs no credentials, and no CSRF token either
            return []
        return super().get_authenticators()

    def get_throttles(self) -> list[Any]:
        return super().get_throttles() if self.request.method == "POST" else []

    @extend_schema(
        request=io.TokenInput,
        responses={200: io.TokenOutput, **errors(400, 415, 429)},
        auth=[],
        tags=["auth"],
    )
    def post(self, request: Request) -> Response:
        data = valid_input(io.TokenInput, request)
        user = authenticate(request._request, username=data["username"], password=data["password"])
        if user is None or not user.is_active:
            raise serializers.ValidationError(
                {"non_field_errors": [_("Unable to log in with this user name and password.")]}
            )
        token = token_issue(user=user)
        expires = token.created + timedelta(seconds=settings.COI_TOKEN_TTL_SECONDS)
        return Response(io.TokenOutput({"token": token.key, "expires_at": expires}).data)

    @extend_schema(request=None, responses={204: None}, tags=["auth"])
    def delete(self, request: Request) -> Response:
        token_revoke(user=request.user)
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


# ---- declarations ----------------------------------------------------------------------------


class DeclarationViewSet(viewsets.GenericViewSet):
    """Cases: the caller's scope only (DESIGN.md §6)."""

    lookup_field = "code"
    lookup_url_kwarg = "id"
    lookup_value_regex = "[0-9a-fA-F-]{36}"
    pagination_class = CasePagination
    filterset_class = DeclarationFilter
    serializer_class = io.DeclarationOutput

    def get_queryset(self) -> Any:
        return selectors.declaration_list_visible_to(user=self.request.user).select_related(
            "body", "declarant", "reviewer__servant", "opened_by__servant"
        )

    # -- helpers

    def _detail(self, case: Declaration, code: int = status.HTTP_200_OK) -> Response:
        """The case as the caller now sees it (read again after a write)."""
        return self._render(self._detail_queryset().get(pk=case.pk), code)

    def _detail_queryset(self) -> Any:
        return self.get_queryset().prefetch_related("attachments")

    def _render(self, case: Declaration, code: int = status.HTTP_200_OK) -> Response:
        user = self.request.user
        case.version = version_of(case)  # type: ignore[attr-defined]
        case.allowed_actions = allowed_actions(case, user)  # type: ignore[attr-defined]
        context = {"can_see_source": permissions.can_see_source(user, case)}
        body = io.DeclarationDetailOutput(case, context=context).data
        return with_etag(Response(body, status=code), case)

    @contextmanager
    def _writing(self) -> Iterator[Declaration]:
        """The case in scope (404), locked, with ``If-Match`` checked (412), in one transaction
        that the service joins."""
        with transaction.atomic():
            case = lock_case(self.get_object(), expect_state=False)
            check_if_match(self.request, case)
            yield case

    def _act(
        self,
        service: Callable[..., Any],
        input_class: type[serializers.Serializer] | None = None,
        code: int = status.HTTP_200_OK,
    ) -> Response:
        """Check the body, lock the case, call ``service`` and answer with the case."""
        values = valid_input(input_class, self.request) if input_class is not None else {}
        with self._writing() as case:
            service(declaration=case, actor=acting(self.request), **values)
        return self._detail(case, code)

    # -- reads

    #: the columns a list row shows (and the cursor orders by); long texts the row does not
    #: show, the chain head and the user rows' other columns stay in the database
    LIST_COLUMNS = (
        *("code", "registration_number", "state", "origin", "addressee", "conflict_type"),
        *("category", "matter", "personal_interest", "related_persons", "aware_since"),
        *("position_title", "unit_name", "submitted_at", "due_at", "recusal_started_at"),
        *("recusal_ended_at", "closed_at", "created_at", "updated_at"),
        *("body__code", "body__slug", "body__name", "declarant__code", "declarant__full_name"),
        *("reviewer__username", "reviewer__first_name", "reviewer__last_name"),
        *("reviewer__servant__code", "reviewer__servant__full_name"),
    )

    @extend_schema(tags=["declarations"], responses=io.DeclarationOutput(many=True))
    def list(self, request: Request) -> Response:
        qs = (
            selectors.declaration_list_visible_to(user=request.user)
            .select_related("body", "declarant", "reviewer__servant")
            .only(*self.LIST_COLUMNS)
        )
        qs = self.filter_queryset(qs)
        page = self.paginate_queryset(qs)
        context = {"now": timezone.now()}
        return self.get_paginated_response(
            io.DeclarationOutput(page, many=True, context=context).data
        )

    @extend_schema(tags=["declarations"], responses=io.DeclarationDetailOutput)
    def retrieve(self, request: Request, id: str) -> Response:
        # DRF's helper: an id that is not a UUID is a 404 too, as for every other lookup
        return self._render(get_object_or_404(self._detail_queryset(), code=id))

    # -- drafts and other-source cases

    @extend_schema(
        tags=["declarations"],
        request=io.DeclarationCreateInput,
        responses={201: io.DeclarationDetailOutput, **errors(403)},
    )
    def create(self, request: Request) -> Response:
        values = dict(valid_input(io.DeclarationCreateInput, request))
        origin = values.pop("origin")
        if origin == Origin.SELF:
            for name in ("declarant", "source_description", "source_confidential"):
                values.pop(name, None)
            case = declaration_services.declaration_create(actor=acting(request), **values)
        else:
            declarant = Servant.objects.filter(
                code=values.pop("declarant"), body_id__in=selectors.bodies_of(request.user)
            ).first()
            if declarant is None:
                raise serializers.ValidationError({"declarant": [_("No such servant.")]})
            case = transitions.declaration_open_from_source(
                actor=acting(request), declarant=declarant, **values
            )
        return self._detail(case, status.HTTP_201_CREATED)

    @extend_schema(
        tags=["declarations"],
        request=io.DeclarationUpdateInput,
        responses={200: io.DeclarationDetailOutput, **errors(403, 409, 412)},
    )
    def partial_update(self, request: Request, id: str) -> Response:
        values = valid_input(io.DeclarationUpdateInput, request, partial=True)
        with self._writing() as case:
            declaration_services.declaration_update_draft(
                declaration=case, actor=acting(request), **values
            )
        return self._detail(case)

    @extend_schema(tags=["declarations"], responses={204: None, **errors(403, 409, 412)})
    def destroy(self, request: Request, id: str) -> Response:
        with self._writing() as case:
            declaration_services.declaration_discard(declaration=case, actor=acting(request))
        return Response(status=status.HTTP_204_NO_CONTENT)

    # -- transitions: one POST each

    @extend_schema(
        tags=["transitions"],
        request=None,
        responses={200: io.DeclarationDetailOutput, **errors(400, 403, 409, 412)},
    )
    @action(detail=True, methods=["post"])
    def submit(self, request: Request, id: str) -> Response:
        return self._act(transitions.declaration_submit)

    @extend_schema(
        tags=["transitions"],
        request=None,
        responses={200: io.DeclarationDetailOutput, **errors(403, 409, 412)},
    )
    @action(detail=True, methods=["post"], url_path="start-review")
    def start_review(self, request: Request, id: str) -> Response:
        return self._act(transitions.declaration_start_review)

    @extend_schema(
        tags=["transitions"],
        request=io.ReasonInput,
        responses={200: io.DeclarationDetailOutput, **errors(403, 409, 412)},
    )
    @action(detail=True, methods=["post"], url_path="no-conflict")
    def no_conflict(self, request: Request, id: str) -> Response:
        return self._act(transitions.declaration_find_no_conflict, io.ReasonInput)

    @extend_schema(
        tags=["transitions"],
        request=io.ReasonInput,
        responses={200: io.DeclarationDetailOutput, **errors(403, 409, 412)},
    )
    @action(detail=True, methods=["post"])
    def withdraw(self, request: Request, id: str) -> Response:
        return self._act(transitions.declaration_withdraw, io.ReasonInput)

    @extend_schema(
        tags=["transitions"],
        request=io.ReassignReviewerInput,
        responses={200: io.DeclarationDetailOutput, **errors(403, 409, 412)},
    )
    @action(detail=True, methods=["post"], url_path="reassign-reviewer")
    def reassign_reviewer(self, request: Request, id: str) -> Response:
        data = valid_input(io.ReassignReviewerInput, request)
        with self._writing() as case:
            reviewer = in_body(Servant, data["reviewer"], case.body_id, "reviewer")
            transitions.declaration_reassign_reviewer(
                declaration=case,
                actor=acting(request),
                reviewer=reviewer.user,
                reason=data["reason"],
            )
        return self._detail(case)

    @extend_schema(
        tags=["transitions"],
        request=io.DecideInput,
        responses={200: io.DeclarationDetailOutput, **errors(403, 409, 412)},
    )
    @action(detail=True, methods=["post"])
    def decide(self, request: Request, id: str) -> Response:
        data = valid_input(io.DecideInput, request)
        with self._writing() as case:
            specs = [
                decisions.measure_spec_from_input(case=case, index=i, values=m)
                for i, m in enumerate(data["measures"])
            ]
            decisions.declaration_decide(
                declaration=case, actor=acting(request), measures=specs, reason=data["reason"]
            )
        return self._detail(case)

    # -- the rest of the case: comments, addenda, measures, events, attachments

    @extend_schema(
        tags=["declarations"],
        request=io.TextInput,
        responses={201: io.DeclarationDetailOutput, **errors(403, 409, 412)},
    )
    @action(detail=True, methods=["post"])
    def comments(self, request: Request, id: str) -> Response:
        return self._act(declaration_services.declaration_comment, io.TextInput, 201)

    @extend_schema(
        tags=["declarations"],
        request=io.TextInput,
        responses={201: io.DeclarationDetailOutput, **errors(403, 409, 412)},
    )
    @action(detail=True, methods=["post"])
    def addenda(self, request: Request, id: str) -> Response:
        return self._act(declaration_services.declaration_add_addendum, io.TextInput, 201)

    @extend_schema(tags=["measures"], responses=io.MeasureOutput(many=True))
    @action(detail=True, methods=["get"], pagination_class=None, filterset_class=None)
    def measures(self, request: Request, id: str) -> Response:
        case = self.get_object()
        qs = Measure.objects.filter(declaration=case).select_related(
            "declaration", "decision", "substitute", "position__unit"
        )
        return Response(io.MeasureOutput(qs, many=True).data)

    @extend_schema(tags=["declarations"], responses=io.EventOutput(many=True))
    @action(detail=True, methods=["get"], pagination_class=None, filterset_class=None)
    def events(self, request: Request, id: str) -> Response:
        case = self.get_object()
        qs = selectors.event_list_visible_to(user=request.user, declaration=case)
        return Response(io.EventOutput(qs, many=True).data)


class AttachmentViewSet(viewsets.GenericViewSet):
    """Files of a notice: listed and added under the case, fetched and removed by id."""

    lookup_field = "code"
    lookup_url_kwarg = "id"
    lookup_value_regex = "[0-9a-fA-F-]{36}"
    serializer_class = io.AttachmentOutput
    pagination_class = None
    parser_classes = [parsers.MultiPartParser]  # only the upload has a body

    def get_queryset(self) -> Any:
        return selectors.attachment_list_visible_to(user=self.request.user)

    @extend_schema(tags=["attachments"], responses=io.AttachmentOutput(many=True))
    def list_for_case(self, request: Request, id: str) -> Response:
        case = selectors.declaration_get_visible(user=request.user, code=id)
        return Response(
            io.AttachmentOutput(Attachment.objects.filter(declaration=case), many=True).data
        )

    @extend_schema(
        tags=["attachments"],
        request={"multipart/form-data": io.AttachmentInput},
        responses={201: io.AttachmentOutput, **errors(403, 409, 413, 415)},
    )
    def create_for_case(self, request: Request, id: str) -> Response:
        limit = settings.COI_ATTACHMENT_MAX_BYTES
        declared = int(request.META.get("CONTENT_LENGTH") or 0)
        if declared > limit + 64 * 1024:  # refuse before reading the body
            raise PayloadTooLarge(
                _("The file is larger than %(mb)s MB.") % {"mb": limit // (1024 * 1024)}
            )
        case = selectors.declaration_get_visible(user=request.user, code=id)
        upload = valid_input(io.AttachmentInput, request)["file"]
        attachment = attachment_services.attachment_add(
            declaration=case,
            actor=acting(request),
            filename=upload.name or "",
            content=upload,
            size=upload.size or 0,
        )
        return Response(io.AttachmentOutput(attachment).data, status=status.HTTP_201_CREATED)

    @extend_schema(
        tags=["attachments"],
        responses={
            (200, content_type): OpenApiResponse(OpenApiTypes.BINARY)
            for content_type in ALLOWED_TYPES
        },
    )
    def retrieve(self, request: Request, id: str) -> HttpResponse:
        attachment = self.get_object()
        # Read whole (files are small, COI_ATTACHMENT_MAX_BYTES): no file handle outlives the
        # request, whether or not the client reads the body.
        with attachment.file.open("rb") as f:
            content = f.read()
        return file_response(
            content, content_type=attachment.content_type, filename=attachment.filename
        )

    @extend_schema(tags=["attachments"], responses={204: None, **errors(403, 409)})
    def destroy(self, request: Request, id: str) -> Response:
        attachment_services.attachment_remove(attachment=self.get_object(), actor=acting(request))
        return Response(status=status.HTTP_204_NO_CONTENT)


# ---- measures --------------------------------------------------------------------------------


class MeasureViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """Measures of the cases in the caller's scope; HR filters ``state=pending_order``."""

    lookup_field = "code"
    lookup_url_kwarg = "id"
    lookup_value_regex = "[0-9a-fA-F-]{36}"
    serializer_class = io.MeasureOutput
    filterset_class = MeasureFilter
    pagination_class = CasePagination

    def get_queryset(self) -> Any:
        return selectors.measure_list_visible_to(user=self.request.user)

    def _respond(self, measure: Measure) -> Response:
        measure = self.get_queryset().get(pk=measure.pk)
        return with_etag(Response(io.MeasureOutput(measure).data), measure)

    @extend_schema(tags=["measures"])
    def list(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        return super().list(request, *args, **kwargs)

    @extend_schema(tags=["measures"])
    def retrieve(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        return self._respond(self.get_object())

    @contextmanager
    def _writing(self) -> Iterator[Measure]:
        """As for cases: the measure's case locked, then ``If-Match`` checked on the measure
        read under that lock."""
        with transaction.atomic():
            measure = self.get_object()
            case = lock_case(measure.declaration, expect_state=False)
            measure = self.get_queryset().get(pk=measure.pk)
            measure.declaration = case
            check_if_match(self.request, measure)
            yield measure

    @extend_schema(
        tags=["measures"],
        request=io.ConsentInput,
        responses={200: io.MeasureOutput, **errors(403, 409, 412)},
    )
    @action(detail=True, methods=["post"])
    def consent(self, request: Request, id: str) -> Response:
        values = valid_input(io.ConsentInput, request)
        with self._writing() as measure:
            measure_services.measure_consent(measure=measure, actor=acting(request), **values)
        return self._respond(measure)

    @extend_schema(
        tags=["measures"],
        request=io.ImplementInput,
        responses={200: io.MeasureOutput, **errors(403, 409, 412)},
    )
    @action(detail=True, methods=["post"])
    def implement(self, request: Request, id: str) -> Response:
        values = valid_input(io.ImplementInput, request)
        with self._writing() as measure:
            measure_services.measure_implement(measure=measure, actor=acting(request), **values)
        return self._respond(measure)


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
