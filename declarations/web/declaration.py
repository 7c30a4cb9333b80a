"""The declaration page, and the steps posted from its small forms (``declaration_step``).

A step's form carries the state the reader saw; a step that lost to someone else's action says
so and shows the declaration as it now is; a refused input brings the declaration page back with the
form open, its errors next to its fields and what was typed (status 400).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from functools import wraps
from typing import TYPE_CHECKING, TypeVar
from uuid import UUID

from django import forms as django_forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone

from declarations import permissions, selectors
from declarations.choices import AccessAction
from declarations.models import Deadline, Declaration
from declarations.services.access import access_record
from declarations.web import forms
from declarations.web.common import attempt, declaration_url, moved_on, visible_declaration
from declarations.web.lists import management_of, overdue_party
from declarations.web.signing import signing_context

if TYPE_CHECKING:
    from django_stubs_ext import StrOrPromise

FormT = TypeVar("FormT", bound=django_forms.Form)

#: A view of the URL ``declarations/<uuid:code>/…``.
DeclarationView = Callable[[HttpRequest, UUID], HttpResponse]
#: What a step does once its input is valid: call the service (its result is not used).
DeclarationStep = Callable[[HttpRequest, Declaration, FormT], object]


@login_required
def declaration_detail(request: HttpRequest, code: UUID) -> HttpResponse:
    declaration = visible_declaration(request, code)
    return render(
        request, "declarations/declaration.html", declaration_context(request, declaration)
    )


def _stored_clocks(declaration: Declaration, now: datetime) -> list[Deadline]:
    """Every clock the declaration ran (the rows the API and the dossier read; issue 14), each
    marked ``is_missed`` when it ended, or still runs, after its due time."""
    clocks = list(declaration.deadlines.order_by("started_at", "id"))
    for clock in clocks:
        clock.is_missed = clock.missed(now)  # type: ignore[attr-defined]
    return clocks


def declaration_context(
    request: HttpRequest, declaration: Declaration, **forms_: django_forms.Form
) -> dict[str, object]:
    """The declaration page's context; ``forms_`` replace its empty step forms (by their names)."""
    user = request.user
    measures = list(
        declaration.measures.select_related("substitute", "position__unit", "decision").order_by(
            "created_at"
        )
    )
    events = selectors.event_list_visible_to(user=user, declaration=declaration).select_related(
        "actor__servant"
    )
    records = (
        selectors.record_list_visible_to(user=user)
        .filter(declaration=declaration)
        .order_by("created_at")
    )
    actions = set(permissions.allowed_actions(declaration, user))
    can_see_source = permissions.can_see_source(user, declaration)
    if declaration.source_confidential and can_see_source:
        # the page (first shown, or shown again with a step's errors) puts a confidential
        # source before the reader: the access log says so (issue 14)
        access_record(
            user=user,
            action=AccessAction.SOURCE_VIEWED,
            declaration=declaration,
            data={"via": "web"},
        )
    now = timezone.now()
    context: dict[str, object] = {
        "declaration": declaration,
        "measures": measures,
        "events": events,
        "records": records,
        "attachments": declaration.attachments.order_by("created_at"),
        "actions": actions,
        "can_see_source": can_see_source,
        "can_dossier": permissions.can_view_dossier(user, declaration),
        "consent_measures": [
            m for m in measures if permissions.can_answer_measure_consent(user, m)
        ],
        "implement_measures": [m for m in measures if permissions.can_implement_measure(user, m)],
        "clocks": _stored_clocks(declaration, now),
        "overdue": overdue_party(declaration, measures, now, management_of(declaration.body_id))
        if declaration.is_open
        else [],
        "basis": selectors.legal_basis("submit"),
        "sign": signing_context(declaration.body),
        "now": now,
        "no_conflict_form": forms.ReasonForm(prefix="no_conflict"),
        "withdraw_form": forms.ReasonForm(prefix="withdraw"),
        "comment_form": forms.CommentForm(),
        "addendum_form": forms.AddendumForm(prefix="addendum"),
        "record_languages": forms.RECORD_LANGUAGES,
    }
    context.update(forms_)
    return context


def declaration_step(
    *, form: type[FormT], slot: str, done: StrOrPromise, prefix: str | None = None
) -> Callable[[DeclarationStep[FormT]], DeclarationView]:
    """Make a POST step on a declaration from the function that calls its service.

    ``form`` (with ``prefix``) is the step's small form on the declaration page, named ``slot`` in
    ``declaration_context``. The view finds the declaration in the reader's scope (else a 404),
    answers a declaration that moved since the page was shown with its state now, checks the form,
    calls the decorated function with the declaration and the valid form, and then says ``done`` and
    goes back to the declaration; a refused input shows the declaration page again with that form
    open (status 400). A service that refuses the reader altogether (``PermissionDenied`` on a
    declaration they may still see) is answered like a late step. Put ``login_required`` and
    ``require_POST`` above.
    """

    def decorate(step: DeclarationStep[FormT]) -> DeclarationView:
        @wraps(step)
        def view(request: HttpRequest, code: UUID) -> HttpResponse:
            declaration = visible_declaration(request, code)
            late = moved_on(request, declaration)
            if late is not None:
                return late
            bound = form(request.POST, prefix=prefix)
            if bound.is_valid():
                late = attempt(
                    request, declaration, lambda: step(request, declaration, bound), bound
                )
                if late is not None:
                    return late
            if bound.errors:
                context = declaration_context(request, declaration, **{slot: bound})
                context["open_form"] = slot
                return render(request, "declarations/declaration.html", context, status=400)
            messages.success(request, str(done))
            return redirect(declaration_url(declaration))

        return view

    return decorate
