"""URL configuration. The API and web pages are mounted here as later issues add them."""

from __future__ import annotations

from django.contrib import admin
from django.urls import path

urlpatterns = [
    path("admin/", admin.site.urls),
]
