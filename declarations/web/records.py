"""Records, dossiers and bulk exports from the web pages (the same services as the API)."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.http.response import HttpResponseBase
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import get_language
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from declarations import permissions, selectors
from declarations.choices import AccessAction, ExportStatus, RecordStatus
from declarations.client import DossierRateThrottle
from declarations.http import file_download, file_response
from declarations.models import StateBody
from declarations.records import exports as export_services
from declarations.records import issuing as record_services
from declarations.services.access import (
    access_attachment_download,
    access_record,
    access_record_download,
)
from declarations.stores import stored_bytes
from declarations.web import forms
from declarations.web.common import (
    acting,
    declaration_url,
    form_status,
    too_many_requests,
    visible_declaration,
)


def _pdf(data: bytes, filename: str) -> HttpResponse:
    return file_response(data, content_type="application/pdf", filename=filename)


@login_required
def record_pdf(request: HttpRequest, code: Any) -> HttpResponse:
    record = get_object_or_404(
        selectors.record_list_visible_to(user=request.user).select_related("declaration"),
        code=code,
    )
    if not permissions.can_read_record(request.user, record):
        raise Http404
    if record.status != RecordStatus.ISSUED:
        messages.info(request, _("This record is still being issued; try again in a moment."))
        return redirect(declaration_url(record.declaration))
    data = stored_bytes(record.file)
    access_record_download(user=request.user, record=record, via="web")
    return _pdf(data, f"{record.kind}-{record.verification_code}.pdf")


@login_required
@require_POST
def dossier(request: HttpRequest, code: Any) -> HttpResponse:
    """Render and seal a new dossier of the declaration now, and hand it over (DESIGN.md §4)."""
    declaration = visible_declaration(request, code)
    if not permissions.can_view_dossier(request.user, declaration):
        raise PermissionDenied
    throttle = DossierRateThrottle()
    if not throttle.allow_page(request):
        return too_many_requests(request, throttle)
    language = request.POST.get("language") or (get_language() or "ru")[:2]
    if language not in dict(forms.RECORD_LANGUAGES):
        language = "ru"
    record = record_services.dossier_issue(
        declaration=declaration, actor=acting(request), language=language
    )
    data = stored_bytes(record.file)
    access_record(
        user=request.user,
        action=AccessAction.DOSSIER_GENERATED,
        declaration=declaration,
        object_code=str(record.code),
        data={"language": language, "via": "web"},
    )
    return _pdf(data, f"dossier-{record.verification_code}.pdf")


@login_required
def attachment_file(request: HttpRequest, code: Any) -> HttpResponseBase:
    """A file attached to a notice, for whoever sees the declaration (as a download, never
    inline)."""
    attachment = get_object_or_404(
        selectors.attachment_list_visible_to(user=request.user).select_related("declaration"),
        code=code,
    )
    access_attachment_download(user=request.user, attachment=attachment, via="web")
    return file_download(
        attachment.file,
        content_type=attachment.content_type,
        filename=attachment.filename,
    )


def _auditor_bodies(request: HttpRequest) -> list[tuple[str, str]]:
    ids = permissions.bodies_for(request.user, "export")
    if not ids:
        raise PermissionDenied
    # the export service names bodies by slug, as the API does
    return [(b.slug, b.name) for b in StateBody.objects.filter(pk__in=ids).order_by("name")]


@login_required
@require_http_methods(["GET", "POST"])
def exports(request: HttpRequest) -> HttpResponse:
    """An auditor's bulk exports: start one with filters, see the earlier ones."""
    bodies = _auditor_bodies(request)
    form = forms.ExportForm(
        request.POST or None,
        bodies=bodies,
        initial={"language": (get_language() or "ru")[:2]},
    )
    if request.method == "POST" and form.is_valid():
        d = form.cleaned_data
        filters = export_services.ExportFilters(
            bodies=d["body"] or [code for code, _name in bodies],
            submitted_from=d["submitted_from"],
            submitted_to=d["submitted_to"],
            states=tuple(d["state"]),
        )
        try:
            job = export_services.export_create(
                actor=acting(request), filters=filters, language=d["language"]
            )
        except ValidationError as exc:
            for field, errors in exc.message_dict.items():
                form.add_error(field if field in form.fields else None, errors)
        else:
            access_record(
                user=request.user,
                action=AccessAction.EXPORT_STARTED,
                object_code=str(job.code),
                data={"filters": job.filters, "language": job.language, "via": "web"},
            )
            return redirect("declarations:export", code=job.code)
    jobs = selectors.export_list_visible_to(user=request.user).order_by("-created_at")[:20]
    return render(
        request,
        "declarations/exports.html",
        {"form": form, "jobs": jobs},
        status=form_status(request, form),
    )


@login_required
def export_detail(request: HttpRequest, code: Any) -> HttpResponse:
    """Progress of one export; the page refreshes itself while the export runs."""
    job = get_object_or_404(selectors.export_list_visible_to(user=request.user), code=code)
    running = job.status in (ExportStatus.QUEUED, ExportStatus.RUNNING, ExportStatus.ASSEMBLING)
    percent = int(job.done * 100 / job.total) if job.total else (100 if not running else 0)
    return render(
        request,
        "declarations/export.html",
        {"job": job, "running": running, "percent": percent},
    )


@login_required
def export_download(request: HttpRequest, code: Any) -> HttpResponseBase:
    job = get_object_or_404(selectors.export_list_visible_to(user=request.user), code=code)
    if job.status != ExportStatus.DONE:
        messages.info(request, _("The export is not finished yet."))
        return redirect("declarations:export", code=job.code)
    access_record(
        user=request.user,
        action=AccessAction.EXPORT_DOWNLOADED,
        object_code=str(job.code),
        data={"sha256": job.sha256, "via": "web"},
    )
    # streamed: an export of a thousand dossiers is hundreds of megabytes
    return file_download(
        job.file, content_type="application/zip", filename=f"export-{job.code}.zip"
    )
