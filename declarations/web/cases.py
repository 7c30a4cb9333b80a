"""The case pages: lists for each role, the case page, filing a notice, and every step.

Thin views (STYLE.md rule 21): a form checks the input, the same service the API calls does the
step, then a redirect. A step that lost to someone else's action says so and shows the case as
it now is (``common.Lost``).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.db.models import F, QuerySet
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from declarations import permissions, selectors
from declarations.choices import (
    OPEN_STATES,
    Clock,
    DeclarationState,
    MeasureState,
    Role,
)
from declarations.models import NOTICE_FIELDS, Declaration, Measure
from declarations.services import attachments as attachment_services
from declarations.services import declarations as declaration_services
from declarations.services import transitions
from declarations.services.deadlines import running_clocks
from declarations.web import forms
from declarations.web.common import (
    Lost,
    acting,
    case_url,
    filter_status,
    form_status,
    put_errors,
    run_service,
    visible_case,
)

PAGE_SIZE = 25


# ---- lists ----------------------------------------------------------------------------------


def _cases(request: HttpRequest) -> QuerySet[Declaration]:
    return selectors.declaration_list_visible_to(user=request.user).select_related(
        "body", "declarant", "reviewer__servant"
    )


def _filtered(request: HttpRequest, qs: QuerySet[Declaration]) -> tuple[Any, Any]:
    """The list narrowed by the page's filters, through the selector the API uses too."""
    form = forms.CaseFilterForm(request.GET or None)
    if form.is_valid():
        d = form.cleaned_data
        filters = selectors.CaseFilters(
            search=d["q"],
            states=(d["state"],) if d["state"] else (),
            overdue=True if d["overdue"] else None,
            submitted_from=d["submitted_from"],
            submitted_to=d["submitted_to"],
        )
        qs = selectors.declaration_filtered(qs, filters, now=timezone.now())
    return form, qs


def _page(request: HttpRequest, qs: QuerySet[Any]) -> Any:
    return Paginator(qs, PAGE_SIZE).get_page(request.GET.get("page"))


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
    """A servant's own cases, newest first, with what they must do."""
    qs = _cases(request).filter(declarant__user=acting(request)).order_by("-created_at")
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
    """A reviewer's inbox: open cases they must act on, the nearest deadline first."""
    qs = (
        _cases(request)
        .filter(reviewer=acting(request), state__in=OPEN_STATES)
        .order_by(models_nulls_last("due_at"), "submitted_at")
    )
    return render(
        request, "declarations/reviews.html", {"page": _page(request, qs), "now": timezone.now()}
    )


def models_nulls_last(field: str) -> Any:
    return F(field).asc(nulls_last=True)


def management_of(body_id: int) -> set[int]:
    """The management's user ids of one body (asked once per page, not once per case)."""
    return set(selectors.users_with_role(body_id, Role.MANAGEMENT).values_list("pk", flat=True))


def overdue_party(
    case: Declaration, measures: list[Measure], now: Any, management: set[int]
) -> list[str]:
    """Whose deadline has passed (R4, 003 cl. 9): the servant, the manager, management or HR.
    ``management``: the user ids of the case's body's management."""
    parties = []
    for clock in running_clocks(case, measures):
        if clock.due_at >= now:
            continue
        if clock.clock == Clock.CONSENT:
            parties.append("servant")
        elif clock.clock == Clock.HR_ORDER:
            parties.append("hr")
        elif case.reviewer_id in management or case.reviewer_id is None:
            parties.append("management")
        else:
            parties.append("manager")
    return sorted(set(parties))


@login_required
def overview(request: HttpRequest) -> HttpResponse:
    """Management and ethics commissioners: the body's open cases, overdue ones first, and by
    whose fault each is overdue."""
    bodies = selectors.bodies_with_role(request.user, Role.MANAGEMENT, Role.ETHICS_COMMISSIONER)
    if not bodies:
        raise PermissionDenied
    now = timezone.now()
    open_cases = (
        _cases(request)
        .filter(body_id__in=bodies, state__in=OPEN_STATES)
        .prefetch_related("measures")
        .order_by(models_nulls_last("due_at"))
    )
    form, open_cases = _filtered(request, open_cases)
    page = _page(request, open_cases)
    management = {body_id: management_of(body_id) for body_id in bodies}
    rows = []
    counts = {"servant": 0, "manager": 0, "management": 0, "hr": 0}
    for case in page:
        parties = overdue_party(case, list(case.measures.all()), now, management[case.body_id])
        for p in parties:
            counts[p] += 1
        rows.append((case, parties))
    totals = {
        "open": _cases(request).filter(body_id__in=bodies, state__in=OPEN_STATES).count(),
        "overdue": _cases(request)
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
    """Search and filter every case in the reader's scope (auditors: the bodies granted)."""
    form, qs = _filtered(request, _cases(request).exclude(state=DeclarationState.DRAFT))
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
    bodies = selectors.bodies_with_role(request.user, Role.HR)
    if not bodies:
        raise PermissionDenied
    measures = (
        selectors.measure_list_visible_to(user=request.user)
        .filter(state=MeasureState.PENDING_ORDER, declaration__body_id__in=bodies)
        .select_related("declaration__declarant", "position__unit", "substitute")
        .order_by(models_nulls_last("order_due_at"))
    )
    return render(
        request,
        "declarations/hr.html",
        {"page": _page(request, measures), "now": timezone.now()},
    )


# ---- the case page --------------------------------------------------------------------------


@login_required
def case_detail(request: HttpRequest, code: Any) -> HttpResponse:
    case = visible_case(request, code)
    return render(request, "declarations/case.html", case_context(request, case))


def case_context(request: HttpRequest, case: Declaration, **forms_: Any) -> dict[str, Any]:
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
    context = {
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


# ---- filing a notice ------------------------------------------------------------------------


def _notice_values(form: forms.NoticeForm) -> dict[str, Any]:
    return {name: form.cleaned_data[name] for name in NOTICE_FIELDS}


@login_required
@require_http_methods(["GET", "POST"])
def declare(request: HttpRequest) -> HttpResponse:
    """Step 1 of filing: the notice form. It saves a draft and shows the preview (step 2)."""
    if selectors.servant_of(request.user) is None:
        raise PermissionDenied
    form = forms.NoticeForm(request.POST or None, request.FILES or None)
    if request.method == "POST" and form.is_valid():
        case, refused = _save_notice(
            request,
            form,
            lambda: declaration_services.declaration_create(
                actor=acting(request), **_notice_values(form)
            ),
        )
        if case is not None and not refused:
            return redirect("declarations:preview", code=case.code)
        if case is not None:
            # the draft is saved; the edit page says which files were refused and why
            for error in refused:
                messages.error(request, error)
            return redirect("declarations:edit", code=case.code)
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
        case = save()
    except ValidationError as exc:
        put_errors(form, exc)
        return None, []
    refused = []
    for upload in form.cleaned_data.get("attachments") or []:
        try:
            attachment_services.attachment_add(
                declaration=case,
                actor=acting(request),
                filename=upload.name,
                content=upload,
                size=upload.size,
            )
        except ValidationError as exc:
            refused.append(f"{upload.name}: {' '.join(exc.messages)}")
    return case, refused


def _own_draft(request: HttpRequest, code: Any) -> Declaration:
    case = visible_case(request, code)
    if case.state != DeclarationState.DRAFT or not permissions.is_declarant(request.user, case):
        raise Lost(redirect(case_url(case)))
    return case


@login_required
@require_http_methods(["GET", "POST"])
def edit(request: HttpRequest, code: Any) -> HttpResponse:
    """Change a draft before filing it (filed text is frozen: later corrections are addenda)."""
    try:
        case = _own_draft(request, code)
    except Lost as lost:
        return lost.response
    initial = {name: getattr(case, name) for name in NOTICE_FIELDS}
    form = forms.NoticeForm(request.POST or None, request.FILES or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        saved, refused = _save_notice(
            request,
            form,
            lambda: declaration_services.declaration_update_draft(
                declaration=case, actor=acting(request), **_notice_values(form)
            ),
        )
        if saved is not None and not refused:
            return redirect("declarations:preview", code=case.code)
        for error in refused:
            form.add_error("attachments", error)
    return render(
        request,
        "declarations/declare.html",
        {
            "form": form,
            "case": case,
            "attachments": case.attachments.order_by("created_at"),
            "basis": selectors.legal_basis("submit"),
        },
        status=form_status(request, form),
    )


@login_required
def preview(request: HttpRequest, code: Any) -> HttpResponse:
    """Step 2 of filing: the notice as it will be filed, with a confirmation."""
    try:
        case = _own_draft(request, code)
    except Lost as lost:
        return lost.response
    return render(
        request,
        "declarations/preview.html",
        {
            "case": case,
            "attachments": case.attachments.order_by("created_at"),
            "basis": selectors.legal_basis("submit"),
            "manager": selectors.direct_manager_of(case.declarant),
        },
    )


@login_required
@require_POST
def submit(request: HttpRequest, code: Any) -> HttpResponse:
    case = visible_case(request, code)
    if request.POST.get("confirm") != "yes":
        messages.error(request, _("Tick the confirmation to file the notice."))
        return redirect("declarations:preview", code=case.code)
    try:
        run_service(
            request,
            case,
            None,
            lambda: transitions.declaration_submit(declaration=case, actor=acting(request)),
        )
    except Lost as lost:
        return lost.response
    messages.success(
        request,
        _("Your notice is filed under No. %(number)s. Your recusal on the matter starts now.")
        % {"number": case.registration_number},
    )
    return redirect(case_url(case))


@login_required
@require_POST
def attachment_remove(request: HttpRequest, code: Any) -> HttpResponse:
    """Take a file off one's own draft (a filed notice keeps its files)."""
    attachment = get_object_or_404(
        selectors.attachment_list_visible_to(user=request.user), code=code
    )
    case = attachment.declaration
    try:  # a filed notice keeps its files: the service refuses, and the reader is told why
        run_service(
            request,
            case,
            None,
            lambda: attachment_services.attachment_remove(
                attachment=attachment, actor=acting(request)
            ),
        )
    except Lost as lost:
        return lost.response
    messages.success(request, _("“%(name)s” is removed.") % {"name": attachment.filename})
    return redirect("declarations:edit", code=case.code)


@login_required
@require_POST
def discard(request: HttpRequest, code: Any) -> HttpResponse:
    try:
        case = _own_draft(request, code)
    except Lost as lost:
        return lost.response
    declaration_services.declaration_discard(declaration=case, actor=acting(request))
    messages.success(request, _("The draft is deleted."))
    return redirect("declarations:mine")
