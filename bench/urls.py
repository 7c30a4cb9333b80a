"""The project's URLs plus the plain views the benchmarks compare against."""

from __future__ import annotations

from django.http import HttpRequest, JsonResponse
from django.urls import path
from rest_framework.request import Request
from rest_framework.settings import api_settings

from coi.urls import handler404, handler500  # noqa: F401 - the project's error handlers
from coi.urls import urlpatterns as project
from declarations import selectors
from declarations.models import NOTICE_FIELDS


def plain_list(request: HttpRequest) -> JsonResponse:
    """The floor: the same scoped rows, newest first, as dicts, no serializer."""
    rows = list(
        # through the module, so that ``--scope before`` (bench/scope_before.py) reaches it too
        selectors.declaration_list_visible_to(user=request.user)
        .order_by("-created_at")
        .values(
            "code",
            "registration_number",
            "state",
            "origin",
            *NOTICE_FIELDS,
            "body__code",
            "body__slug",
            "body__name",
            "declarant__code",
            "declarant__full_name",
            "position_title",
            "unit_name",
            "reviewer__servant__code",
            "reviewer__servant__full_name",
            "submitted_at",
            "due_at",
            "recusal_started_at",
            "recusal_ended_at",
            "closed_at",
            "created_at",
            "updated_at",
        )[:50]
    )
    return JsonResponse({"results": rows})


def plain_list_token(request: HttpRequest) -> JsonResponse:
    """The load test's floor: ``plain_list`` for a caller signed in with an API token."""
    wrapped = Request(request)
    for authentication in api_settings.DEFAULT_AUTHENTICATION_CLASSES:
        found = authentication().authenticate(wrapped)
        if found is not None:
            request.user = found[0]
            return plain_list(request)
    return JsonResponse({"detail": "no token"}, status=401)


urlpatterns = [
    path("bench/plain/", plain_list),
    path("bench/plain-token/", plain_list_token),
    *project,
]
