"""URL configuration: the web pages, the admin, the REST API v1 with its schema and docs."""

from __future__ import annotations

import sys

from django.contrib import admin
from django.db import InterfaceError, OperationalError
from django.http import HttpRequest, HttpResponse
from django.template.loader import render_to_string
from django.urls import include, path
from django.views.defaults import bad_request, page_not_found, server_error
from drf_spectacular.views import SpectacularSwaggerSplitView

from declarations.api.contract import SchemaView
from declarations.api.errors import RETRY_AFTER_SECONDS, status_response
from declarations.api.middleware import PREFIX as API_PREFIX
from declarations.web.urls import account_patterns
from declarations.web.verify import verify

urlpatterns = [
    path("", include("declarations.web.urls")),
    path("accounts/", include(account_patterns)),
    path("admin/", admin.site.urls),
    path("api/v1/", include("declarations.api.urls")),
    path("api/schema/", SchemaView.as_view(), name="api-schema"),
    path("api/docs/", SpectacularSwaggerSplitView.as_view(url_name="api-schema"), name="api-docs"),
    # Public: printed on every record and in its QR code.
    path("verify/", verify, name="verify"),
    path("verify/<str:code>", verify, name="verify-code"),
]


def handler400(request: HttpRequest, exception: Exception) -> HttpResponse:
    """A request Django refused to read (``SuspiciousOperation``, a body over the limit) answers
    in the API's shape under ``/api/``."""
    if request.path.startswith(API_PREFIX):
        return status_response(request, 400)
    return bad_request(request, exception)


def handler404(request: HttpRequest, exception: Exception) -> HttpResponse:
    """Unknown URLs under ``/api/`` answer in the API's one error shape, not an HTML page
    (``ApiErrorMiddleware`` does the same with ``DEBUG`` on, where this handler is not used)."""
    if request.path.startswith(API_PREFIX):
        return status_response(request, 404)
    return page_not_found(request, exception)


def handler500(request: HttpRequest) -> HttpResponse:
    """The database away (restarted, failed over; issue 17) is a 503 a client may retry after
    ``Retry-After``, in the API's shape under ``/api/`` and as a page elsewhere; nothing was
    half-written (a step is one transaction). Any other error is a 500: the envelope under
    ``/api/``, Django's page elsewhere."""
    api = request.path.startswith(API_PREFIX)
    if isinstance(sys.exc_info()[1], OperationalError | InterfaceError):
        if api:
            response: HttpResponse = status_response(request, 503)
        else:
            response = HttpResponse(render_to_string("503.html"), status=503)
        response["Retry-After"] = str(RETRY_AFTER_SECONDS)
        return response
    return status_response(request, 500) if api else server_error(request)
