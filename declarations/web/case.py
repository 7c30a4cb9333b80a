"""The case page, and the steps posted from its small forms (``case_step``).

A step's form carries the state the reader saw; a step that lost to someone else's action says
so and shows the case as it now is; a refused input brings the case page back with the form
open, its errors next to its fields and what was typed (status 400).
"""

from __future__ import annotations

from collections.abc import Callable
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
from declarations.models import Declaration
from declarations.services.deadlines import running_clocks
from declarations.web import forms
from declarations.web.common import attempt, case_url, moved_on, visible_case
from declarations.web.lists import management_of, overdue_party

if TYPE_CHECKING:
    from django_stubs_ext import StrOrPromise

FormT = TypeVar("FormT", bound=django_forms.Form)

#: A view of the URL ``cases/<uuid:code>/…``.
CaseView = Callable[[HttpRequest, UUID], HttpResponse]
#: What a step does once its input is valid: call the service (its result is not used).
CaseStep = Callable[[HttpRequest, Declaration, FormT], object]


@login_required
def case_detail(request: HttpRequest, code: UUID) -> HttpResponse:
    case = visible_case(request, code)
    return render(request, "declarations/case.html", case_context(request, case))


def case_context(
    request: HttpRequest, case: Declaration, **forms_: django_forms.Form
) -> dict[str, object]:
    """The case page's context; ``forms_`` replace its empty step forms (by their names)."""
    user = request.user
    measures = list(
        case.measures.select_related("substitute", "position__unit", "decision").order_by(
            "created_at"
        )
    )
    events = selectors.event_list_visible_to(user=user, declaration=case).select_related(
        "actor__servant"
    )
    records = (
        selectors.record_list_visible_to(user=user).filter(declaration=case).order_by("created_at")
    )
    actions = set(permissions.allowed_actions(case, user))
    now = timezone.now()
    context: dict[str, object] = {
        "case": case,
        "measures": measures,
        "events": events,
        "records": records,
        "attachments": case.attachments.order_by("created_at"),
        "actions": actions,
        "can_see_source": permissions.can_see_source(user, case),
        "can_dossier": permissions.can_view_dossier(user, case),
        "consent_measures": [
            m for m in measures if permissions.can_answer_measure_consent(user, m)
        ],
        "implement_measures": [m for m in measures if permissions.can_implement_measure(user, m)],
        "clocks": running_clocks(case, measures),
        "overdue": overdue_party(case, measures, now, management_of(case.body_id))
        if case.is_open
        else [],
        "basis": selectors.legal_basis("submit"),
        "now": now,
        "no_conflict_form": forms.ReasonForm(prefix="no_conflict"),
        "withdraw_form": forms.ReasonForm(prefix="withdraw"),
        "comment_form": forms.CommentForm(),
        "addendum_form": forms.AddendumForm(prefix="addendum"),
        "record_languages": forms.RECORD_LANGUAGES,
    }
    context.update(forms_)
    return context


def case_step(
    *, form: type[FormT], slot: str, done: StrOrPromise, prefix: str | None = None
) -> Callable[[CaseStep[FormT]], CaseView]:
    """Make a POST step on a case from the function that calls its service.

    ``form`` (with ``prefix``) is the step's small form on the case page, named ``slot`` in
    ``case_context``. The view finds the case in the reader's scope (else a 404), answers a
    case that moved since the page was shown with its state now, checks the form, calls the
    decorated function with the case and the valid form, and then says ``done`` and goes back
    to the case; a refused input shows the case page again with that form open (status 400).
    A service that refuses the reader altogether (``PermissionDenied`` on a case they may
    still see) is answered like a late step. Put ``login_required`` and ``require_POST`` above.
    """

    def decorate(step: CaseStep[FormT]) -> CaseView:
        @wraps(step)
        def view(request: HttpRequest, code: UUID) -> HttpResponse:
            case = visible_case(request, code)
            late = moved_on(request, case)
            if late is not None:
                return late
            bound = form(request.POST, prefix=prefix)
            if bound.is_valid():
                late = attempt(request, case, lambda: step(request, case, bound), bound)
                if late is not None:
                    return late
            if bound.errors:
                context = case_context(request, case, **{slot: bound})
                context["open_form"] = slot
                return render(request, "declarations/case.html", context, status=400)
            messages.success(request, str(done))
            return redirect(case_url(case))

        return view

    return decorate
