"""OpenAPI: the API's published contract (``docs/openapi.yaml``, ``docs/API-CHANGELOG.md``).

One document whoever asks: it is built in English whatever the caller's language
(``EnglishSchemaGenerator``, used by ``/api/schema/`` and by the commands), with readable
operation ids and a summary and description per operation (``api/operations.py``). Rules
added here to every operation, so that no view can forget them:

- errors, all in the one ``ErrorOutput`` shape: 401 when authentication is required, 404 on
  paths with an id (also for an id that is not a UUID), 400/413/415 where a body is taken, 429
  on writes, 412 and 428 where ``If-Match`` is taken, and 405, 406, 500 and 503 everywhere;
  views add what is particular to them (403, 409, …) with ``errors(...)``;
- parameters: ``Accept-Language``, ``If-Match`` on the writes that check a version, and every
  path id a UUID;
- response headers: ``Content-Language`` on every answer, ``ETag`` where a declaration or a
  measure is answered, ``Content-Disposition`` on downloads, ``Retry-After`` on 429 and 503.

The errors are shared responses (``#/components/responses/NotFound``…) and the headers shared
headers, so the document states each once.
"""

from __future__ import annotations

import re
from http import HTTPStatus
from typing import Any

from django.conf import settings
from django.utils import translation
from drf_spectacular.drainage import warn
from drf_spectacular.generators import SchemaGenerator
from drf_spectacular.openapi import AutoSchema as BaseAutoSchema
from drf_spectacular.plumbing import ResolvedComponent
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse
from rest_framework.permissions import AllowAny

from declarations.api.negotiation import OCTET_STREAM
from declarations.api.operations import OPERATIONS
from declarations.api.serializers import ErrorOutput

DESCRIPTIONS = {
    400: "Invalid input: `fields` holds the messages per field.",
    401: "Not authenticated, or the token has expired.",
    403: "The caller may see the declaration but may not do this.",
    404: "No such object in the caller's scope (also for an id that is not a UUID).",
    405: "The method is not allowed on this path.",
    406: "The `Accept` header asks for a type this operation does not answer.",
    409: "Not possible in the declaration's current state, or lost to a concurrent change.",
    412: "The `If-Match` version is stale: read the object again.",
    413: "The body is too large: JSON over 1 MiB, or a file over its limit.",
    415: "The file is not one of the accepted types (by content), or the body is not JSON.",
    428: "`If-Match` is missing: read the object and send its `ETag` back.",
    429: "Too many requests: wait `retry_after` seconds.",
    500: "Something went wrong on our side; the error is logged.",
    503: "Briefly unavailable (the database is restarting): retry after `Retry-After` seconds.",
}


def errors(*codes: int) -> dict[int, OpenApiResponse]:
    return {code: OpenApiResponse(ErrorOutput, description=DESCRIPTIONS[code]) for code in codes}


IF_MATCH = OpenApiParameter(
    "If-Match",
    OpenApiTypes.STR,
    OpenApiParameter.HEADER,
    # a state change or an edit without it is refused (428; ``api/common.py::writing``)
    required=True,
    description="The `ETag` of the object as last read: a stale one gets 412, a missing one 428.",
)
#: on an append (a comment, an addendum), which changes nothing already written
IF_MATCH_OPTIONAL = OpenApiParameter(
    "If-Match",
    OpenApiTypes.STR,
    OpenApiParameter.HEADER,
    required=False,
    description="The `ETag` of the object as last read, optional here: a stale one gets 412.",
)

LANGUAGES = [code for code, _name in settings.LANGUAGES]

#: the languages of the API: what ``Content-Language`` answers
LANGUAGE_ENUM = ResolvedComponent(
    name="ContentLanguageEnum",
    type=ResolvedComponent.SCHEMA,
    object="ContentLanguageEnum",
    schema={"type": "string", "enum": LANGUAGES},
)

# A string, not an enum: the header is HTTP's (``ru-RU,ru;q=0.9,en;q=0.8`` is read as well), and
# the server never refuses it, it falls back to the default; an enum would promise a 400.
ACCEPT_LANGUAGE = OpenApiParameter(
    "Accept-Language",
    OpenApiTypes.STR,
    OpenApiParameter.HEADER,
    required=False,
    description="The language of messages and labels: `kk`, `ru` or `en` (an HTTP list with "
    "q-values is read too). Any other gets the default, `ru`, or the language a signed-in user "
    "chose; `Content-Language` says which was used. Codes and enum values do not change.",
)

#: the writes that check the object's version (``api/common.py::writing``): a declaration's
#: edits, steps, comments and addenda, and a measure's answers
VERSIONED_WRITE = re.compile(
    r"^/api/v1/(declarations|measures)/\{id\}/"
    r"(|submit/|start-review/|no-conflict/|withdraw/|reassign-reviewer/|decide/|comments/"
    r"|addenda/|consent/|implement/)$"
)

#: of those, the appends, which may leave ``If-Match`` out
APPEND = re.compile(r"/(comments|addenda)/$")

#: the answers that carry the object's version in ``ETag``
VERSIONED_OUTPUTS = ("DeclarationDetailOutput", "MeasureOutput")

JSON = "application/json"


#: the response headers, each a component (``#/components/headers/<name>``)
HEADERS: dict[str, dict[str, Any]] = {
    "Content-Language": {
        "schema": LANGUAGE_ENUM.ref,
        "description": "The language of the messages and labels in this answer.",
        "required": True,
    },
    "ETag": {
        "schema": {"type": "string"},
        "description": "The object's version; send it as `If-Match` to change the object.",
        "required": True,
    },
    "Content-Disposition": {
        "schema": {"type": "string"},
        "description": 'attachment; filename="…": the name to save the file under.',
        "required": True,
    },
    "WWW-Authenticate": {
        "schema": {"type": "string"},
        "description": "The scheme to authenticate with: `Bearer`.",
        "required": False,
    },
    "Retry-After": {
        "schema": {"type": "integer", "minimum": 0},
        "description": "Seconds to wait before trying again.",
        "required": False,  # a throttle that cannot say how long sends none
    },
}


class EnglishSchemaGenerator(SchemaGenerator):
    """The schema in English whatever the active language, so every caller, every command and
    the published file get the same bytes (labels and help texts are translatable strings)."""

    def get_schema(self, request: Any = None, public: bool = False) -> Any:
        with translation.override("en"):
            return super().get_schema(request=request, public=public)


class AutoSchema(BaseAutoSchema):
    # ---- names and prose

    def get_operation_id(self) -> str:
        """``<resource>[_<sub-resource>]_<verb>``: ``declarations_list``, ``declarations_submit``,
        ``declarations_events_list``, ``records_pdf``. A step named by its path takes no verb;
        a standard action takes list, retrieve, create, update or delete."""
        tokens = [t.replace("-", "_") for t in self._tokenize_path() if t != "v1"]
        action = getattr(self.view, "action", None)
        if self.method == "GET":
            if self._is_list_view():
                verb = "list"
            else:
                verb = "retrieve" if action in (None, "retrieve") else ""
        elif self.method == "POST":
            verb = "create" if (action or "").startswith("create") else ""
        elif self.method in ("PUT", "PATCH"):
            verb = "update"
        else:
            verb = "delete"
        return "_".join([*tokens, verb] if verb else tokens)

    def get_summary(self) -> str | None:
        entry = OPERATIONS.get(self.get_operation_id())
        if entry is None:
            warn(f"{self.get_operation_id()} has no summary: add it to api/operations.py")
            return None
        return entry[0]

    def get_description(self) -> str:  # type: ignore[override]
        # the views' docstrings are written for developers; the outside reader gets the table
        entry = OPERATIONS.get(self.get_operation_id())
        return entry[1] if entry is not None else ""

    # ---- parameters

    def get_override_parameters(self) -> list[Any]:
        params = super().get_override_parameters()
        if self._takes_if_match():
            params.append(IF_MATCH_OPTIONAL if APPEND.search(self.path) else IF_MATCH)
        params.append(ACCEPT_LANGUAGE)
        return params

    def _takes_if_match(self) -> bool:
        return self.method in ("POST", "PATCH", "DELETE") and bool(VERSIONED_WRITE.match(self.path))

    def _if_match_optional(self) -> bool:
        return bool(APPEND.search(self.path))

    def _resolve_path_parameters(self, variables: Any) -> list[Any]:
        """Every id in a path is a public id, a UUID (whatever pattern routes it)."""
        parameters: list[Any] = super()._resolve_path_parameters(variables)
        for parameter in parameters:
            if parameter["name"] == "id":
                parameter["schema"] = {"type": "string", "format": "uuid"}
                parameter["description"] = "The object's id (a UUID)."
        return parameters

    def _takes_query(self) -> bool:
        if self._get_filter_parameters() or self._get_paginator():
            return True
        return any(
            not isinstance(p, OpenApiParameter) or p.location == OpenApiParameter.QUERY
            for p in self.get_override_parameters()
        )

    # ---- responses

    def _error_codes(self) -> set[int]:
        codes = {405, 406, 500, 503}
        if not any(isinstance(p, AllowAny) for p in self.view.get_permissions()):
            codes.add(401)
        if "{" in self.path:
            codes.add(404)
        unsafe = self.method not in ("GET", "HEAD", "OPTIONS")
        if unsafe:
            codes.add(429)
        if unsafe and self.method != "DELETE":
            codes |= {400, 413, 415}  # a body that is not valid, too large, or not JSON
        if self._takes_query():
            codes.add(400)  # a filter, a cursor or a page size that is not valid
        if self._takes_if_match():
            codes |= {412} if self._if_match_optional() else {412, 428}
        return codes

    def _get_response_bodies(self, direction: Any = "response") -> dict[str, Any]:
        responses: dict[str, Any] = super()._get_response_bodies(direction)
        for status in sorted(self._error_codes()):
            responses.setdefault(str(status), None)
        for code, response in list(responses.items()):
            if code >= "400":
                # every error is the one envelope: a shared response, referred to by name
                responses[code] = self._error_response(int(code))
                continue
            headers = response.setdefault("headers", {})
            headers["Content-Language"] = self._header("Content-Language")
            content = response.get("content", {})
            if code.startswith("2"):
                files = [media for media in content if media != JSON]
                if files:
                    headers["Content-Disposition"] = self._header("Content-Disposition")
                    # Beside the file's own types, the one binary type every generator knows
                    # (openapi-python-client reads no other as a file): a client generated with
                    # no configuration gets the file, not an "unexpected status" on a 200.
                    content.setdefault(OCTET_STREAM, content[files[0]])
                ref = content.get(JSON, {}).get("schema", {}).get("$ref", "")
                if ref.rsplit("/", 1)[-1] in VERSIONED_OUTPUTS:
                    headers["ETag"] = self._header("ETag")
        return dict(sorted(responses.items()))

    def _header(self, name: str) -> dict[str, Any]:
        self.registry.register_on_missing(LANGUAGE_ENUM)
        component = ResolvedComponent(
            name=name, type=ResolvedComponent.HEADER, object=name, schema=HEADERS[name]
        )
        self.registry.register_on_missing(component)
        return component.ref

    def _error_response(self, code: int) -> dict[str, Any]:
        """``#/components/responses/NotFound`` and the like: the envelope, its headers."""
        headers = {"Content-Language": self._header("Content-Language")}
        if code in (429, 503):
            headers["Retry-After"] = self._header("Retry-After")
        if code == 401:
            headers["WWW-Authenticate"] = self._header("WWW-Authenticate")
        component = ResolvedComponent(
            name="".join(HTTPStatus(code).phrase.title().split()),
            type=ResolvedComponent.RESPONSE,
            object=ErrorOutput,
            schema={
                "description": DESCRIPTIONS[code],
                "headers": headers,
                "content": {JSON: {"schema": self.resolve_serializer(ErrorOutput, "response").ref}},
            },
        )
        self.registry.register_on_missing(component)
        return component.ref


def parameter_enums_by_reference(result: dict[str, Any], **kwargs: Any) -> dict[str, Any]:
    """A postprocessing hook: a parameter whose values are one of the named enums refers to it
    (``state=`` takes ``DeclarationStateEnum``), so generated clients have one class per closed
    set, named in English, instead of one per parameter."""
    schemas = result.get("components", {}).get("schemas", {})
    by_values = {
        frozenset(schema["enum"]): name
        for name, schema in schemas.items()
        if name.endswith("Enum") and "enum" in schema
    }
    for methods in result.get("paths", {}).values():
        for operation in methods.values():
            for parameter in operation.get("parameters", []):
                if parameter["in"] == "header":
                    continue
                schema = parameter.get("schema", {})
                holder = schema.get("items", schema) if schema.get("type") == "array" else schema
                name = by_values.get(frozenset(holder.get("enum") or ()))
                if name is None:
                    continue
                if holder is schema:
                    parameter["schema"] = {"$ref": f"#/components/schemas/{name}"}
                else:
                    schema["items"] = {"$ref": f"#/components/schemas/{name}"}
    return result


def nullable_as_json_schema(result: dict[str, Any], **kwargs: Any) -> dict[str, Any]:
    """A postprocessing hook: OAS 3.0's ``nullable: true`` left by a library (DRF's cursor
    pagination writes it into ``next`` and ``previous``) means nothing in 3.1, where ``null``
    would be refused; it becomes ``type: [..., "null"]``."""

    def walk(node: Any) -> None:
        if isinstance(node, dict):
            if node.pop("nullable", False) and isinstance(node.get("type"), str):
                node["type"] = [node["type"], "null"]
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)

    walk(result)
    return result
