"""What the API's resources share: the caller, checked input, versions (``ETag``/``If-Match``),
the write under the declaration's lock, downloads and keyset pagination.

Every object is fetched from the caller's scoped queryset, so anything outside it is a 404.
A write to a declaration or a measure first locks the declaration and checks ``If-Match``: a state
change or an edit must send it (428 without, docs/decisions.md "Versions"), stale is a 412; then it
calls the same service the web pages and commands use; that service checks the state (409) and the
actor (403). A draft's files carry no version of their own: their writes go straight to the
service.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any, TypeVar

from django.db import transaction
from django.utils.translation import gettext as _
from rest_framework import serializers
from rest_framework.exceptions import NotAuthenticated, NotFound
from rest_framework.pagination import CursorPagination
from rest_framework.request import Request
from rest_framework.response import Response

from declarations.api.errors import PreconditionFailed, PreconditionRequired
from declarations.http import file_response
from declarations.models import Declaration, Measure
from declarations.services.steps import lock_declaration

if TYPE_CHECKING:
    from django.contrib.auth.models import User

__all__ = [
    "DeclarationPagination",
    "NamePagination",
    "StrictCursorPagination",
    "TitlePagination",
    "acting",
    "check_if_match",
    "file_response",
    "valid_input",
    "version_of",
    "with_etag",
    "writing",
]

#: what a write checks ``If-Match`` against: the declaration, or one of its measures
Versioned = TypeVar("Versioned", Declaration, Measure)


def acting(request: Request) -> User:
    """The signed-in caller (every view that writes requires authentication)."""
    user = request.user
    if not user.is_authenticated:
        raise NotAuthenticated()
    return user


def valid_input(serializer_class: type[serializers.Serializer], request: Request, **kw: Any) -> Any:
    """The request body checked by an input serializer (400 with per-field messages)."""
    data = serializer_class(data=request.data, **kw)
    data.is_valid(raise_exception=True)
    return data.validated_data


# ---- versions (ETag / If-Match) and writes ---------------------------------------------------


def version_of(obj: Declaration | Measure) -> str:
    """Opaque and changing with every write: every step of a declaration moves ``updated_at``.

    Not the chain's length: an event that is not a step (a notification delivered, issue 14)
    must not make a client's copy stale."""
    raw = f"{obj.code}:{obj.state}:{obj.updated_at.isoformat()}"
    return hashlib.sha256(raw.encode()).hexdigest()[:20]


def check_if_match(request: Request, obj: Declaration | Measure, *, required: bool) -> None:
    """``If-Match`` against the object's version: stale is a 412; missing is a 428 when the write
    ``required`` it (a state change or an edit: it must name the version it was decided on), and
    so is ``*``, which names none. Without ``required`` (an append: a comment, an addendum) a
    missing header or ``*`` passes and a stale version is still a 412."""
    header = request.headers.get("If-Match", "").strip()
    if not header or header == "*":
        if required:
            raise PreconditionRequired(
                _("This change needs If-Match: send the ETag from your last read.")
            )
        return
    wanted = {tag.strip().removeprefix("W/").strip('"') for tag in header.split(",")}
    if version_of(obj) not in wanted:
        raise PreconditionFailed(_("The case has changed since you read it; read it again."))


def with_etag(response: Response, obj: Declaration | Measure) -> Response:
    response["ETag"] = f'"{version_of(obj)}"'
    return response


@contextmanager
def writing(
    request: Request,
    declaration: Callable[[], Declaration],
    current: Callable[[Declaration], Versioned],
    *,
    required: bool = True,
) -> Iterator[Versioned]:
    """One transaction that the service joins: ``declaration()`` (the declaration in the caller's
    scope, else 404) locked, then ``If-Match`` checked (428 when missing and ``required``, 412
    when stale) on ``current(locked declaration)`` — the declaration itself, or one of its
    measures read under the declaration's lock. What the client names cannot change between the
    check and the write."""
    with transaction.atomic():
        obj = current(lock_declaration(declaration(), expect_state=False))
        check_if_match(request, obj, required=required)
        yield obj


# ---- pagination -------------------------------------------------------------------------------


class StrictCursorPagination(CursorPagination):
    """Keyset pagination: a page deep in the list costs what the first one does.

    ``page_size`` must be a whole number from 1 to ``max_page_size``; DRF would silently fall
    back to the default on anything else.
    """

    page_size_query_param = "page_size"

    def get_page_size(self, request: Request) -> int | None:
        values = request.query_params.getlist("page_size")
        if not values:
            return self.page_size
        if (
            len(values) > 1
            or not values[0].isdigit()
            or not 1 <= int(values[0]) <= (self.max_page_size or 0)
        ):
            raise serializers.ValidationError(
                {"page_size": [_("A whole number from 1 to %(n)d.") % {"n": self.max_page_size}]}
            )
        return int(values[0])

    def decode_cursor(self, request: Request) -> Any:
        try:
            return super().decode_cursor(request)
        except NotFound:  # DRF answers a mangled cursor with 404; it is bad input
            raise serializers.ValidationError(
                {"cursor": [_("This is not a cursor from a previous page.")]}
            ) from None


class DeclarationPagination(StrictCursorPagination):
    ordering = "-created_at"
    page_size = 50
    max_page_size = 200


class NamePagination(StrictCursorPagination):
    ordering = "full_name"
    page_size = 20
    max_page_size = 100


class TitlePagination(NamePagination):
    ordering = "title"
