"""OpenAPI: every operation documents the errors it can answer, in the one ``Error`` shape.

The common ones are added here by rule (401 when authentication is required, 404 on paths with
an id, 400 where the operation takes input, 429 on writes); views add what is particular to
them (403, 409, 412, 413, 415) with ``errors(...)``.
"""

from __future__ import annotations

from typing import Any

from drf_spectacular.openapi import AutoSchema as BaseAutoSchema
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse
from rest_framework.permissions import AllowAny

from declarations.api.serializers import ErrorOutput

DESCRIPTIONS = {
    400: "Invalid input: `fields` holds the messages per field.",
    401: "Not authenticated, or the token has expired.",
    403: "The caller may see the declaration but may not do this.",
    404: "No such object in the caller's scope.",
    409: "Not possible in the declaration's current state, or lost to a concurrent change.",
    412: "The `If-Match` version is stale: read the declaration again.",
    413: "The upload is too large.",
    415: "The file is not one of the accepted types (by content), or the body is not JSON.",
    428: "`If-Match` is missing: send the `ETag` of your last read.",
    429: "Too many requests: wait `retry_after` seconds.",
}


def errors(*codes: int) -> dict[int, OpenApiResponse]:
    return {code: OpenApiResponse(ErrorOutput, description=DESCRIPTIONS[code]) for code in codes}


IF_MATCH = OpenApiParameter(
    "If-Match",
    OpenApiTypes.STR,
    OpenApiParameter.HEADER,
    required=False,
    description="The `ETag` of the object as last read; a stale value gets 412.",
)

#: resources whose writes take no ``If-Match``
UNVERSIONED = ("/attachments/", "/notifications/", "/auth/")


class AutoSchema(BaseAutoSchema):
    def _get_response_bodies(self, direction: Any = "response") -> dict[str, Any]:
        responses: dict[str, Any] = super()._get_response_bodies(direction)
        codes: set[int] = set()
        if not any(isinstance(p, AllowAny) for p in self.view.get_permissions()):
            codes.add(401)
        if "{" in self.path:
            codes.add(404)
        unsafe = self.method not in ("GET", "HEAD", "OPTIONS")
        if unsafe:
            codes.add(429)
        if unsafe and self.method != "DELETE":
            codes |= {400, 415}  # a body that is not valid, or not JSON
        if self._get_filter_parameters() or self.get_override_parameters():
            codes.add(400)
        if any(p is IF_MATCH for p in self.get_override_parameters()):
            codes.add(428)  # on the writes that require it (api/common.py ``writing``)
        for code, response in errors(*sorted(codes)).items():
            if str(code) not in responses:
                responses[str(code)] = self._get_response_for_code(
                    response.response, str(code), direction=direction
                ) | {"description": response.description}
        return responses

    def get_override_parameters(self) -> list[Any]:
        params = [p for p in super().get_override_parameters() if p is not IF_MATCH]
        if (
            self.method in ("POST", "PATCH", "DELETE")
            and "{" in self.path
            # a draft's files carry no version of their own, nor does a notification or a token
            and not any(name in self.path for name in UNVERSIONED)
        ):
            params.append(IF_MATCH)
        return params
