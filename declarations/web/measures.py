"""The steps on one measure: the servant's consent to a transfer, and HR's order.

Each is a small page of its own, made from the function that calls the measure's service by
``measure_step``; the same services as the API (STYLE.md rule 21).
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
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_http_methods

from declarations import permissions, selectors
from declarations.models import Declaration, Measure
from declarations.services import measures as measure_services
from declarations.web import forms
from declarations.web.common import acting, attempt, declaration_url, form_status, moved_on
from declarations.web.signing import answers_statement, posted_signature, signing_context

if TYPE_CHECKING:
    from django.contrib.auth.models import User
    from django_stubs_ext import StrOrPromise

FormT = TypeVar("FormT", bound=django_forms.Form)

#: A view of the URL ``measures/<uuid:code>/…``.
MeasureView = Callable[[HttpRequest, UUID], HttpResponse]
#: What a step does once its input is valid: call the service (its result is not used).
MeasureStep = Callable[[HttpRequest, Measure, FormT], object]
#: A rule of ``permissions``: whether the reader may take this step on the measure now.
MeasureRule = Callable[["User", Measure], bool]


def _back_to_declaration(request: HttpRequest, declaration: Declaration) -> str:
    return declaration_url(declaration)


def _visible_measure(request: HttpRequest, code: UUID) -> Measure:
    return get_object_or_404(
        selectors.measure_list_visible_to(user=request.user).select_related(
            "declaration", "position__unit"
        ),
        code=code,
    )


def measure_step(
    *,
    form: type[FormT],
    template: str,
    may: MeasureRule,
    refused: StrOrPromise,
    done: StrOrPromise,
    after: Callable[[HttpRequest, Declaration], str] = _back_to_declaration,
) -> Callable[[MeasureStep[FormT]], MeasureView]:
    """Make a step on one measure (a GET shows its form, a POST takes it) from the function
    that calls its service.

    The measure must be in the reader's scope (else a 404). A measure that is no longer waiting
    for this reader (``may``) says ``refused`` and goes back to the declaration; a declaration that
    moved since the page was shown, or a step the service refuses because of the state, is answered
    with the state now; a refused input shows the form again with its errors (status 400);
    done, it says ``done`` and goes to ``after(request, declaration)``. Put ``login_required`` and
    ``require_http_methods`` above.
    """

    def decorate(step: MeasureStep[FormT]) -> MeasureView:
        @wraps(step)
        def view(request: HttpRequest, code: UUID) -> HttpResponse:
            measure = _visible_measure(request, code)
            declaration = measure.declaration
            if not may(acting(request), measure):
                messages.warning(request, str(refused))
                return redirect(declaration_url(declaration))
            bound = form(request.POST or None)
            if request.method == "POST" and bound.is_valid():
                late = moved_on(request, declaration)
                if late is None:
                    late = attempt(
                        request, declaration, lambda: step(request, measure, bound), bound
                    )
                if late is not None:
                    return late
                if not bound.errors:
                    messages.success(request, str(done))
                    return redirect(after(request, declaration))
            return render(
                request,
                template,
                {
                    "declaration": declaration,
                    "measure": measure,
                    "form": bound,
                    "sign": signing_context(declaration.body),
                },
                status=form_status(request, bound),
            )

        return view

    return decorate


@login_required
@answers_statement
@require_http_methods(["GET", "POST"])
@measure_step(
    form=forms.ConsentForm,
    template="declarations/consent.html",
    may=permissions.can_answer_measure_consent,
    refused=_("This proposal is no longer waiting for your answer."),
    done=_("Your answer is recorded."),
)
def consent(request: HttpRequest, measure: Measure, form: forms.ConsentForm) -> Measure:
    """The servant answers a transfer proposal: accept, or decline with reasons."""
    return measure_services.measure_consent(
        measure=measure,
        actor=acting(request),
        decision=form.cleaned_data["decision"],
        reason=form.cleaned_data["reason"],
        signature=posted_signature(request),
    )


def _back_to_hr_queue(request: HttpRequest, declaration: Declaration) -> str:
    """HR goes back to its queue of orders to record."""
    return (
        reverse("declarations:hr")
        if permissions.can_implement(request.user, declaration)
        else declaration_url(declaration)
    )


@login_required
@require_http_methods(["GET", "POST"])
@measure_step(
    form=forms.ImplementForm,
    template="declarations/implement.html",
    may=permissions.can_implement_measure,
    refused=_("This measure is not waiting for an order."),
    done=_("The order is recorded."),
    after=_back_to_hr_queue,
)
def implement(request: HttpRequest, measure: Measure, form: forms.ImplementForm) -> Measure:
    """HR records the order that carries out a measure."""
    return measure_services.measure_implement(
        measure=measure,
        actor=acting(request),
        order_number=form.cleaned_data["order_number"],
        order_date=form.cleaned_data["order_date"],
    )
