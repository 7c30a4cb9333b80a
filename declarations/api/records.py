"""Records, dossiers, exports and verification (DESIGN.md §4 and §6).

Records are listed on the declaration and downloaded as the stored, sealed bytes — never
re-rendered. A dossier is rendered on request for auditors, ethics commissioners and management, and
is a new record each time. Exports belong to the auditor who started them. Verification is open to
anyone holding a PDF.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.http import Http404, HttpResponse
from django.http.response import HttpResponseBase
from django.utils import timezone
from django.utils.translation import get_language
from django.utils.translation import gettext as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import parsers, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import PermissionDenied, Throttled
from rest_framework.generics import get_object_or_404
from rest_framework.permissions import AllowAny
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from declarations import permissions, selectors
from declarations.api import serializers as io
from declarations.api.common import acting, file_response, valid_input
from declarations.api.errors import Conflict, PayloadTooLarge
from declarations.api.negotiation import downloads
from declarations.api.schema import errors
from declarations.api.throttles import DossierRateThrottle, VerifyRateThrottle
from declarations.choices import AccessAction, ExportStatus, RecordStatus
from declarations.http import file_download
from declarations.models import Declaration, ExportJob, Record
from declarations.records import exports as export_services
from declarations.records import issuing as record_services
from declarations.records.labels import LANGUAGES
from declarations.records.verification import verify_pdf
from declarations.services.access import (
    access_record,
    access_record_download,
)
from declarations.stores import stored_bytes

PDF = OpenApiResponse(OpenApiTypes.BINARY, description="The sealed PDF.")

#: the dossier's own record id, to list or verify it later
RECORD_ID = OpenApiParameter(
    "X-Record-Id",
    OpenApiTypes.UUID,
    OpenApiParameter.HEADER,
    response=[200],
    required=True,
    description="The id of the record this dossier is (`GET /records/{id}/`).",
)


def pdf_response(data: bytes, filename: str) -> HttpResponse:
    return file_response(data, content_type="application/pdf", filename=filename)


def read_record(record: Record) -> bytes:
    if record.status != RecordStatus.ISSUED:
        raise Conflict(_("This record is still being issued; try again in a moment."))
    return stored_bytes(record.file)


def reader_language(request: Request, requested: str | None) -> str:
    if requested:
        if requested not in LANGUAGES:
            raise serializers.ValidationError({"language": [_("Choose kk, ru, en or kk-ru.")]})
        return requested
    lang = (get_language() or settings.LANGUAGE_CODE)[:2]
    return lang if lang in LANGUAGES else "ru"


def visible_declaration(request: Request, id: Any) -> Declaration:
    return get_object_or_404(
        selectors.declaration_list_visible_to(user=request.user).select_related("body"), code=id
    )


LANGUAGE_PARAM = OpenApiParameter(
    "language",
    str,
    enum=list(LANGUAGES),
    description="kk, ru, en, or kk-ru (both side by side); default: Accept-Language.",
)


class RecordViewSet(viewsets.GenericViewSet):
    lookup_field = "code"
    lookup_url_kwarg = "id"
    lookup_value_regex = "[0-9a-fA-F-]{36}"
    serializer_class = io.RecordOutput
    pagination_class = None

    def get_queryset(self) -> Any:
        return selectors.record_list_visible_to(user=self.request.user).select_related(
            "declaration"
        )

    def get_object(self) -> Record:
        """A record of a declaration in scope that says nothing withheld from the caller; else
        404."""
        record: Record = super().get_object()
        if not permissions.can_read_record(self.request.user, record):
            raise Http404
        return record

    @extend_schema(tags=["records"], responses=io.RecordOutput(many=True))
    def list_for_declaration(self, request: Request, id: str) -> Response:
        declaration = visible_declaration(request, id)
        records = self.get_queryset().filter(declaration=declaration).order_by("created_at", "pk")
        return Response(io.RecordOutput(records, many=True).data)

    @extend_schema(tags=["records"], responses=io.RecordOutput)
    def retrieve(self, request: Request, id: str) -> Response:
        return Response(io.RecordOutput(self.get_object()).data)

    @extend_schema(tags=["records"], responses={(200, "application/pdf"): PDF, **errors(409)})
    @action(detail=True, methods=["get"])
    @downloads("application/pdf")
    def pdf(self, request: Request, id: str) -> HttpResponse:
        record = self.get_object()
        name = f"{record.declaration.registration_number or 'declaration'}-{record.kind}.pdf"
        data = read_record(record)
        access_record_download(user=request.user, record=record, via="api")
        return pdf_response(data, name.replace("/", "-"))


class DossierView(APIView):
    """The declaration's dossier, made for the caller: it shows what ``permissions.disclosure`` lets
    them see and says what it withholds (a confidential source, from management).

    ``POST`` issues a new dossier; ``GET`` hands out the caller's own dossier of the last hour
    again while the declaration's audit chain has not moved, and issues one only when there is none,
    so that a plain link cannot make the server write a record on every request. Issuing is
    throttled per user (``COI_THROTTLE_DOSSIER``).
    """

    def _declaration(self, request: Request, id: str) -> Declaration:
        declaration = visible_declaration(request, id)
        if not permissions.can_view_dossier(request.user, declaration):
            raise PermissionDenied(
                _("Dossiers are for auditors, ethics commissioners and management.")
            )
        return declaration

    def _issue(
        self,
        request: Request,
        declaration: Declaration,
        language: str,
        shown: permissions.Disclosure | None = None,
    ) -> Record:
        """A new dossier for the caller, within their allowance (a reused one costs none)."""
        throttle = DossierRateThrottle()
        if not throttle.allow_request(request, self):
            raise Throttled(wait=throttle.wait())
        return record_services.dossier_issue(
            declaration=declaration, actor=acting(request), language=language, shown=shown
        )

    def _send(self, request: Request, record: Record, action: AccessAction) -> HttpResponse:
        """Hand the dossier over; the access log says so first (issue 14)."""
        data = read_record(record)
        access_record(
            user=request.user,
            action=action,
            declaration=record.declaration,
            object_code=str(record.code),
            data={"language": record.language, "via": "api"},
        )
        response = pdf_response(data, f"dossier-{record.verification_code}.pdf")
        response["X-Record-Id"] = str(record.code)
        return response

    @extend_schema(
        tags=["records"],
        operation_id="declarations_dossier",
        parameters=[LANGUAGE_PARAM, RECORD_ID],
        responses={(200, "application/pdf"): PDF, **errors(400, 403, 409, 429)},
    )
    @downloads("application/pdf")
    def get(self, request: Request, id: str) -> HttpResponse:
        declaration = self._declaration(request, id)
        language = reader_language(request, request.query_params.get("language"))
        shown = permissions.disclosure(request.user, declaration)  # once, for reuse or a new one
        reused = record_services.dossier_current(
            declaration=declaration,
            actor=acting(request),
            language=language,
            now=timezone.now(),
            shown=shown,
        )
        if reused is not None:
            return self._send(request, reused, AccessAction.DOSSIER_DOWNLOADED)
        record = self._issue(request, declaration, language, shown)
        return self._send(request, record, AccessAction.DOSSIER_GENERATED)

    @extend_schema(
        tags=["records"],
        operation_id="declarations_dossier_issue",
        parameters=[LANGUAGE_PARAM, RECORD_ID],
        request=None,
        responses={(200, "application/pdf"): PDF, **errors(400, 403, 409, 429)},
    )
    @downloads("application/pdf")
    def post(self, request: Request, id: str) -> HttpResponse:
        declaration = self._declaration(request, id)
        language = reader_language(request, request.query_params.get("language"))
        record = self._issue(request, declaration, language)
        return self._send(request, record, AccessAction.DOSSIER_GENERATED)


class ExportViewSet(viewsets.GenericViewSet):
    """An auditor's bulk exports: start one, watch its progress, download the ZIP."""

    lookup_field = "code"
    lookup_url_kwarg = "id"
    lookup_value_regex = "[0-9a-fA-F-]{36}"
    serializer_class = io.ExportOutput
    pagination_class = None

    def get_queryset(self) -> Any:
        return selectors.export_list_visible_to(user=self.request.user)

    @extend_schema(tags=["exports"], responses=io.ExportOutput(many=True))
    def list(self, request: Request) -> Response:
        return Response(io.ExportOutput(self.get_queryset()[:100], many=True).data)

    @extend_schema(
        tags=["exports"],
        request=io.ExportInput,
        responses={202: io.ExportOutput, **errors(403)},
    )
    def create(self, request: Request) -> Response:
        values = valid_input(io.ExportInput, request)
        job = export_services.export_create(
            actor=acting(request),
            filters=export_services.ExportFilters(
                bodies=values["body"],
                unit=str(values["unit"] or ""),
                submitted_from=values["submitted_from"],
                submitted_to=values["submitted_to"],
                states=tuple(values["state"]),
            ),
            language=reader_language(request, values.get("language")),
        )
        access_record(
            user=request.user,
            action=AccessAction.EXPORT_STARTED,
            object_code=str(job.code),
            data={"filters": job.filters, "language": job.language, "via": "api"},
        )
        job.refresh_from_db()
        return Response(io.ExportOutput(job).data, status=status.HTTP_202_ACCEPTED)

    @extend_schema(tags=["exports"], responses=io.ExportOutput)
    def retrieve(self, request: Request, id: str) -> Response:
        return Response(io.ExportOutput(self.get_object()).data)

    @extend_schema(
        tags=["exports"],
        parameters=[
            OpenApiParameter(
                "Digest",
                OpenApiTypes.STR,
                OpenApiParameter.HEADER,
                response=[200],
                required=True,
                description="sha-256=<hex>: the SHA-256 of the ZIP, as `sha256` in the export.",
            )
        ],
        responses={
            (200, "application/zip"): OpenApiResponse(
                OpenApiTypes.BINARY,
                description="The ZIP: every dossier, the register (CSV) and the latest signed "
                "audit checkpoint.",
            ),
            **errors(409),
        },
    )
    @action(detail=True, methods=["get"])
    @downloads("application/zip")
    def download(self, request: Request, id: str) -> HttpResponseBase:
        job: ExportJob = self.get_object()
        if job.status != ExportStatus.DONE:
            raise Conflict(_("The export is not finished yet."))
        access_record(
            user=request.user,
            action=AccessAction.EXPORT_DOWNLOADED,
            object_code=str(job.code),
            data={"sha256": job.sha256, "via": "api"},
        )
        # streamed: an export of a thousand dossiers is hundreds of megabytes
        response = file_download(
            job.file, content_type="application/zip", filename=f"export-{job.code}.zip"
        )
        response["Digest"] = f"sha-256={job.sha256}"
        return response


class VerifyView(APIView):
    """Anyone: is this PDF one of ours, unaltered, sealed by whom, and what does it record?"""

    permission_classes = [AllowAny]
    authentication_classes: list[Any] = []
    throttle_classes = [VerifyRateThrottle]
    parser_classes = [parsers.MultiPartParser]

    @extend_schema(
        tags=["records"],
        operation_id="verify_pdf",
        request={"multipart/form-data": io.VerifyInput},
        responses={200: io.VerdictOutput, **errors(413)},
        auth=[],
    )
    def post(self, request: Request) -> Response:
        upload = valid_input(io.VerifyInput, request)["file"]
        if upload.size > settings.COI_VERIFY_MAX_BYTES:
            raise PayloadTooLarge()
        verdict = verify_pdf(upload.read())
        return Response(io.VerdictOutput(verdict.as_dict()).data)
