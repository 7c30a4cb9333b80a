"""What the web views share: the scoped case lookup, and putting a service's refusal on a page."""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, TypeVar

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

T = TypeVar("T")


def acting(request: HttpRequest) -> User:
    """The signed-in reader (every view that writes is behind ``login_required``)."""
    user = request.user
    if not user.is_authenticated:
        raise PermissionDenied
    return user


def visible_case(request: HttpRequest, code: Any) -> Declaration:
    """The case if the reader may see it, else a 404 (never say that it exists)."""
    try:
        return selectors.declaration_get_visible(user=request.user, code=code)
    except Declaration.DoesNotExist:
        raise Http404 from None


def case_url(case: Declaration) -> str:
    return reverse("declarations:case", args=[case.code])


class Lost(Exception):
    """The step was refused because of the case's state: someone else acted first."""

    def __init__(self, response: HttpResponse) -> None:
        self.response = response


def lost_race(request: HttpRequest, case: Declaration, message: str = "") -> HttpResponse:
    """Tell the reader their step came too late, and show the case as it is now."""
    case.refresh_from_db()
    messages.warning(
        request,
        message
        or _("Someone else acted on this case first: it is now “%(state)s”. Nothing was changed.")
        % {"state": case.get_state_display()},
    )
    return redirect(case_url(case))


def check_seen_state(request: HttpRequest, case: Declaration) -> None:
    """A form carries the state the reader saw; if the case moved since, say so, change nothing."""
    seen = request.POST.get("seen_state")
    if seen and seen != case.state:
        raise Lost(lost_race(request, case))


def run_service(
    request: HttpRequest,
    case: Declaration,
    form: forms.Form | None,
    call: Callable[[], T],
) -> T | None:
    """Call a service; its field errors go onto ``form`` (``None`` is returned). A lost race, a
    state that no longer allows the step, or a step no longer the reader's (another reviewer
    took the case over) raises ``Lost`` with the answer to give."""
    try:
        return call()
    except (TransitionNotAllowed, ConcurrentTransition) as exc:
        raise Lost(lost_race(request, case, str(exc))) from exc
    except PermissionDenied as exc:
        # The reader saw the step offered, but the case moved on without them (another reviewer
        # took it over, say): they may still read the case, so show it as it is now.
        if not permissions.can_view(request.user, case):
            raise
        raise Lost(lost_race(request, case, str(exc))) from exc
    except ValidationError as exc:
        if form is None:
            raise Lost(lost_race(request, case, " ".join(exc.messages))) from exc
        put_errors(form, exc)
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


def put_errors(form: forms.Form, exc: ValidationError) -> None:
    if hasattr(exc, "error_dict"):
        for field, errors in exc.error_dict.items():
            name = field.rsplit(".", 1)[-1] if "." in field else field
            target = name if name in form.fields else None
            for error in errors:
                form.add_error(target, error)
    else:
        form.add_error(None, exc)


def too_many_requests(request: HttpRequest, throttle: AddressRateThrottle) -> HttpResponse:
    """Our own 429 page, in the reader's language, with ``Retry-After``."""
    seconds = max(1, math.ceil(throttle.wait() or 1))
    response = render(request, "429.html", {"seconds": seconds}, status=429)
    response["Retry-After"] = str(seconds)
    return response
