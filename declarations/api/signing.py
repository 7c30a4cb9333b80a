"""What a person signs before a step (issue 15): ``POST …/statement/<step>/`` with the input
the step will be posted with answers the exact bytes to sign (base64).

The answer comes from the step itself: the view calls the step's service with
``StatementOnly`` as the signature, so the service runs every check it runs for real (scope,
permission, state, input, the body's policy, the caller's IIN), encodes the statement exactly
as it will verify it, and stops (``StatementWanted``); its transaction rolls back and nothing is
written. A declaration or measure outside the caller's scope is a 404, as for every read.
"""

from __future__ import annotations

import base64
import hashlib
from collections.abc import Callable

from django.db import transaction
from drf_spectacular.utils import extend_schema
from rest_framework.generics import get_object_or_404
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from declarations import selectors
from declarations.api import serializers as io
from declarations.api.common import acting, valid_input
from declarations.api.schema import errors
from declarations.api.serializers.signing import StatementOutput
from declarations.models import Declaration
from declarations.services import decisions, transitions
from declarations.services import declarations as declaration_services
from declarations.services import measures as measure_services
from declarations.services.personal_signatures import (
    StatementOnly,
    StatementWanted,
    policy_of,
)


def _statement(*, declaration: Declaration, step: str, take_step: Callable[[], object]) -> Response:
    """Run the step with ``StatementOnly``; answer the statement it encoded."""
    try:
        with transaction.atomic():
            take_step()
    except StatementWanted as wanted:
        return Response(
            {
                "statement": base64.b64encode(wanted.statement).decode(),
                "sha256": hashlib.sha256(wanted.statement).hexdigest(),
                "policy": policy_of(declaration.body, step),
            }
        )
    raise RuntimeError("a step given StatementOnly must answer its statement or refuse")


def _declaration(request: Request, id: str) -> Declaration:
    declaration: Declaration = get_object_or_404(
        selectors.declaration_list_visible_to(user=request.user).select_related("body"), code=id
    )
    return declaration


class SubmitStatementView(APIView):
    @extend_schema(
        tags=["signatures"],
        request=None,
        responses={200: StatementOutput, **errors(403, 404, 409)},
    )
    def post(self, request: Request, id: str) -> Response:
        declaration = _declaration(request, id)
        return _statement(
            declaration=declaration,
            step="submit",
            take_step=lambda: transitions.declaration_submit(
                declaration=declaration, actor=acting(request), signature=StatementOnly()
            ),
        )


class AddendumStatementView(APIView):
    @extend_schema(
        tags=["signatures"],
        request=io.TextInput,
        responses={200: StatementOutput, **errors(400, 403, 404, 409)},
    )
    def post(self, request: Request, id: str) -> Response:
        text = valid_input(io.TextInput, request)["text"]
        declaration = _declaration(request, id)
        return _statement(
            declaration=declaration,
            step="addendum",
            take_step=lambda: declaration_services.declaration_add_addendum(
                declaration=declaration,
                actor=acting(request),
                text=text,
                signature=StatementOnly(),
            ),
        )


class NoConflictStatementView(APIView):
    @extend_schema(
        tags=["signatures"],
        request=io.ReasonInput,
        responses={200: StatementOutput, **errors(400, 403, 404, 409)},
    )
    def post(self, request: Request, id: str) -> Response:
        reason = valid_input(io.ReasonInput, request)["reason"]
        declaration = _declaration(request, id)
        return _statement(
            declaration=declaration,
            step="no_conflict",
            take_step=lambda: transitions.declaration_find_no_conflict(
                declaration=declaration,
                actor=acting(request),
                reason=reason,
                signature=StatementOnly(),
            ),
        )


class DecideStatementView(APIView):
    @extend_schema(
        tags=["signatures"],
        request=io.DecideInput,
        responses={200: StatementOutput, **errors(400, 403, 404, 409)},
    )
    def post(self, request: Request, id: str) -> Response:
        data = valid_input(io.DecideInput, request)
        declaration = _declaration(request, id)
        specs = [
            decisions.measure_spec_from_input(declaration=declaration, index=i, values=m)
            for i, m in enumerate(data["measures"])
        ]
        return _statement(
            declaration=declaration,
            step="decide",
            take_step=lambda: decisions.declaration_decide(
                declaration=declaration,
                actor=acting(request),
                measures=specs,
                reason=data["reason"],
                signature=StatementOnly(),
            ),
        )


#: the URL's step → its view
STEPS = {
    "submit": SubmitStatementView,
    "addendum": AddendumStatementView,
    "decide": DecideStatementView,
    "no-conflict": NoConflictStatementView,
}


class MeasureStatementView(APIView):
    @extend_schema(
        tags=["signatures"],
        request=io.ConsentInput,
        responses={200: StatementOutput, **errors(400, 403, 404, 409)},
    )
    def post(self, request: Request, id: str) -> Response:
        data = valid_input(io.ConsentInput, request)
        measure = get_object_or_404(
            selectors.measure_list_visible_to(user=request.user).select_related(
                "declaration__body"
            ),
            code=id,
        )
        return _statement(
            declaration=measure.declaration,
            step="consent",
            take_step=lambda: measure_services.measure_consent(
                measure=measure,
                actor=acting(request),
                decision=data["decision"],
                reason=data["reason"],
                signature=StatementOnly(),
            ),
        )
