"""Measures: read in the caller's scope; the servant's answer to a transfer and HR's order, each
a POST calling the service (STYLE.md rule 19). A declaration's own measures are listed under the
declaration (``api/declarations.py``)."""

from __future__ import annotations

from contextlib import AbstractContextManager
from typing import Any

from drf_spectacular.utils import extend_schema
from rest_framework import mixins, viewsets
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response

from declarations import selectors
from declarations.api import serializers as io
from declarations.api.common import DeclarationPagination, acting, valid_input, with_etag, writing
from declarations.api.filters import MeasureFilter
from declarations.api.schema import errors
from declarations.api.serializers.signing import SignedConsentInput
from declarations.models import Declaration, Measure
from declarations.services import measures as measure_services


class MeasureViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """Measures of the declarations in the caller's scope; HR filters ``state=pending_order``."""

    lookup_field = "code"
    lookup_url_kwarg = "id"
    lookup_value_regex = "[0-9a-fA-F-]{36}"
    serializer_class = io.MeasureOutput
    filterset_class = MeasureFilter
    pagination_class = DeclarationPagination

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

    def _writing(self) -> AbstractContextManager[Measure]:
        """As for declarations: the measure's declaration locked, then ``If-Match`` checked on the
        measure read under that lock."""

        def under_lock(declaration: Declaration) -> Measure:
            measure: Measure = self.get_queryset().get(code=self.kwargs[self.lookup_url_kwarg])
            measure.declaration = declaration
            return measure

        return writing(self.request, lambda: self.get_object().declaration, under_lock)

    @extend_schema(
        tags=["measures"],
        request=SignedConsentInput,
        responses={200: io.MeasureOutput, **errors(403, 409, 412)},
    )
    @action(detail=True, methods=["post"])
    def consent(self, request: Request, id: str) -> Response:
        values = valid_input(SignedConsentInput, request)
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
