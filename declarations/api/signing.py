"""What a person signs before a step (issue 15): ``POST …/statement/<step>/`` with the input
the step will be posted with answers the exact bytes to sign (base64), encoded by the server
from that input the same way the step encodes them again when it is posted with the CMS.

It writes nothing and is scoped like every read: a declaration or measure outside the caller's
scope is a 404.
"""

from __future__ import annotations

import base64
import hashlib
from typing import Any

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
from declarations.services import decisions
from declarations.services.personal_signatures import policy_of, statement_for
from declarations.services.transitions import notice_content


def _answer(*, declaration: Declaration, step: str, request: Request, content: Any) -> Response:
    statement = statement_for(
        declaration=declaration, step=step, actor=acting(request), content=content
    )
    return Response(
        {
            "statement": base64.b64encode(statement).decode(),
            "sha256": hashlib.sha256(statement).hexdigest(),
            "policy": policy_of(declaration.body, step),
        }
    )


def _declaration(request: Request, id: str) -> Declaration:
    declaration: Declaration = get_object_or_404(
        selectors.declaration_list_visible_to(user=request.user).select_related("body"), code=id
    )
    return declaration


DESCRIPTION = (
    "The bytes to sign for this step of the declaration: post the step's own input, sign the "
    "answer's `statement` with NCALayer (detached CMS), then post the step with `signature`."
)


class SubmitStatementView(APIView):
    @extend_schema(
        tags=["signatures"],
        request=None,
        responses={200: StatementOutput, **errors(404)},
        description=DESCRIPTION,
    )
    def post(self, request: Request, id: str) -> Response:
        declaration = _declaration(request, id)
        content = notice_content(declaration)
        return _answer(declaration=declaration, step="submit", request=request, content=content)


class AddendumStatementView(APIView):
    @extend_schema(
        tags=["signatures"],
        request=io.TextInput,
        responses={200: StatementOutput, **errors(400, 404)},
        description=DESCRIPTION,
    )
    def post(self, request: Request, id: str) -> Response:
        content = {"text": valid_input(io.TextInput, request)["text"]}
        declaration = _declaration(request, id)
        return _answer(declaration=declaration, step="addendum", request=request, content=content)


class NoConflictStatementView(APIView):
    @extend_schema(
        tags=["signatures"],
        request=io.ReasonInput,
        responses={200: StatementOutput, **errors(400, 404)},
        description=DESCRIPTION,
    )
    def post(self, request: Request, id: str) -> Response:
        content = {"reason": valid_input(io.ReasonInput, request)["reason"]}
        declaration = _declaration(request, id)
        return _answer(
            declaration=declaration, step="no_conflict", request=request, content=content
        )


class DecideStatementView(APIView):
    @extend_schema(
        tags=["signatures"],
        request=io.DecideInput,
        responses={200: StatementOutput, **errors(400, 404)},
        description=DESCRIPTION,
    )
    def post(self, request: Request, id: str) -> Response:
        data = valid_input(io.DecideInput, request)
        declaration = _declaration(request, id)
        specs = [
            decisions.measure_spec_from_input(declaration=declaration, index=i, values=m)
            for i, m in enumerate(data["measures"])
        ]
        content = decisions.decision_content(measures=specs, reason=data["reason"])
        return _answer(declaration=declaration, step="decide", request=request, content=content)


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
        responses={200: StatementOutput, **errors(400, 404)},
        description="The bytes to sign for the answer to a transfer proposal.",
    )
    def post(self, request: Request, id: str) -> Response:
        data = valid_input(io.ConsentInput, request)
        measure = get_object_or_404(
            selectors.measure_list_visible_to(user=request.user).select_related(
                "declaration__body"
            ),
            code=id,
        )
        content = {"measure": str(measure.code), "decision": data["decision"]}
        content["reason"] = data["reason"]
        return _answer(
            declaration=measure.declaration, step="consent", request=request, content=content
        )
