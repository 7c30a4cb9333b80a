"""The public verification page (DESIGN.md §4): follow a record's QR code, or upload a PDF.

``/verify/<code>`` says what the record with that code is — its kind, registration number,
state body, when it was issued and its SHA-256 — but not whom it concerns: anyone can type a
code, and the record's facts are for those who hold it. Uploading the file answers whether it
is that record, unaltered (the same check as ``POST /api/v1/verify/``, and counted against the
same per-address budget: ``REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"]["verify"]``).
"""

from __future__ import annotations

from django import forms
from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_http_methods

from declarations.client import VerifyRateThrottle
from declarations.records.verification import record_by_code, verify_pdf
from declarations.web.common import too_many_requests


class VerifyForm(forms.Form):
    file = forms.FileField(label=_("The PDF to check"))

    def clean_file(self) -> bytes:
        upload = self.cleaned_data["file"]
        if upload.size > settings.COI_VERIFY_MAX_BYTES:
            raise forms.ValidationError(_("The file is too large."))
        data: bytes = upload.read()
        return data


@require_http_methods(["GET", "POST"])
def verify(request: HttpRequest, code: str = "") -> HttpResponse:
    if request.method == "POST":
        throttle = VerifyRateThrottle()
        if not throttle.allow_page(request):
            return too_many_requests(request, throttle)
    record = record_by_code(code) if code else None
    form = VerifyForm(request.POST or None, request.FILES or None)
    verdict = verify_pdf(form.cleaned_data["file"]) if form.is_valid() else None
    # the strict Content-Security-Policy of every page comes from django-csp (settings)
    return render(
        request,
        "declarations/verify.html",
        {"code": code, "record": record, "form": form, "verdict": verdict},
        status=404 if code and record is None and verdict is None else 200,
    )
