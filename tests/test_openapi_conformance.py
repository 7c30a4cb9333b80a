"""Every response of the API, checked against the schema it serves (issue 18).

That the schema is valid OpenAPI and the same bytes in every language is
``tests/test_openapi_contract.py``'s. Here each response of the role × endpoint matrix
(``tests/test_api_matrix.py``'s requests, as each persona, writes naming the version they read
in ``If-Match``), the answers that carry null references, and one answer of every error kind
are checked two ways:

- schemathesis' conformance checks for the operation the URL names: no server error, the status
  code documented, the content type one documented for it, documented headers present and valid;
- the body with openapi-schema-validator, the validator of the schema's own OpenAPI version
  (3.0's ``nullable`` counts only beside a ``type``: what strict clients do), formats checked,
  and no property that the schema does not declare;

and the headers the contract names (``ETag``, ``Retry-After``, ``Content-Disposition``,
``Content-Language``, and a dossier's ``X-Record-Id`` and an export's ``Digest``) must be
declared on every response that sends them. schemathesis' own body check is not used: it reads
3.0's ``nullable`` leniently, as 3.1 would.
"""

from __future__ import annotations

import functools
import io
import json
import re
from collections import Counter
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import jsonschema.validators  # type: ignore[import-untyped]
import pytest
import requests
import schemathesis
from django.conf import settings
from django.db import OperationalError
from django.test import Client as DjangoClient
from django.test import override_settings
from django.utils import timezone
from jsonschema.exceptions import ValidationError  # type: ignore[import-untyped]
from openapi_schema_validator import OAS30ReadValidator, OAS31Validator
from referencing import Registry
from referencing.jsonschema import DRAFT4, DRAFT202012
from schemathesis import checks
from schemathesis.core.failures import FailureGroup

from declarations.choices import DeclarationState, MeasureKind
from declarations.models import Declaration
from declarations.records.exports import ExportFilters, export_create
from declarations.services.decisions import MeasureSpec, declaration_decide
from tests.api import BASE, client_for, declaration_url
from tests.builders import Org, build_org, declaration_in, new_draft
from tests.records import IMMEDIATE, issue_all
from tests.test_api_matrix import MATRIX, PDF, PERSONAS

S = DeclarationState
SCHEMA_URL = "/api/schema/?format=json"
URN = "urn:coi:openapi"
CONTRACT_HEADERS = (
    "etag",
    "retry-after",
    "content-disposition",
    "content-language",
    "x-record-id",
    "digest",
)
VERSIONED = re.compile(r"^/api/v1/(declarations|measures)/[0-9a-f-]{36}/")
CHECKS = [
    checks.not_a_server_error,
    checks.status_code_conformance,
    checks.content_type_conformance,
    checks.response_headers_conformance,
]


def served_schema(**headers: str) -> bytes:
    response = DjangoClient().get(SCHEMA_URL, **headers)
    assert response.status_code == 200, response.status_code
    return response.content


def closed(base: Any) -> Any:
    """``base`` with every object schema closed: a property it does not declare is an error
    (unless the schema speaks of other properties itself)."""
    declared_only = base.VALIDATORS["properties"]

    def properties(validator: Any, declared: Any, instance: Any, schema: Any) -> Iterator[Any]:
        yield from declared_only(validator, declared, instance, schema)
        if validator.is_type(instance, "object") and not {
            "additionalProperties",
            "patternProperties",
            "unevaluatedProperties",
        } & set(schema):
            for name in instance:
                if name not in declared:
                    yield ValidationError(f"{name!r} is sent but not declared")

    return jsonschema.validators.extend(base, {"properties": properties})


def path_parameters(template: str, path: str) -> dict[str, str]:
    """``{"id": "…"}`` of ``/api/v1/declarations/{id}/`` for a concrete path."""
    pattern = re.sub(r"\\{(\w+)\\}", r"(?P<\1>[^/]+)", re.escape(template))
    match = re.fullmatch(pattern, path)
    assert match, (template, path)
    return match.groupdict()


def pointer(*parts: str) -> str:
    return "".join("/" + p.replace("~", "~0").replace("/", "~1") for p in parts)


class Contract:
    """The served schema, and what every response must be to keep it."""

    def __init__(self, document: dict[str, Any]) -> None:
        self.document = document
        self.schema = schemathesis.openapi.from_dict(document)
        three_one = document["openapi"].startswith("3.1")
        self.validator = closed(OAS31Validator if three_one else OAS30ReadValidator)
        resource = (DRAFT202012 if three_one else DRAFT4).create_resource(document)
        self.registry = Registry().with_resource(URN, resource)

    def problems(self, method: str, path: str, response: Any, *, crash: bool = False) -> list[str]:
        """What in ``response`` (a Django test response to ``method path``) breaks the
        contract; empty if nothing."""
        content = b"".join(response.streaming_content) if response.streaming else response.content
        where = f"{method.upper()} {path} -> {response.status_code}"
        operation = self.schema.find_operation_by_path(method.upper(), path)
        if operation is None:
            return self._undocumented(where, response, content)
        found: list[str] = []
        answer = schemathesis.Response(
            status_code=response.status_code,
            headers={name.lower(): [v] for name, v in response.items()},
            content=content,
            request=requests.Request(method.upper(), f"http://testserver{path}").prepare(),
            elapsed=0.0,
            verify=False,
        )
        try:
            operation.Case(path_parameters=path_parameters(operation.path, path)).validate_response(
                answer, checks=[c for c in CHECKS if not (crash and c is checks.not_a_server_error)]
            )
        except FailureGroup as failures:
            found += [f"{where}: {f.title}: {f.message}" for f in failures.exceptions]
        located = self._response(operation.path, method.lower(), response.status_code)
        if located is not None:
            found += self._body(where, located, response, content)
            found += self._headers(where, located[1], response)
        return found

    def _response(self, template: str, method: str, status: int) -> tuple[str, Any] | None:
        """The documented response for ``status``: its JSON pointer and its definition."""
        responses = self.document["paths"][template][method]["responses"]
        for key in (str(status), f"{status // 100}XX", "default"):
            if key in responses:
                where = pointer("paths", template, method, "responses", key)
                definition = responses[key]
                if "$ref" in definition:
                    where = definition["$ref"].removeprefix("#")
                    name = where.rsplit("/", 1)[-1]
                    definition = self.document["components"]["responses"][name]
                return where, definition
        return None

    def _body(
        self, where: str, located: tuple[str, Any], response: Any, content: bytes
    ) -> list[str]:
        at, definition = located
        media = response.get("Content-Type", "").split(";")[0].strip()
        if not (media == "application/json" or media.endswith("+json")):
            return []
        if media not in definition.get("content", {}):
            return []  # the content-type check says so
        return self._validate(where, at + pointer("content", media, "schema"), json.loads(content))

    def _validate(self, where: str, at: str, instance: Any) -> list[str]:
        validator = self.validator(
            {"$ref": f"{URN}#{at}"},
            registry=self.registry,
            format_checker=self.validator.FORMAT_CHECKER,
        )
        return [
            f"{where}: body at {error.json_path}: {error.message}"
            for error in validator.iter_errors(instance)
        ]

    @staticmethod
    def _headers(where: str, definition: Any, response: Any) -> list[str]:
        declared = {name.lower() for name in definition.get("headers", {})}
        return [
            f"{where}: sends {name} but the schema does not declare it"
            for name in CONTRACT_HEADERS
            if response.has_header(name) and name not in declared
        ]

    @functools.cached_property
    def error_schema(self) -> str:
        """Where the one error shape is: the schema most 4xx answers of the document give."""
        seen: Counter[str] = Counter()
        where: dict[str, str] = {}
        for template, item in self.document["paths"].items():
            for method, operation in item.items():
                if not isinstance(operation, dict) or "responses" not in operation:
                    continue
                for code in operation["responses"]:
                    if not (code.startswith("4") and code.isdigit()):
                        continue
                    located = self._response(template, method, int(code))
                    schema = located and located[1].get("content", {}).get("application/json")
                    if located and schema:
                        key = json.dumps(schema.get("schema"), sort_keys=True)
                        seen[key] += 1
                        where[key] = located[0] + pointer("content", "application/json", "schema")
        return where[seen.most_common(1)[0][0]]

    def _undocumented(self, where: str, response: Any, content: bytes) -> list[str]:
        """A method or path the schema has no operation for (a 405, an unknown URL): still the
        error envelope, in JSON."""
        if response.status_code < 400:
            return [f"{where}: answers, but the schema has no such operation"]
        if response.get("Content-Type", "").split(";")[0] != "application/json":
            return [f"{where}: not JSON but {response.get('Content-Type')!r}"]
        return self._validate(where, self.error_schema, json.loads(content))


@pytest.fixture(scope="module")
def contract() -> Contract:
    return Contract(json.loads(served_schema()))


class Check:
    """Sends requests and gathers what their answers break, to be told all at once."""

    def __init__(self, contract: Contract) -> None:
        self.contract = contract
        self.problems: list[str] = []

    def __call__(
        self, client: Any, method: str, url: str, *, crash: bool = False, **kw: Any
    ) -> Any:
        """``crash``: the 5xx is made on purpose; everything else about it is checked."""
        response = getattr(client, method)(url, **kw)
        for problem in self.contract.problems(method, url.split("?")[0], response, crash=crash):
            if problem not in self.problems:
                self.problems.append(problem)
        return response

    def status(self, response: Any, wanted: int, who: str = "") -> None:
        if response.status_code != wanted:
            self.problems.append(f"{who}: answered {response.status_code}, not {wanted}")

    def assert_kept(self) -> None:
        assert not self.problems, "\n".join(self.problems)


@pytest.fixture
def check(contract: Contract) -> Check:
    return Check(contract)


# ---- the role × endpoint matrix ---------------------------------------------------------------


def _if_match(check: Check, client: Any, method: str, url: str) -> dict[str, str]:
    """A write names the version the persona can read, as a client would (nothing when they
    cannot read it: the refusal is what is checked then)."""
    versioned = VERSIONED.match(url)
    if method == "get" or versioned is None or "/attachments/" in url:
        return {}
    read = check(client, "get", versioned.group(0))
    return {"HTTP_IF_MATCH": read["ETag"]} if read.status_code == 200 else {}


@pytest.mark.parametrize("endpoint", list(MATRIX))
def test_every_matrix_answer_keeps_the_contract(check: Check, db: None, endpoint: str) -> None:
    setup, codes = MATRIX[endpoint]
    for persona, expected in zip(PERSONAS, map(int, codes.split()), strict=True):
        org = build_org()  # as the matrix does: a vacancy is proposed once
        method, url, payload = setup(org)
        client = client_for(None if persona == "anonymous" else org.users[persona])
        headers = _if_match(check, client, method, url)
        if method == "get":
            response = check(client, method, url, data=payload, **headers)
        else:
            response = check(client, method, url, data=payload, format="json", **headers)
        check.status(response, expected, persona)
    check.assert_kept()


def test_every_upload_answer_keeps_the_contract(check: Check, org: Org) -> None:
    for persona in PERSONAS:
        client = client_for(None if persona == "anonymous" else org.users[persona])
        upload = io.BytesIO(PDF)
        upload.name = "evidence.pdf"
        url = declaration_url(new_draft(org), "attachments")
        check(client, "post", url, data={"file": upload}, format="multipart")
    check.assert_kept()


# ---- null references --------------------------------------------------------------------------


def test_answers_with_null_references_keep_the_contract(check: Check, org: Org) -> None:
    """``null`` where a reference is empty: the auditor and the administrator have no servant
    (``/me/``), a draft has no registration number or reviewer, no declaration here has a
    source, a transfer has no substitute and a reassignment no position, an export touches no
    declaration (the access log), and a PDF of someone else's is no record of ours."""
    for who in ("auditor", "admin"):
        me = check(client_for(org.users[who]), "get", f"{BASE}/me/").json()
        assert me["servant"] is None and me["direct_manager"] is None
    servant = client_for(org.servant)
    draft = check(servant, "get", declaration_url(new_draft(org))).json()
    assert draft["registration_number"] is None and draft["source"] is None
    check(servant, "get", f"{BASE}/declarations/")
    awaiting = declaration_in(org, S.AWAITING_CONSENT)
    (measure,) = check(servant, "get", declaration_url(awaiting, "measures")).json()
    assert measure["substitute"] is None
    resolved = _reassigned(org)
    (measure,) = check(servant, "get", declaration_url(resolved, "measures")).json()
    assert measure["position"] is None
    for part in ("events", "deadlines", "records"):
        check(servant, "get", declaration_url(resolved, part))
    check(client_for(org.hr), "get", f"{BASE}/measures/")
    export_create(actor=org.auditor, filters=ExportFilters(bodies=[]), language="en")
    for who in ("auditor", "head"):
        check(client_for(org.users[who]), "get", f"{BASE}/access/")
    check(client_for(org.auditor), "get", f"{BASE}/exports/")
    foreign = io.BytesIO(PDF)
    foreign.name = "foreign.pdf"
    verdict = check(client_for(None), "post", f"{BASE}/verify/", data={"file": foreign}).json()
    assert verdict["valid"] is False and verdict["record"] is None
    check.assert_kept()


def _reassigned(org: Org) -> Declaration:
    declaration = declaration_in(org, S.IN_REVIEW)
    declaration_decide(
        declaration=declaration,
        actor=org.manager,
        reason="Hand it over",
        measures=[MeasureSpec(kind=MeasureKind.REASSIGN, substitute=org.servants["servant2"])],
    )
    issue_all(declaration)
    return declaration


# ---- every error kind -------------------------------------------------------------------------


def _notice() -> dict[str, Any]:
    return {
        "conflict_type": "actual",
        "category": "kinship",
        "matter": "Tender 42",
        "personal_interest": "My brother bids.",
        "aware_since": str(timezone.localdate() - timedelta(days=1)),
    }


def _fresh(client: Any, declaration: Declaration) -> dict[str, str]:
    return {"HTTP_IF_MATCH": client.get(declaration_url(declaration))["ETag"]}


def _error_400(org: Org) -> tuple[Any, str, str, dict[str, Any]]:
    return client_for(org.servant), "post", f"{BASE}/declarations/", {"data": {}, "format": "json"}


def _error_401(org: Org) -> tuple[Any, str, str, dict[str, Any]]:
    return client_for(None), "get", f"{BASE}/declarations/", {}


def _error_401_bad_token(org: Org) -> tuple[Any, str, str, dict[str, Any]]:
    client = client_for(None, HTTP_AUTHORIZATION="Bearer not-a-token")
    return client, "get", f"{BASE}/me/", {}


def _error_403(org: Org) -> tuple[Any, str, str, dict[str, Any]]:
    client = client_for(org.servant)
    declaration = declaration_in(org, S.SUBMITTED)
    return client, "post", declaration_url(declaration, "start-review"), _fresh(client, declaration)


def _error_404(org: Org) -> tuple[Any, str, str, dict[str, Any]]:
    return (
        client_for(org.servant),
        "get",
        f"{BASE}/declarations/{'0' * 8}-0000-4000-8000-{'0' * 12}/",
        {},
    )


def _error_404_malformed_id(org: Org) -> tuple[Any, str, str, dict[str, Any]]:
    return client_for(org.servant), "get", f"{BASE}/declarations/not-an-id/", {}


def _error_404_malformed_id_on_a_download(org: Org) -> tuple[Any, str, str, dict[str, Any]]:
    return client_for(org.servant), "get", f"{BASE}/records/12/pdf/", {}


def _error_404_no_such_path(org: Org) -> tuple[Any, str, str, dict[str, Any]]:
    return client_for(org.servant), "get", f"{BASE}/no-such-thing/", {}


def _error_405(org: Org) -> tuple[Any, str, str, dict[str, Any]]:
    return (
        client_for(org.servant),
        "put",
        declaration_url(new_draft(org)),
        {"data": {}, "format": "json"},
    )


def _error_406(org: Org) -> tuple[Any, str, str, dict[str, Any]]:
    return client_for(org.servant), "get", f"{BASE}/me/", {"HTTP_ACCEPT": "application/xml"}


def _error_409(org: Org) -> tuple[Any, str, str, dict[str, Any]]:
    client = client_for(org.servant)
    declaration = declaration_in(org, S.SUBMITTED)
    return client, "post", declaration_url(declaration, "submit"), _fresh(client, declaration)


def _error_412(org: Org) -> tuple[Any, str, str, dict[str, Any]]:
    url = declaration_url(new_draft(org), "submit")
    return client_for(org.servant), "post", url, {"HTTP_IF_MATCH": '"stale"'}


def _error_413(org: Org) -> tuple[Any, str, str, dict[str, Any]]:
    body = {**_notice(), "matter": "x" * (settings.DATA_UPLOAD_MAX_MEMORY_SIZE + 1)}
    return (
        client_for(org.servant),
        "post",
        f"{BASE}/declarations/",
        {"data": body, "format": "json"},
    )


def _error_415(org: Org) -> tuple[Any, str, str, dict[str, Any]]:
    kw = {"data": "matter=Tender", "content_type": "text/plain"}
    return client_for(org.servant), "post", f"{BASE}/declarations/", kw


def _error_428(org: Org) -> tuple[Any, str, str, dict[str, Any]]:
    return client_for(org.servant), "post", declaration_url(new_draft(org), "submit"), {}


ERRORS = {
    "400": (_error_400, 400),
    "401": (_error_401, 401),
    "401 bad token": (_error_401_bad_token, 401),
    "403": (_error_403, 403),
    "404": (_error_404, 404),
    "404 malformed id": (_error_404_malformed_id, 404),
    "404 malformed id on a download": (_error_404_malformed_id_on_a_download, 404),
    "404 no such path": (_error_404_no_such_path, 404),
    "405": (_error_405, 405),
    "406": (_error_406, 406),
    "409": (_error_409, 409),
    "412": (_error_412, 412),
    "413": (_error_413, 413),
    "415": (_error_415, 415),
    "428": (_error_428, 428),
}


@pytest.mark.parametrize("kind", list(ERRORS))
def test_every_error_kind_keeps_the_contract(check: Check, org: Org, kind: str) -> None:
    make, status = ERRORS[kind]
    client, method, url, kw = make(org)
    response = check(client, method, url, **kw)
    check.status(response, status, kind)
    check.assert_kept()


def _crash(*args: Any, **kwargs: Any) -> Any:
    raise RuntimeError("a bug")


def _database_away(*args: Any, **kwargs: Any) -> Any:
    raise OperationalError("server closed the connection unexpectedly")


@pytest.mark.parametrize(("status", "cause"), [(500, _crash), (503, _database_away)])
def test_a_crash_and_the_database_away_keep_the_contract(
    check: Check, org: Org, monkeypatch: pytest.MonkeyPatch, status: int, cause: Any
) -> None:
    """The two errors no request can provoke: made here in the view, answered as documented
    (the envelope; ``Retry-After`` on the 503)."""
    monkeypatch.setattr("declarations.api.people.MeView.get", cause)
    client = client_for(org.servant)
    client.raise_request_exception = False
    response = check(client, "get", f"{BASE}/me/", crash=True)
    check.status(response, status, str(status))
    check.assert_kept()


@override_settings(COI_ATTACHMENT_MAX_BYTES=1024)
def test_refused_uploads_keep_the_contract(check: Check, org: Org) -> None:
    """A file too large (413), one that is not what its name says (415), one after filing (409),
    and a PDF to verify past its limit (413)."""
    url = declaration_url(new_draft(org), "attachments")
    for content, name, status in (
        (b"%PDF-" + b"x" * 2000, "big.pdf", 413),
        (b"<html><script>alert(1)</script></html>", "invoice.pdf", 415),
    ):
        upload = io.BytesIO(content)
        upload.name = name
        response = check(client_for(org.servant), "post", url, data={"file": upload})
        check.status(response, status, name)
    upload = io.BytesIO(PDF)
    upload.name = "late.pdf"
    filed = declaration_url(declaration_in(org, S.SUBMITTED), "attachments")
    check.status(check(client_for(org.servant), "post", filed, data={"file": upload}), 409, "late")
    with override_settings(COI_VERIFY_MAX_BYTES=8):
        upload = io.BytesIO(PDF)
        upload.name = "record.pdf"
        response = check(client_for(None), "post", f"{BASE}/verify/", data={"file": upload})
        check.status(response, 413, "verify")
    check.assert_kept()


@override_settings(
    REST_FRAMEWORK={
        **settings.REST_FRAMEWORK,
        "DEFAULT_THROTTLE_RATES": {"login-address": "600/min", "write": "1/min"},
    }
)
def test_a_throttled_answer_keeps_the_contract(check: Check, org: Org) -> None:
    client = client_for(org.servant)
    url = f"{BASE}/declarations/"
    check(client, "post", url, data=_notice(), format="json")
    response = check(client, "post", url, data=_notice(), format="json")
    check.status(response, 429, "the second write")
    check.assert_kept()


def test_downloads_keep_the_contract(
    check: Check, org: Org, django_capture_on_commit_callbacks: Any
) -> None:
    """The binary answers: a record's PDF, a dossier, an export's ZIP, and what leads to them."""
    declaration = declaration_in(org, S.RESOLVED)
    issue_all(declaration)
    auditor = client_for(org.auditor)
    records = check(auditor, "get", declaration_url(declaration, "records")).json()
    for record in records:
        check(auditor, "get", f"{BASE}/records/{record['id']}/")
        check(auditor, "get", f"{BASE}/records/{record['id']}/pdf/")
    check(auditor, "get", declaration_url(declaration, "dossier"))
    check(auditor, "post", declaration_url(declaration, "dossier"))
    with IMMEDIATE, django_capture_on_commit_callbacks(execute=True):
        job = export_create(actor=org.auditor, filters=ExportFilters(bodies=[]), language="en")
    check(auditor, "get", f"{BASE}/exports/{job.code}/")
    check.status(check(auditor, "get", f"{BASE}/exports/{job.code}/download/"), 200, "download")
    check.assert_kept()
