"""The steps on a declaration from the web pages: the reviewer's, management's and the declarant's.

Each one calls the same service the API calls (STYLE.md rule 21). The small steps of the declaration
page are functions that call their service, made into views by ``declaration.declaration_step``; the
decision and the reassignment have pages of their own. A step that lost to someone else's action
says so and shows the declaration as it now is (``common.attempt``).
"""

from __future__ import annotations

from typing import TYPE_CHECKING
from uuid import UUID

from django import forms as django_forms
from django.contrib import messages
from django.contrib.auth import get_user_model
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Q
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_http_methods, require_POST

from declarations import permissions, selectors
from declarations.choices import DeclarationState, MeasureKind, Role
from declarations.models import NOTICE_FIELDS, Decision, Declaration, Servant
from declarations.services import decisions, transitions
from declarations.services import declarations as declaration_services
from declarations.web import forms
from declarations.web.common import (
    acting,
    attempt,
    declaration_url,
    form_status,
    lost_race,
    moved_on,
    put_errors,
    visible_declaration,
)
from declarations.web.declaration import declaration_step
from declarations.web.signing import answers_statement, posted_signature, signing_context

if TYPE_CHECKING:
    from django.contrib.auth.models import User

# ---- the small steps of the declaration page
# -------------------------------------------------------


@login_required
@require_POST
def start_review(request: HttpRequest, code: UUID) -> HttpResponse:
    """The one step without input: no form to show again, so a refusal is told as a message."""
    declaration = visible_declaration(request, code)
    late = moved_on(request, declaration)
    if late is None:
        late = attempt(
            request,
            declaration,
            lambda: transitions.declaration_start_review(
                declaration=declaration, actor=acting(request)
            ),
        )
    if late is not None:
        return late
    messages.success(request, _("You started the review. Decide the measures before the deadline."))
    return redirect(declaration_url(declaration))


@login_required
@answers_statement
@require_POST
@declaration_step(
    form=forms.ReasonForm,
    prefix="no_conflict",
    slot="no_conflict_form",
    done=gettext_lazy("You found no conflict of interest. The case is closed."),
)
def no_conflict(
    request: HttpRequest, declaration: Declaration, form: forms.ReasonForm
) -> Declaration:
    return transitions.declaration_find_no_conflict(
        declaration=declaration,
        actor=acting(request),
        reason=form.cleaned_data["reason"],
        signature=posted_signature(request),
    )


@login_required
@require_POST
@declaration_step(
    form=forms.ReasonForm,
    prefix="withdraw",
    slot="withdraw_form",
    done=gettext_lazy("Your notice is withdrawn."),
)
def withdraw(request: HttpRequest, declaration: Declaration, form: forms.ReasonForm) -> Declaration:
    return transitions.declaration_withdraw(
        declaration=declaration, actor=acting(request), reason=form.cleaned_data["reason"]
    )


@login_required
@require_POST
@declaration_step(
    form=forms.CommentForm,
    slot="comment_form",
    done=gettext_lazy("Your comment is on the case."),
)
def comment(request: HttpRequest, declaration: Declaration, form: forms.CommentForm) -> Declaration:
    return declaration_services.declaration_comment(
        declaration=declaration, actor=acting(request), text=form.cleaned_data["text"]
    )


@login_required
@answers_statement
@require_POST
@declaration_step(
    form=forms.AddendumForm,
    prefix="addendum",
    slot="addendum_form",
    done=gettext_lazy("Your addendum is on the case; the reviewer is notified."),
)
def addendum(
    request: HttpRequest, declaration: Declaration, form: forms.AddendumForm
) -> Declaration:
    """The declarant adds to or corrects a filed notice: an addendum, never an edit (DESIGN.md
    §2: filed text is frozen)."""
    return declaration_services.declaration_add_addendum(
        declaration=declaration,
        actor=acting(request),
        text=form.cleaned_data["text"],
        signature=posted_signature(request),
    )


# ---- the decision ---------------------------------------------------------------------------


def _person(user: User) -> str:
    """A user as colleagues know them: the servant's full name, else the user name."""
    servant: Servant | None = getattr(user, "servant", None)
    return servant.full_name if servant is not None else user.get_username()


def _choices_servants(
    request: HttpRequest, declaration: Declaration, query: str
) -> list[tuple[str, str]]:
    qs = (
        selectors.servant_search(user=request.user, query=query)
        .filter(body_id=declaration.body_id)
        .exclude(pk=declaration.declarant_id)
        .order_by("full_name")[:50]
    )
    return [(str(s.code), _servant_label(s)) for s in qs]


def _servant_label(s: Servant) -> str:
    where = f"{s.position.title}, {s.position.unit.name}" if s.position else ""
    return f"{s.full_name} — {where}" if where else s.full_name


def _choices_positions(
    request: HttpRequest, declaration: Declaration, query: str
) -> list[tuple[str, str]]:
    qs = (
        selectors.position_search(user=request.user, vacant=True, query=query)
        .filter(body_id=declaration.body_id)
        .order_by("unit__name", "title")[:50]
    )
    return [(str(p.code), f"{p.title} — {p.unit.name}") for p in qs]


MEASURE_ROWS = 3


@login_required
@answers_statement
@require_http_methods(["GET", "POST"])
def decide(request: HttpRequest, code: UUID) -> HttpResponse:
    """The reviewer decides one or more measures with reasons (003 cl. 8 p.2; Law 410-V Art. 15
    p.3). The search boxes narrow the substitute and position lists without losing the input."""
    declaration = visible_declaration(request, code)
    if "decide" not in permissions.allowed_actions(declaration, request.user):
        # the page was open while the declaration moved on (another reviewer, another state)
        if (
            declaration.state == DeclarationState.IN_REVIEW
            and declaration.reviewer_id != request.user.pk
        ):
            message = _("The review of this case is now with %(name)s. Nothing was changed.") % {
                "name": _person(declaration.reviewer)
                if declaration.reviewer
                else _("the management")
            }
        else:
            message = _("A decision is not possible now: the case is “%(state)s”.") % {
                "state": declaration.get_state_display()
            }
        return lost_race(request, declaration, message)
    data = request.POST or None
    form = forms.DecideForm(data)
    sq = (request.POST.get("substitute_search") or "").strip()
    pq = (request.POST.get("position_search") or "").strip()
    substitutes = _choices_servants(request, declaration, sq)
    positions = _choices_positions(request, declaration, pq)
    rows = [
        forms.MeasureForm(data, prefix=f"m{i}", substitutes=substitutes, positions=positions)
        for i in range(MEASURE_ROWS)
    ]
    searching = request.method == "POST" and "search" in request.POST
    if request.method == "POST" and not searching:
        answer = moved_on(request, declaration)
        if answer is None:
            answer = _decide(request, declaration, form, rows)
        if answer is not None:
            return answer
    return render(
        request,
        "declarations/decide.html",
        {
            "declaration": declaration,
            "form": form,
            "rows": rows,
            "searching": searching,
            "basis": selectors.legal_basis("decide", *(f"measure.{k}" for k in MeasureKind.values)),
            "sign": signing_context(declaration.body),
        },
        status=200 if searching else form_status(request, form, *rows),
    )


def _decide(
    request: HttpRequest,
    declaration: Declaration,
    form: forms.DecideForm,
    rows: list[forms.MeasureForm],
) -> HttpResponse | None:
    """Check the form and every row, then decide. The answer to give when the decision is
    recorded or came too late; ``None`` when the input is refused (the errors are on the forms)."""
    checked = [form.is_valid()] + [row.is_valid() for row in rows]  # every row shows its errors
    if not all(checked):
        return None
    used = [row for row in rows if row.cleaned_data.get("kind")]
    if not used:
        form.add_error(None, _("Choose at least one measure."))
        return None

    def decide_now() -> Decision:
        specs = [
            decisions.measure_spec_from_input(
                declaration=declaration, index=i, values=row.cleaned_data
            )
            for i, row in enumerate(used)
        ]
        return decisions.declaration_decide(
            declaration=declaration,
            actor=acting(request),
            measures=specs,
            reason=form.cleaned_data["reason"],
            signature=posted_signature(request),
        )

    late = attempt(
        request,
        declaration,
        decide_now,
        form,
        put=lambda f, exc: _put_decision_errors(f, used, exc),
    )
    if late is not None:
        return late
    if form.errors or any(row.errors for row in used):
        return None
    messages.success(request, _("Your decision is recorded."))
    return redirect(declaration_url(declaration))


def _put_decision_errors(
    form: django_forms.Form, used: list[forms.MeasureForm], exc: ValidationError
) -> None:
    """The service keys a measure's errors ``measures.<i>.<field>``, its i-th measure being the
    i-th used row: they go to that field of that row; the others to the form."""
    if not hasattr(exc, "error_dict"):
        put_errors(form, exc)
        return
    for key, errors in exc.error_dict.items():
        head, _sep, rest = key.partition(".")
        index, _sep, name = rest.partition(".")
        at = int(index) if head == "measures" and index.isdigit() else len(used)
        row = used[at] if at < len(used) else None
        if row is not None and name in row.fields:
            for error in errors:
                row.add_error(name, error)
        else:
            put_errors(form, ValidationError({key: errors}))


# ---- management's steps ---------------------------------------------------------------------


@login_required
@require_http_methods(["GET", "POST"])
def reassign(request: HttpRequest, code: UUID) -> HttpResponse:
    """Management takes a declaration over or gives it to another reviewer (DESIGN.md §1)."""
    declaration = visible_declaration(request, code)
    if not permissions.can_reassign_reviewer(request.user, declaration):
        raise PermissionDenied
    User = get_user_model()
    candidates = (
        User.objects.filter(
            Q(servant__body_id=declaration.body_id, servant__is_active=True)
            | Q(role_grants__body_id=declaration.body_id, role_grants__role=Role.MANAGEMENT)
        )
        .exclude(pk=declaration.declarant.user_id)
        .distinct()
        .select_related("servant")
        .order_by("servant__full_name", "username")[:200]
    )
    choices = [(str(u.pk), _person(u)) for u in candidates]
    form = forms.ReassignForm(request.POST or None, reviewers=choices)
    if request.method == "POST" and form.is_valid():
        reviewer = get_object_or_404(User, pk=form.cleaned_data["reviewer"])
        late = moved_on(request, declaration)
        if late is None:
            late = attempt(
                request,
                declaration,
                lambda: transitions.declaration_reassign_reviewer(
                    declaration=declaration,
                    actor=acting(request),
                    reviewer=reviewer,
                    reason=form.cleaned_data["reason"],
                ),
                form,
            )
        if late is not None:
            return late
        if not form.errors:
            messages.success(request, _("The reviewer is changed."))
            return redirect(declaration_url(declaration))
    return render(
        request,
        "declarations/reassign.html",
        {"declaration": declaration, "form": form},
        status=form_status(request, form),
    )


@login_required
@require_http_methods(["GET", "POST"])
def open_declaration(request: HttpRequest) -> HttpResponse:
    """Open a declaration about a servant from information from other sources (003 cl. 8; R3)."""
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
            declaration = transitions.declaration_open_from_source(
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
                % {"number": declaration.registration_number},
            )
            return redirect(declaration_url(declaration))
    return render(
        request,
        "declarations/open_declaration.html",
        {"form": form},
        status=form_status(request, form),
    )
