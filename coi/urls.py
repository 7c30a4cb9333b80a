"""URL configuration. The API and web pages are mounted here as later issues add them."""

from __future__ import annotations

from django.contrib import admin
from django.urls import path
from django.views.generic import RedirectView

urlpatterns = [
    # Until the web pages exist (a later issue), the front door is the admin.
    path("", RedirectView.as_view(url="/admin/", permanent=False)),
    path("admin/", admin.site.urls),
]
