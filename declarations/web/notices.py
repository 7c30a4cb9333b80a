"""The declarant's notice before it is filed: write it (with files), change it, preview it, file
it, or discard it.

A draft is its declarant's alone (``permissions.can_change_draft``); once filed, its text is
frozen and later corrections are addenda (``steps.addendum``).
"""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any
from uuid import UUID

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from declarations import permissions, selectors
from declarations.choices import DeclarationState
from declarations.models import NOTICE_FIELDS, Declaration
from declarations.services import attachments as attachment_services
from declarations.services import declarations as declaration_services
from declarations.services import transitions
from declarations.web import forms
from declarations.web.common import (
    acting,
    attempt,
    declaration_url,
    form_status,
    put_errors,
    visible_declaration,
)
from declarations.web.signing import answers_statement, posted_signature, signing_context

#: A view of one's own draft, given the draft.
DraftView = Callable[[HttpRequest, Declaration], HttpResponse]


def own_draft(view: DraftView) -> Callable[[HttpRequest, UUID], HttpResponse]:
    """Give ``view`` the reader's own draft ``code``; a declaration they may see that is not a draft
    of theirs (filed meanwhile, say) sends them to the declaration page, any other declaration is a
    404."""

    @wraps(view)
    def with_draft(request: HttpRequest, code: UUID) -> HttpResponse:
        declaration = visible_declaration(request, code)
        if declaration.state != DeclarationState.DRAFT or not permissions.can_change_draft(
            request.user, declaration
        ):
            return redirect(declaration_url(declaration))
        return view(request, declaration)

    return with_draft


def _notice_values(form: forms.NoticeForm) -> dict[str, Any]:
    """The notice's fields as typed (``cleaned_data`` holds values of every field type)."""
    return {name: form.cleaned_data[name] for name in NOTICE_FIELDS}


@login_required
@require_http_methods(["GET", "POST"])
def declare(request: HttpRequest) -> HttpResponse:
    """Step 1 of filing: the notice form. It saves a draft and shows the preview (step 2)."""
    if selectors.servant_of(request.user) is None:
        raise PermissionDenied
    form = forms.NoticeForm(request.POST or None, request.FILES or None)
    if request.method == "POST" and form.is_valid():
        declaration, refused = _save_notice(
            request,
            form,
            lambda: declaration_services.declaration_create(
                actor=acting(request), **_notice_values(form)
            ),
        )
        if declaration is not None and not refused:
            return redirect("declarations:preview", code=declaration.code)
        if declaration is not None:
            # the draft is saved; the edit page says which files were refused and why
            for error in refused:
                messages.error(request, error)
            return redirect("declarations:edit", code=declaration.code)
    return render(
        request,
        "declarations/declare.html",
        {"form": form, "basis": selectors.legal_basis("submit")},
        status=form_status(request, form),
    )


def _save_notice(
    request: HttpRequest, form: forms.NoticeForm, save: Callable[[], Declaration]
) -> tuple[Declaration | None, list[str]]:
    """Save the notice's text with ``save``, then attach the uploaded files to the draft.

    Returns the draft (``None`` if the service refused the text: its errors are on ``form``) and
    the refused files, each named with the reason; the other files are kept.
    """
    try:
        declaration = save()
    except ValidationError as exc:
        put_errors(form, exc)
        return None, []
    refused = []
    for upload in form.cleaned_data.get("attachments") or []:
        try:
            attachment_services.attachment_add(
                declaration=declaration,
                actor=acting(request),
                filename=upload.name,
                content=upload,
                size=upload.size,
            )
        except ValidationError as exc:
            refused.append(f"{upload.name}: {' '.join(exc.messages)}")
    return declaration, refused


@login_required
@require_http_methods(["GET", "POST"])
@own_draft
def edit(request: HttpRequest, declaration: Declaration) -> HttpResponse:
    """Change a draft before filing it (filed text is frozen: later corrections are addenda)."""
    initial = {name: getattr(declaration, name) for name in NOTICE_FIELDS}
    form = forms.NoticeForm(request.POST or None, request.FILES or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        saved, refused = _save_notice(
            request,
            form,
            lambda: declaration_services.declaration_update_draft(
                declaration=declaration, actor=acting(request), **_notice_values(form)
            ),
        )
        if saved is not None and not refused:
            return redirect("declarations:preview", code=declaration.code)
        for error in refused:
            form.add_error("attachments", error)
    return render(
        request,
        "declarations/declare.html",
        {
            "form": form,
            "declaration": declaration,
            "attachments": declaration.attachments.order_by("created_at"),
            "basis": selectors.legal_basis("submit"),
        },
        status=form_status(request, form),
    )


@login_required
@own_draft
def preview(request: HttpRequest, declaration: Declaration) -> HttpResponse:
    """Step 2 of filing: the notice as it will be filed, with a confirmation."""
    return _preview(request, declaration)


def _preview(request: HttpRequest, declaration: Declaration, status: int = 200) -> HttpResponse:
    return render(
        request,
        "declarations/preview.html",
        {
            "declaration": declaration,
            "attachments": declaration.attachments.order_by("created_at"),
            "basis": selectors.legal_basis("submit"),
            "manager": selectors.direct_manager_of(declaration.declarant),
            "sign": signing_context(declaration.body),
        },
        status=status,
    )


@login_required
@answers_statement
@require_POST
def submit(request: HttpRequest, code: UUID) -> HttpResponse:
    declaration = visible_declaration(request, code)
    if request.POST.get("confirm") != "yes":
        messages.error(request, _("Tick the confirmation to file the notice."))
        return redirect("declarations:preview", code=declaration.code)
    refused: list[str] = []

    def file_it() -> None:
        try:
            transitions.declaration_submit(
                declaration=declaration, actor=acting(request), signature=posted_signature(request)
            )
        except ValidationError as exc:  # a refused signature: say why, on the preview (400)
            if "signature" not in getattr(exc, "message_dict", {}):
                raise
            refused.extend(exc.message_dict["signature"])

    late = attempt(request, declaration, file_it)
    if late is not None:
        return late
    if refused:
        messages.error(request, " ".join(refused))
        return _preview(request, declaration, status=400)
    messages.success(
        request,
        _("Your notice is filed under No. %(number)s. Your recusal on the matter starts now.")
        % {"number": declaration.registration_number},
    )
    return redirect(declaration_url(declaration))


@login_required
@require_POST
def attachment_remove(request: HttpRequest, code: UUID) -> HttpResponse:
    """Take a file off one's own draft (a filed notice keeps its files)."""
    attachment = get_object_or_404(
        selectors.attachment_list_visible_to(user=request.user), code=code
    )
    declaration = attachment.declaration
    # a filed notice keeps its files: the service refuses, and the reader is told why
    late = attempt(
        request,
        declaration,
        lambda: attachment_services.attachment_remove(attachment=attachment, actor=acting(request)),
    )
    if late is not None:
        return late
    messages.success(request, _("“%(name)s” is removed.") % {"name": attachment.filename})
    return redirect("declarations:edit", code=declaration.code)


@login_required
@require_POST
@own_draft
def discard(request: HttpRequest, declaration: Declaration) -> HttpResponse:
    declaration_services.declaration_discard(declaration=declaration, actor=acting(request))
    messages.success(request, _("The draft is deleted."))
    return redirect("declarations:mine")
