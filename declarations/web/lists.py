"""The lists: where each reader lands, their own declarations, a reviewer's inbox, management's
overview (and by whose fault a declaration is overdue), the search, and HR's queue of orders.

The filters are the API's (``selectors.declaration_filtered``); every list starts from the
reader's scope (STYLE.md rule 16) and asks the same number of queries for two rows or fifty.
"""

from __future__ import annotations

from datetime import datetime
from typing import TypeVar

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Page, Paginator
from django.db.models import F, OrderBy, QuerySet
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone

from declarations import permissions, selectors
from declarations.choices import OPEN_STATES, Clock, DeclarationState, MeasureState, Role
from declarations.models import Declaration, Measure
from declarations.services.deadlines import running_clocks
from declarations.web import forms
from declarations.web.common import acting, filter_status

PAGE_SIZE = 25

RowT = TypeVar("RowT", Declaration, Measure)


def _declarations(request: HttpRequest) -> QuerySet[Declaration]:
    return selectors.declaration_list_visible_to(user=request.user).select_related(
        "body", "declarant", "reviewer__servant"
    )


def _filtered(
    request: HttpRequest, qs: QuerySet[Declaration]
) -> tuple[forms.DeclarationFilterForm, QuerySet[Declaration]]:
    """The list narrowed by the page's filters, through the selector the API uses too."""
    form = forms.DeclarationFilterForm(request.GET or None)
    if form.is_valid():
        d = form.cleaned_data
        filters = selectors.DeclarationFilters(
            search=d["q"],
            states=(d["state"],) if d["state"] else (),
            overdue=True if d["overdue"] else None,
            submitted_from=d["submitted_from"],
            submitted_to=d["submitted_to"],
        )
        qs = selectors.declaration_filtered(qs, filters, now=timezone.now())
    return form, qs


def _page(request: HttpRequest, qs: QuerySet[RowT]) -> Page[RowT]:
    return Paginator(qs, PAGE_SIZE).get_page(request.GET.get("page"))


def _nulls_last(field: str) -> OrderBy:
    return F(field).asc(nulls_last=True)


@login_required
def home(request: HttpRequest) -> HttpResponse:
    """Each reader lands where their work is."""
    roles = {r for granted in selectors.grants_of(request.user).values() for r in granted}
    if Role.AUDITOR in roles:
        return redirect("declarations:search")
    if roles & {Role.MANAGEMENT, Role.ETHICS_COMMISSIONER}:
        return redirect("declarations:overview")
    if Role.HR in roles:
        return redirect("declarations:hr")
    if Declaration.objects.filter(reviewer=acting(request), state__in=OPEN_STATES).exists():
        return redirect("declarations:reviews")
    return redirect("declarations:mine")


@login_required
def mine(request: HttpRequest) -> HttpResponse:
    """A servant's own declarations, newest first, with what they must do."""
    qs = _declarations(request).filter(declarant__user=acting(request)).order_by("-created_at")
    waiting = Measure.objects.filter(
        declaration__declarant__user=acting(request), state=MeasureState.PENDING_CONSENT
    ).select_related("declaration", "position__unit")
    return render(
        request,
        "declarations/mine.html",
        {"page": _page(request, qs), "waiting": waiting, "now": timezone.now()},
    )


@login_required
def reviews(request: HttpRequest) -> HttpResponse:
    """A reviewer's inbox: open declarations they must act on, the nearest deadline first."""
    qs = (
        _declarations(request)
        .filter(reviewer=acting(request), state__in=OPEN_STATES)
        .order_by(_nulls_last("due_at"), "submitted_at")
    )
    return render(
        request, "declarations/reviews.html", {"page": _page(request, qs), "now": timezone.now()}
    )


def management_of(body_id: int) -> set[int]:
    """The management's user ids of one body (asked once per page, not once per declaration)."""
    return set(selectors.users_with_role(body_id, Role.MANAGEMENT).values_list("pk", flat=True))


def overdue_party(
    declaration: Declaration, measures: list[Measure], now: datetime, management: set[int]
) -> list[str]:
    """Whose deadline has passed (R4, 003 cl. 9): the servant, the manager, management or HR.
    ``management``: the user ids of the declaration's body's management."""
    parties = []
    for clock in running_clocks(declaration, measures):
        if clock.due_at >= now:
            continue
        if clock.clock == Clock.CONSENT:
            parties.append("servant")
        elif clock.clock == Clock.HR_ORDER:
            parties.append("hr")
        elif declaration.reviewer_id in management or declaration.reviewer_id is None:
            parties.append("management")
        else:
            parties.append("manager")
    return sorted(set(parties))


@login_required
def overview(request: HttpRequest) -> HttpResponse:
    """Management and ethics commissioners: the body's open declarations, overdue ones first, and by
    whose fault each is overdue."""
    bodies = permissions.bodies_for(request.user, "overview")
    if not bodies:
        raise PermissionDenied
    now = timezone.now()
    open_declarations = (
        _declarations(request)
        .filter(body_id__in=bodies, state__in=OPEN_STATES)
        .prefetch_related("measures")
        .order_by(_nulls_last("due_at"))
    )
    form, open_declarations = _filtered(request, open_declarations)
    page = _page(request, open_declarations)
    management = {body_id: management_of(body_id) for body_id in bodies}
    rows = []
    counts = {"servant": 0, "manager": 0, "management": 0, "hr": 0}
    for declaration in page:
        parties = overdue_party(
            declaration, list(declaration.measures.all()), now, management[declaration.body_id]
        )
        for p in parties:
            counts[p] += 1
        rows.append((declaration, parties))
    totals = {
        "open": _declarations(request).filter(body_id__in=bodies, state__in=OPEN_STATES).count(),
        "overdue": _declarations(request)
        .filter(body_id__in=bodies, state__in=OPEN_STATES, due_at__lt=now)
        .count(),
    }
    return render(
        request,
        "declarations/overview.html",
        {"page": page, "rows": rows, "counts": counts, "totals": totals, "form": form, "now": now},
        status=filter_status(form),
    )


@login_required
def search(request: HttpRequest) -> HttpResponse:
    """Search and filter every declaration in the reader's scope (auditors: the bodies granted)."""
    form, qs = _filtered(request, _declarations(request).exclude(state=DeclarationState.DRAFT))
    qs = qs.order_by("-submitted_at")
    return render(
        request,
        "declarations/search.html",
        {"form": form, "page": _page(request, qs), "now": timezone.now()},
        status=filter_status(form),
    )


@login_required
def hr_queue(request: HttpRequest) -> HttpResponse:
    """HR: measures waiting for an order, the nearest deadline first."""
    bodies = permissions.bodies_for(request.user, "hr_queue")
    if not bodies:
        raise PermissionDenied
    measures = (
        selectors.measure_list_visible_to(user=request.user)
        .filter(state=MeasureState.PENDING_ORDER, declaration__body_id__in=bodies)
        .select_related("declaration__declarant", "position__unit", "substitute")
        .order_by(_nulls_last("order_due_at"))
    )
    return render(
        request,
        "declarations/hr.html",
        {"page": _page(request, measures), "now": timezone.now()},
    )
