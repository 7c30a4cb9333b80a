"""Declarations: scoped reads, drafts, one POST per transition calling the service (STYLE.md rule
19), comments, addenda, the declaration's measures and audit events, and the files of a notice."""

from __future__ import annotations

from collections.abc import Callable
from contextlib import AbstractContextManager
from typing import Any

from django.conf import settings
from django.http import HttpResponse
from django.utils import timezone
from django.utils.translation import gettext as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import parsers, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.generics import get_object_or_404
from rest_framework.request import Request
from rest_framework.response import Response

from declarations import permissions, selectors
from declarations.api import serializers as io
from declarations.api.common import (
    DeclarationPagination,
    acting,
    file_response,
    valid_input,
    with_etag,
    writing,
)
from declarations.api.errors import PayloadTooLarge
from declarations.api.filters import DeclarationFilter
from declarations.api.negotiation import downloads
from declarations.api.schema import errors
from declarations.api.serializers.deadlines import DeadlineOutput
from declarations.api.serializers.signing import (
    SignedDecideInput,
    SignedInput,
    SignedReasonInput,
    SignedTextInput,
)
from declarations.choices import AccessAction, Origin
from declarations.models import Attachment, Declaration, Measure, Servant
from declarations.permissions import allowed_actions
from declarations.services import attachments as attachment_services
from declarations.services import decisions, transitions
from declarations.services import declarations as declaration_services
from declarations.services.access import access_attachment_download, access_record
from declarations.services.attachments import ALLOWED_TYPES
from declarations.stores import stored_bytes


class DeclarationViewSet(viewsets.GenericViewSet):
    """Declarations: the caller's scope only (DESIGN.md §6)."""

    lookup_field = "code"
    lookup_url_kwarg = "id"
    lookup_value_regex = "[0-9a-fA-F-]{36}"
    pagination_class = DeclarationPagination
    filterset_class = DeclarationFilter
    serializer_class = io.DeclarationOutput

    def get_queryset(self) -> Any:
        return selectors.declaration_list_visible_to(user=self.request.user).select_related(
            "body", "declarant", "reviewer__servant", "opened_by__servant"
        )

    # -- helpers

    def _detail(self, declaration: Declaration, code: int = status.HTTP_200_OK) -> Response:
        """The declaration as the caller now sees it (read again after a write)."""
        return self._render(self._detail_queryset().get(pk=declaration.pk), code)

    def _detail_queryset(self) -> Any:
        return self.get_queryset().prefetch_related("attachments")

    def _render(self, declaration: Declaration, code: int = status.HTTP_200_OK) -> Response:
        user = self.request.user
        declaration.allowed_actions = allowed_actions(declaration, user)  # type: ignore[attr-defined]
        context = {"can_see_source": permissions.can_see_source(user, declaration)}
        body = io.DeclarationDetailOutput(declaration, context=context).data
        if declaration.source_confidential and context["can_see_source"]:
            # the reader is shown a confidential source, after a read or a write alike: the
            # access log says so (issue 14)
            access_record(
                user=user,
                action=AccessAction.SOURCE_VIEWED,
                declaration=declaration,
                data={"via": "api"},
            )
        return with_etag(Response(body, status=code), declaration)

    def _writing(self, *, required: bool = True) -> AbstractContextManager[Declaration]:
        """The declaration in scope (404), locked, with ``If-Match`` checked (428 when missing
        and ``required``, 412 when stale), in one transaction that the service joins."""
        return writing(
            self.request, self.get_object, lambda declaration: declaration, required=required
        )

    def _act(
        self,
        service: Callable[..., object],
        input_class: type[serializers.Serializer] | None = None,
        code: int = status.HTTP_200_OK,
        *,
        append: bool = False,
    ) -> Response:
        """Check the body, lock the declaration, call ``service`` and answer with the
        declaration. An ``append`` (a comment, an addendum) changes nothing already written,
        so it may leave ``If-Match`` out."""
        values = valid_input(input_class, self.request) if input_class is not None else {}
        with self._writing(required=not append) as declaration:
            service(declaration=declaration, actor=acting(self.request), **values)
        return self._detail(declaration, code)

    # -- reads

    #: the columns a list row shows (and the cursor orders by); long texts the row does not
    #: show, the chain head and the user rows' other columns stay in the database
    LIST_COLUMNS = (
        *("code", "registration_number", "state", "origin", "addressee", "conflict_type"),
        *("category", "matter", "personal_interest", "related_persons", "aware_since"),
        *("position_title", "unit_name", "submitted_at", "due_at", "recusal_started_at"),
        *("recusal_ended_at", "closed_at", "created_at", "updated_at"),
        *("body__code", "body__slug", "body__name", "body__bin"),
        *("declarant__code", "declarant__full_name"),
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
        declaration = get_object_or_404(self._detail_queryset(), code=id)
        return self._render(declaration)

    # -- drafts and other-source declarations

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
            declaration = declaration_services.declaration_create(actor=acting(request), **values)
        else:
            declarant = Servant.objects.filter(
                code=values.pop("declarant"), body_id__in=selectors.bodies_of(request.user)
            ).first()
            if declarant is None:
                raise serializers.ValidationError({"declarant": [_("No such servant.")]})
            declaration = transitions.declaration_open_from_source(
                actor=acting(request), declarant=declarant, **values
            )
        return self._detail(declaration, status.HTTP_201_CREATED)

    @extend_schema(
        tags=["declarations"],
        request=io.DeclarationUpdateInput,
        responses={200: io.DeclarationDetailOutput, **errors(403, 409, 412)},
    )
    def partial_update(self, request: Request, id: str) -> Response:
        values = valid_input(io.DeclarationUpdateInput, request, partial=True)
        with self._writing() as declaration:
            declaration_services.declaration_update_draft(
                declaration=declaration, actor=acting(request), **values
            )
        return self._detail(declaration)

    @extend_schema(tags=["declarations"], responses={204: None, **errors(403, 409, 412)})
    def destroy(self, request: Request, id: str) -> Response:
        with self._writing() as declaration:
            declaration_services.declaration_discard(declaration=declaration, actor=acting(request))
        return Response(status=status.HTTP_204_NO_CONTENT)

    # -- transitions: one POST each

    @extend_schema(
        tags=["transitions"],
        request=SignedInput,
        responses={200: io.DeclarationDetailOutput, **errors(400, 403, 409, 412)},
    )
    @action(detail=True, methods=["post"])
    def submit(self, request: Request, id: str) -> Response:
        return self._act(transitions.declaration_submit, SignedInput)

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
        request=SignedReasonInput,
        responses={200: io.DeclarationDetailOutput, **errors(403, 409, 412)},
    )
    @action(detail=True, methods=["post"], url_path="no-conflict")
    def no_conflict(self, request: Request, id: str) -> Response:
        return self._act(transitions.declaration_find_no_conflict, SignedReasonInput)

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
        with self._writing() as declaration:
            reviewer = decisions.in_body(
                Servant, data["reviewer"], body_id=declaration.body_id, key="reviewer"
            )
            transitions.declaration_reassign_reviewer(
                declaration=declaration,
                actor=acting(request),
                reviewer=reviewer.user,
                reason=data["reason"],
            )
        return self._detail(declaration)

    @extend_schema(
        tags=["transitions"],
        request=SignedDecideInput,
        responses={200: io.DeclarationDetailOutput, **errors(403, 409, 412)},
    )
    @action(detail=True, methods=["post"])
    def decide(self, request: Request, id: str) -> Response:
        data = valid_input(SignedDecideInput, request)
        with self._writing() as declaration:
            specs = [
                decisions.measure_spec_from_input(declaration=declaration, index=i, values=m)
                for i, m in enumerate(data["measures"])
            ]
            decisions.declaration_decide(
                declaration=declaration,
                actor=acting(request),
                measures=specs,
                reason=data["reason"],
                signature=data.get("signature"),
            )
        return self._detail(declaration)

    # -- the rest of the declaration: comments, addenda, measures, events, attachments

    @extend_schema(
        tags=["declarations"],
        operation_id="declarations_add_comment",
        request=io.TextInput,
        responses={201: io.DeclarationDetailOutput, **errors(403, 409, 412)},
    )
    @action(detail=True, methods=["post"])
    def comments(self, request: Request, id: str) -> Response:
        return self._act(declaration_services.declaration_comment, io.TextInput, 201, append=True)

    @extend_schema(
        tags=["declarations"],
        operation_id="declarations_add_addendum",
        request=SignedTextInput,
        responses={201: io.DeclarationDetailOutput, **errors(403, 409, 412)},
    )
    @action(detail=True, methods=["post"])
    def addenda(self, request: Request, id: str) -> Response:
        return self._act(
            declaration_services.declaration_add_addendum, SignedTextInput, 201, append=True
        )

    @extend_schema(tags=["measures"], responses=io.MeasureOutput(many=True))
    @action(detail=True, methods=["get"], pagination_class=None, filterset_class=None)
    def measures(self, request: Request, id: str) -> Response:
        declaration = self.get_object()
        qs = Measure.objects.filter(declaration=declaration).select_related(
            "declaration", "decision", "substitute", "position__unit"
        )
        return Response(io.MeasureOutput(qs, many=True).data)

    @extend_schema(tags=["declarations"], responses=DeadlineOutput(many=True))
    @action(detail=True, methods=["get"], pagination_class=None, filterset_class=None)
    def deadlines(self, request: Request, id: str) -> Response:
        """Every clock the declaration ran, as stored when it started and closed when it ended:
        who was due to act, by when, and how it ended (issue 14)."""
        declaration = self.get_object()
        qs = declaration.deadlines.select_related(
            "measure", "due_to_act__servant", "ended_by__servant"
        ).order_by("started_at", "id")
        return Response(DeadlineOutput(qs, many=True).data)

    @extend_schema(tags=["declarations"], responses=io.EventOutput(many=True))
    @action(detail=True, methods=["get"], pagination_class=None, filterset_class=None)
    def events(self, request: Request, id: str) -> Response:
        declaration = self.get_object()
        qs = selectors.event_list_visible_to(user=request.user, declaration=declaration)
        return Response(io.EventOutput(qs, many=True).data)


class AttachmentViewSet(viewsets.GenericViewSet):
    """Files of a notice: listed and added under the declaration, fetched and removed by id."""

    lookup_field = "code"
    lookup_url_kwarg = "id"
    lookup_value_regex = "[0-9a-fA-F-]{36}"
    serializer_class = io.AttachmentOutput
    pagination_class = None
    parser_classes = [parsers.MultiPartParser]  # only the upload has a body

    def get_queryset(self) -> Any:
        return selectors.attachment_list_visible_to(user=self.request.user)

    @extend_schema(tags=["attachments"], responses=io.AttachmentOutput(many=True))
    def list_for_declaration(self, request: Request, id: str) -> Response:
        declaration = selectors.declaration_get_visible(user=request.user, code=id)
        return Response(
            io.AttachmentOutput(Attachment.objects.filter(declaration=declaration), many=True).data
        )

    @extend_schema(
        tags=["attachments"],
        request={"multipart/form-data": io.AttachmentInput},
        responses={201: io.AttachmentOutput, **errors(403, 409, 413, 415)},
    )
    def create_for_declaration(self, request: Request, id: str) -> Response:
        limit = settings.COI_ATTACHMENT_MAX_BYTES
        declared = int(request.META.get("CONTENT_LENGTH") or 0)
        if declared > limit + 64 * 1024:  # refuse before reading the body
            raise PayloadTooLarge(
                _("The file is larger than %(mb)s MB.") % {"mb": limit // (1024 * 1024)}
            )
        declaration = selectors.declaration_get_visible(user=request.user, code=id)
        upload = valid_input(io.AttachmentInput, request)["file"]
        attachment = attachment_services.attachment_add(
            declaration=declaration,
            actor=acting(request),
            filename=upload.name or "",
            content=upload,
            size=upload.size or 0,
        )
        return Response(io.AttachmentOutput(attachment).data, status=status.HTTP_201_CREATED)

    @extend_schema(
        tags=["attachments"],
        operation_id="attachments_download",
        responses={
            (200, content_type): OpenApiResponse(
                OpenApiTypes.BINARY, description="The file, as it was attached."
            )
            for content_type in ALLOWED_TYPES
        },
    )
    @downloads(*ALLOWED_TYPES)
    def retrieve(self, request: Request, id: str) -> HttpResponse:
        attachment = self.get_object()
        # Read whole (files are small, COI_ATTACHMENT_MAX_BYTES): no file handle outlives the
        # request, whether or not the client reads the body.
        content = stored_bytes(attachment.file)
        access_attachment_download(user=request.user, attachment=attachment, via="api")
        return file_response(
            content, content_type=attachment.content_type, filename=attachment.filename
        )

    @extend_schema(tags=["attachments"], responses={204: None, **errors(403, 409)})
    def destroy(self, request: Request, id: str) -> Response:
        attachment_services.attachment_remove(attachment=self.get_object(), actor=acting(request))
        return Response(status=status.HTTP_204_NO_CONTENT)
