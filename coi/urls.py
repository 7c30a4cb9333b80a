"""URL configuration: the web pages, the admin, the REST API v1 with its schema and docs."""

from __future__ import annotations

from django.contrib import admin
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.urls import include, path
from django.utils.translation import gettext as _
from django.views.defaults import page_not_found
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView

from declarations.web.urls import account_patterns
from declarations.web.verify import verify

urlpatterns = [
    path("", include("declarations.web.urls")),
    path("accounts/", include(account_patterns)),
    path("admin/", admin.site.urls),
    path("api/v1/", include("declarations.api.urls")),
    path("api/schema/", SpectacularAPIView.as_view(), name="api-schema"),
    path("api/docs/", SpectacularSwaggerSplitView.as_view(url_name="api-schema"), name="api-docs"),
    # Public: printed on every record and in its QR code.
    path("verify/", verify, name="verify"),
    path("verify/<str:code>", verify, name="verify-code"),
]


def handler404(request: HttpRequest, exception: Exception) -> HttpResponse:
    """Unknown URLs under ``/api/`` answer in the API's one error shape, not an HTML page."""
    if request.path.startswith("/api/"):
        return JsonResponse({"code": "not_found", "message": _("Not found.")}, status=404)
    return page_not_found(request, exception)
