"""The access log, by person or by declaration (issue 14): who generated a dossier, downloaded a
record, a file or an export, or was shown a confidential source.

Management and auditors see the accesses to the declarations of their bodies, and to the exports
that carried one of their dossiers; everyone else gets an empty list, as for any list outside
the caller's scope.
"""

from __future__ import annotations

from typing import Any
from uuid import UUID

from django.db.models import Q
from drf_spectacular.utils import extend_schema
from rest_framework import viewsets
from rest_framework.request import Request
from rest_framework.response import Response

from declarations import permissions
from declarations.access_log import access_events_of
from declarations.api.common import StrictCursorPagination
from declarations.api.serializers.access import AccessEventOutput, AccessFilterInput
from declarations.models import Declaration


class AccessPagination(StrictCursorPagination):
    ordering = "-seq"
    page_size = 50
    max_page_size = 200


def _who(value: str) -> Q:
    """A servant by public id, anyone else (an auditor) by user name."""
    try:
        return Q(user__servant__code=UUID(value))
    except ValueError:
        return Q(user__username=value)


class AccessViewSet(viewsets.GenericViewSet):
    serializer_class = AccessEventOutput
    pagination_class = AccessPagination

    def get_queryset(self) -> Any:
        bodies = permissions.bodies_for(self.request.user, "access_log")
        return Declaration.objects.filter(body_id__in=bodies)

    @extend_schema(
        tags=["access"], parameters=[AccessFilterInput], responses=AccessEventOutput(many=True)
    )
    def list(self, request: Request) -> Response:
        """Accesses to the declarations of the caller's bodies, newest first."""
        query = AccessFilterInput(data=request.query_params.dict())
        query.is_valid(raise_exception=True)
        values = query.validated_data
        declarations = self.get_queryset()
        if "declaration" in values:
            declarations = declarations.filter(code=values["declaration"])
        events = access_events_of(declarations)
        if "user" in values:
            events = events.filter(_who(values["user"]))
        if "action" in values:
            events = events.filter(action=values["action"])
        page = self.paginate_queryset(events)
        return self.get_paginated_response(AccessEventOutput(page, many=True).data)
