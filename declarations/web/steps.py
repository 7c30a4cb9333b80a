"""The steps on a case and its measures, from the web pages: each one calls the same service
the API calls (STYLE.md rule 21). A step that lost to someone else's action says so and shows
the case as it now is; a refused input comes back with its errors next to the fields.
"""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth import get_user_model
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Q
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from declarations import permissions, rulebook, selectors
from declarations.choices import (
    DeclarationState,
    MeasureKind,
    Role,
)
from declarations.models import NOTICE_FIELDS, Declaration, Measure, Servant
from declarations.services import decisions, transitions
from declarations.services import declarations as declaration_services
from declarations.services import measures as measure_services
from declarations.web import forms
from declarations.web.cases import case_context
from declarations.web.common import (
    Lost,
    acting,
    case_url,
    check_seen_state,
    form_status,
    lost_race,
    put_errors,
    run_service,
    visible_case,
)

# ---- steps on a case ------------------------------------------------------------------------


def _step(
    request: HttpRequest,
    code: Any,
    form: Any,
    slot: str,
    call: Any,
    done: str,
) -> HttpResponse:
    """A POST step with an optional small form: check, call, redirect; or show the case page
    again with the form's errors next to its fields and what was typed (status 400)."""
    case = visible_case(request, code)
    try:
        check_seen_state(request, case)
        if form is not None and not form.is_valid():
            return _case_with_errors(request, case, slot, form)
        result = run_service(request, case, form, lambda: call(case, form))
    except Lost as lost:
        return lost.response
    if form is not None and result is None:
        return _case_with_errors(request, case, slot, form)
    messages.success(request, done)
    return redirect(case_url(case))


def _case_with_errors(
    request: HttpRequest, case: Declaration, slot: str, form: Any
) -> HttpResponse:
    context = case_context(request, case, **{slot: form})
    context["open_form"] = slot
    return render(request, "declarations/case.html", context, status=400)


@login_required
@require_POST
def start_review(request: HttpRequest, code: Any) -> HttpResponse:
    return _step(
        request,
        code,
        None,
        "",
        lambda case, _f: transitions.declaration_start_review(
            declaration=case, actor=acting(request)
        ),
        _("You started the review. Decide the measures before the deadline."),
    )


@login_required
@require_POST
def no_conflict(request: HttpRequest, code: Any) -> HttpResponse:
    return _step(
        request,
        code,
        forms.ReasonForm(request.POST, prefix="no_conflict"),
        "no_conflict_form",
        lambda case, f: transitions.declaration_find_no_conflict(
            declaration=case, actor=acting(request), reason=f.cleaned_data["reason"]
        ),
        _("You found no conflict of interest. The case is closed."),
    )


@login_required
@require_POST
def withdraw(request: HttpRequest, code: Any) -> HttpResponse:
    return _step(
        request,
        code,
        forms.ReasonForm(request.POST, prefix="withdraw"),
        "withdraw_form",
        lambda case, f: transitions.declaration_withdraw(
            declaration=case, actor=acting(request), reason=f.cleaned_data["reason"]
        ),
        _("Your notice is withdrawn."),
    )


@login_required
@require_POST
def comment(request: HttpRequest, code: Any) -> HttpResponse:
    return _step(
        request,
        code,
        forms.CommentForm(request.POST),
        "comment_form",
        lambda case, f: declaration_services.declaration_comment(
            declaration=case, actor=acting(request), text=f.cleaned_data["text"]
        ),
        _("Your comment is on the case."),
    )


@login_required
@require_POST
def addendum(request: HttpRequest, code: Any) -> HttpResponse:
    """The declarant adds to or corrects a filed notice: an addendum, never an edit (DESIGN.md
    §2: filed text is frozen)."""
    return _step(
        request,
        code,
        forms.AddendumForm(request.POST, prefix="addendum"),
        "addendum_form",
        lambda case, f: declaration_services.declaration_add_addendum(
            declaration=case, actor=acting(request), text=f.cleaned_data["text"]
        ),
        _("Your addendum is on the case; the reviewer is notified."),
    )


def _person(user: Any) -> str:
    """A user as colleagues know them: the servant's full name, else the user name."""
    servant = getattr(user, "servant", None)
    return servant.full_name if servant is not None else user.get_username()


def _choices_servants(request: HttpRequest, case: Declaration, query: str) -> list[tuple[str, str]]:
    qs = (
        selectors.servant_search(user=request.user, query=query)
        .filter(body_id=case.body_id)
        .exclude(pk=case.declarant_id)
        .order_by("full_name")[:50]
    )
    return [(str(s.code), _servant_label(s)) for s in qs]


def _servant_label(s: Servant) -> str:
    where = f"{s.position.title}, {s.position.unit.name}" if s.position else ""
    return f"{s.full_name} — {where}" if where else s.full_name


def _choices_positions(
    request: HttpRequest, case: Declaration, query: str
) -> list[tuple[str, str]]:
    qs = (
        selectors.position_search(user=request.user, vacant=True, query=query)
        .filter(body_id=case.body_id)
        .order_by("unit__name", "title")[:50]
    )
    return [(str(p.code), f"{p.title} — {p.unit.name}") for p in qs]


MEASURE_ROWS = 3


@login_required
@require_http_methods(["GET", "POST"])
def decide(request: HttpRequest, code: Any) -> HttpResponse:
    """The reviewer decides one or more measures with reasons (003 cl. 8 p.2; Law 410-V Art. 15
    p.3). The search boxes narrow the substitute and position lists without losing the input."""
    case = visible_case(request, code)
    if "decide" not in permissions.allowed_actions(case, request.user):
        # the page was open while the case moved on (another reviewer, another state)
        if case.state == DeclarationState.IN_REVIEW and case.reviewer_id != request.user.pk:
            message = _("The review of this case is now with %(name)s. Nothing was changed.") % {
                "name": _person(case.reviewer) if case.reviewer else _("the management")
            }
        else:
            message = _("A decision is not possible now: the case is “%(state)s”.") % {
                "state": case.get_state_display()
            }
        return lost_race(request, case, message)
    data = request.POST or None
    form = forms.DecideForm(data)
    sq = (request.POST.get("substitute_search") or "").strip()
    pq = (request.POST.get("position_search") or "").strip()
    substitutes = _choices_servants(request, case, sq)
    positions = _choices_positions(request, case, pq)
    rows = [
        forms.MeasureForm(data, prefix=f"m{i}", substitutes=substitutes, positions=positions)
        for i in range(MEASURE_ROWS)
    ]
    searching = request.method == "POST" and "search" in request.POST
    if request.method == "POST" and not searching:
        try:
            check_seen_state(request, case)
            if _decide(request, case, form, rows):
                messages.success(request, _("Your decision is recorded."))
                return redirect(case_url(case))
        except Lost as lost:
            return lost.response
    return render(
        request,
        "declarations/decide.html",
        {
            "case": case,
            "form": form,
            "rows": rows,
            "searching": searching,
            "basis": selectors.legal_basis("decide", *(f"measure.{k}" for k in MeasureKind.values)),
        },
        status=200 if searching else form_status(request, form, *rows),
    )


def _decide(
    request: HttpRequest, case: Declaration, form: forms.DecideForm, rows: list[forms.MeasureForm]
) -> bool:
    checked = [form.is_valid()] + [row.is_valid() for row in rows]  # every row shows its errors
    if not all(checked):
        return False
    used = [row for row in rows if row.cleaned_data.get("kind")]
    if not used:
        form.add_error(None, _("Choose at least one measure."))
        return False

    def decide() -> Any:
        specs = [
            decisions.measure_spec_from_input(case=case, index=i, values=row.cleaned_data)
            for i, row in enumerate(used)
        ]
        return decisions.declaration_decide(
            declaration=case,
            actor=acting(request),
            measures=specs,
            reason=form.cleaned_data["reason"],
        )

    result = run_service(request, case, form, decide)
    if result is None:
        _spread_measure_errors(form, used)
        return False
    return True


def _spread_measure_errors(form: forms.DecideForm, used: list[forms.MeasureForm]) -> None:
    """``measures.<i>.<field>`` errors from the service go to that field of the i-th used row
    (to the form when the row has no such field)."""
    for field in list(form.errors):
        if field in form.fields or field == "__all__":
            continue
        errors = form.errors.pop(field)
        _measures, _sep, rest = field.partition(".")
        index, _sep, name = rest.partition(".")
        row = used[int(index)] if index.isdigit() and int(index) < len(used) else None
        for error in errors:
            if row is not None and name in row.fields:
                row.add_error(name, error)
            else:
                form.add_error(None, error)


@login_required
@require_http_methods(["GET", "POST"])
def reassign(request: HttpRequest, code: Any) -> HttpResponse:
    """Management takes a case over or gives it to another reviewer (DESIGN.md §1)."""
    case = visible_case(request, code)
    if not permissions.can_reassign_reviewer(request.user, case):
        raise PermissionDenied
    User = get_user_model()
    candidates = (
        User.objects.filter(
            Q(servant__body_id=case.body_id, servant__is_active=True)
            | Q(role_grants__body_id=case.body_id, role_grants__role=Role.MANAGEMENT)
        )
        .exclude(pk=case.declarant.user_id)
        .distinct()
        .select_related("servant")
        .order_by("servant__full_name", "username")[:200]
    )
    choices = [(str(u.pk), _person(u)) for u in candidates]
    form = forms.ReassignForm(request.POST or None, reviewers=choices)
    if request.method == "POST" and form.is_valid():
        reviewer = get_object_or_404(User, pk=form.cleaned_data["reviewer"])
        try:
            check_seen_state(request, case)
            done = run_service(
                request,
                case,
                form,
                lambda: transitions.declaration_reassign_reviewer(
                    declaration=case,
                    actor=acting(request),
                    reviewer=reviewer,
                    reason=form.cleaned_data["reason"],
                ),
            )
        except Lost as lost:
            return lost.response
        if done is not None:
            messages.success(request, _("The reviewer is changed."))
            return redirect(case_url(case))
    return render(
        request,
        "declarations/reassign.html",
        {"case": case, "form": form},
        status=form_status(request, form),
    )


@login_required
@require_http_methods(["GET", "POST"])
def open_case(request: HttpRequest) -> HttpResponse:
    """Open a case about a servant from information from other sources (003 cl. 8; R3)."""
    servants = [
        (str(s.code), _servant_label(s))
        for s in selectors.servant_search(user=request.user).order_by("full_name")[:500]
        if s.user_id != request.user.pk
    ]
    form = forms.OtherSourceForm(request.POST or None, servants=servants)
    if request.method == "POST" and form.is_valid():
        declarant = get_object_or_404(
            selectors.servant_search(user=request.user), code=form.cleaned_data["declarant"]
        )
        values = {name: form.cleaned_data[name] for name in NOTICE_FIELDS}
        try:
            case = transitions.declaration_open_from_source(
                actor=acting(request),
                declarant=declarant,
                source_description=form.cleaned_data["source_description"],
                source_confidential=form.cleaned_data["source_confidential"],
                **values,
            )
        except PermissionDenied:
            form.add_error(None, _("You may not open a case about this servant."))
        except ValidationError as exc:
            put_errors(form, exc)
        else:
            messages.success(
                request,
                _("The case is opened under No. %(number)s; the servant is notified.")
                % {"number": case.registration_number},
            )
            return redirect(case_url(case))
    return render(
        request, "declarations/open_case.html", {"form": form}, status=form_status(request, form)
    )


# ---- measures -------------------------------------------------------------------------------


def _visible_measure(request: HttpRequest, code: Any) -> Measure:
    return get_object_or_404(
        selectors.measure_list_visible_to(user=request.user).select_related(
            "declaration", "position__unit"
        ),
        code=code,
    )


def _measure_step(
    request: HttpRequest,
    code: Any,
    *,
    may: Any,
    refused: str,
    form_class: Any,
    call: Any,
    done: str,
    template: str,
    after: Any = None,
) -> HttpResponse:
    """A step on one measure: its small form, the service, then back to the case (or to
    ``after(case)``); a measure no longer waiting for this reader says so."""
    measure = _visible_measure(request, code)
    case = measure.declaration
    if not may(request.user, measure):
        messages.warning(request, refused)
        return redirect(case_url(case))
    form = form_class(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            check_seen_state(request, case)
            result = run_service(request, case, form, lambda: call(measure, form.cleaned_data))
        except Lost as lost:
            return lost.response
        if result is not None:
            messages.success(request, done)
            return redirect(after(case) if after else case_url(case))
    return render(
        request,
        template,
        {"case": case, "measure": measure, "form": form},
        status=form_status(request, form),
    )


@login_required
@require_http_methods(["GET", "POST"])
def consent(request: HttpRequest, code: Any) -> HttpResponse:
    """The servant answers a transfer proposal: accept, or decline with reasons."""
    return _measure_step(
        request,
        code,
        may=permissions.can_answer_measure_consent,
        refused=_("This proposal is no longer waiting for your answer."),
        form_class=forms.ConsentForm,
        call=lambda measure, d: measure_services.measure_consent(
            measure=measure, actor=acting(request), decision=d["decision"], reason=d["reason"]
        ),
        done=_("Your answer is recorded."),
        template="declarations/consent.html",
    )


@login_required
@require_http_methods(["GET", "POST"])
def implement(request: HttpRequest, code: Any) -> HttpResponse:
    """HR records the order that carries out a measure."""
    return _measure_step(
        request,
        code,
        may=permissions.can_implement_measure,
        refused=_("This measure is not waiting for an order."),
        form_class=forms.ImplementForm,
        call=lambda measure, d: measure_services.measure_implement(
            measure=measure,
            actor=acting(request),
            order_number=d["order_number"],
            order_date=d["order_date"],
        ),
        done=_("The order is recorded."),
        template="declarations/implement.html",
        # HR goes back to its queue of orders to record
        after=lambda case: (
            reverse("declarations:hr")
            if rulebook.allows("implement", request.user, case)
            else case_url(case)
        ),
    )
