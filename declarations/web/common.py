"""What the web views share: who is acting, the scoped declaration lookup, and how a step's outcome
reaches the page.

A step posted from a page ends in one of three ways, and every view says which with the same
two helpers, without exceptions that carry responses:

- the declaration moved on since the reader's page was shown (``moved_on``), or the service refused
  the step because of the declaration's state (``attempt``): the reader is told "it is now …" and
  sees the declaration as it is; nothing was written;
- the service refused the input: its errors are on the form, next to their fields (the view
  shows the form again, with status 400);
- the step is done: the view says so and redirects.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import TYPE_CHECKING
from uuid import UUID

from django import forms
from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django_fsm import ConcurrentTransition, TransitionNotAllowed

from declarations import permissions, selectors
from declarations.client import AddressRateThrottle
from declarations.models import Declaration

if TYPE_CHECKING:
    from django.contrib.auth.models import User


def acting(request: HttpRequest) -> User:
    """The signed-in reader (every view that writes is behind ``login_required``)."""
    user = request.user
    if not user.is_authenticated:
        raise PermissionDenied
    return user


def visible_declaration(request: HttpRequest, code: UUID) -> Declaration:
    """The declaration if the reader may see it, else a 404 (never say that it exists)."""
    try:
        return selectors.declaration_get_visible(user=request.user, code=code)
    except Declaration.DoesNotExist:
        raise Http404 from None


def declaration_url(declaration: Declaration) -> str:
    return reverse("declarations:declaration", args=[declaration.code])


def old_declaration_path(request: HttpRequest, rest: str) -> HttpResponse:
    """``/cases/…`` (the pages' paths before issue 13) → ``/declarations/…``, query kept, as a
    permanent redirect that keeps the method and body (308), so an old open form still posts."""
    target = reverse("declarations:mine").removesuffix("mine/") + rest
    if request.META.get("QUERY_STRING"):
        target += "?" + request.META["QUERY_STRING"]
    return redirect(target, permanent=True, preserve_request=True)


def lost_race(request: HttpRequest, declaration: Declaration, message: str = "") -> HttpResponse:
    """Tell the reader their step came too late, and show the declaration as it is now."""
    declaration.refresh_from_db()
    messages.warning(
        request,
        message
        or _("Someone else acted on this case first: it is now “%(state)s”. Nothing was changed.")
        % {"state": declaration.get_state_display()},
    )
    return redirect(declaration_url(declaration))


def moved_on(request: HttpRequest, declaration: Declaration) -> HttpResponse | None:
    """A form carries the state the reader saw (``seen_state``): if the declaration moved since, the
    answer that says so (nothing is changed); ``None`` if it did not."""
    seen = request.POST.get("seen_state")
    if seen and seen != declaration.state:
        return lost_race(request, declaration)
    return None


def put_errors(form: forms.Form, exc: ValidationError) -> None:
    """A service's refusal of the input onto ``form``: at the field it names (the last part of a
    dotted key), else above the form."""
    if hasattr(exc, "error_dict"):
        for field, errors in exc.error_dict.items():
            name = field.rsplit(".", 1)[-1] if "." in field else field
            target = name if name in form.fields else None
            for error in errors:
                form.add_error(target, error)
    else:
        form.add_error(None, exc)


def attempt(
    request: HttpRequest,
    declaration: Declaration,
    call: Callable[[], object],
    form: forms.Form | None = None,
    *,
    put: Callable[[forms.Form, ValidationError], None] = put_errors,
) -> HttpResponse | None:
    """Call a step's service on ``declaration``.

    Returns the answer to give when the step came too late: a lost race, a state that no longer
    allows the step, or a step no longer the reader's (another reviewer took the declaration over) —
    the reader is shown the declaration as it is now. Returns ``None`` when the service ran, or when
    it refused the input: ``put`` has then put its errors on ``form`` (or on forms that go with it).
    Without a form, a refused input is told like a late step.
    """
    try:
        call()
    except (TransitionNotAllowed, ConcurrentTransition) as exc:
        return lost_race(request, declaration, str(exc))
    except PermissionDenied as exc:
        # The reader saw the step offered, but the declaration moved on without them (another
        # reviewer took it over, say): they may still read the declaration, so show it as it is now.
        if not permissions.can_view(request.user, declaration):
            raise
        return lost_race(request, declaration, str(exc))
    except ValidationError as exc:
        if form is None:
            return lost_race(request, declaration, " ".join(exc.messages))
        put(form, exc)
    return None


def form_status(request: HttpRequest, *forms_: forms.Form) -> int:
    """400 when a sent form is shown again with its errors (as the API answers bad input)."""
    if request.method == "POST" and any(f.is_bound and f.errors for f in forms_):
        return 400
    return filter_status(*forms_)


def filter_status(*forms_: forms.Form) -> int:
    """400 when a list's filters were sent with errors (a date out of bounds, say): the page
    shows them at their fields and the list unfiltered, as the API refuses them."""
    return 400 if any(f.is_bound and f.errors for f in forms_) else 200


def too_many_requests(request: HttpRequest, throttle: AddressRateThrottle) -> HttpResponse:
    """Our own 429 page, in the reader's language, with ``Retry-After``."""
    seconds = max(1, math.ceil(throttle.wait() or 1))
    response = render(request, "429.html", {"seconds": seconds}, status=429)
    response["Retry-After"] = str(seconds)
    return response
