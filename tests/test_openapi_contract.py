"""The OpenAPI schema as a contract (issue 18): one document whoever asks, valid OpenAPI 3.1,
the downloads typed, readable names and prose for an outside reader, every closed set an enum,
and the published ``docs/openapi.yaml`` the one the code makes."""

from __future__ import annotations

import io
import os
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml
from django.core.management import CommandError, call_command
from jsonschema import Draft202012Validator  # type: ignore[import-untyped]
from openapi_spec_validator import validate
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT202012

from declarations.api import contract
from declarations.choices import (
    AuditAction,
    DeclarationAction,
    DeclarationState,
    RecordKind,
    Role,
    VerificationProblem,
)
from tests.api import BASE, client_for, ok
from tests.builders import Org, declaration_in, new_draft, pending_measure
from tests.records import issue_all

ROOT = Path(__file__).resolve().parent.parent

SCHEMA_URL = "/api/schema/"
METHODS = ("get", "post", "put", "patch", "delete")


@pytest.fixture(scope="module")
def doc() -> dict[str, Any]:
    loaded: dict[str, Any] = yaml.safe_load(contract.contract_yaml())
    return loaded


def operations(doc: dict[str, Any]) -> list[tuple[str, str, dict[str, Any]]]:
    return [
        (method, path, operation)
        for path, item in doc["paths"].items()
        for method, operation in item.items()
        if method in METHODS
    ]


def by_id(doc: dict[str, Any], operation_id: str) -> dict[str, Any]:
    (found,) = [op for _m, _p, op in operations(doc) if op["operationId"] == operation_id]
    return found


def ref_name(schema: dict[str, Any]) -> str:
    return str(schema.get("$ref", "")).rsplit("/", 1)[-1]


# ---- one document, whoever asks -----------------------------------------------------------------


def test_the_schema_is_the_same_bytes_in_kazakh_russian_and_english(org: Org) -> None:
    answers = {
        language: client_for(None, HTTP_ACCEPT_LANGUAGE=language).get(SCHEMA_URL)
        for language in ("kk", "ru", "en")
    }
    answers["signed-in"] = client_for(org.servant, HTTP_ACCEPT_LANGUAGE="kk").get(SCHEMA_URL)
    bodies = {name: response.content for name, response in answers.items()}
    assert all(response.status_code == 200 for response in answers.values())
    assert len(set(bodies.values())) == 1, "the schema changes with the caller's language"
    assert {response["Content-Language"] for response in answers.values()} == {"en"}
    # English: not a letter of Kazakh or Russian anywhere, labels and help texts included
    assert not re.search("[\u0400-\u04ff]", bodies["kk"].decode())
    as_json = client_for(None, HTTP_ACCEPT_LANGUAGE="kk").get(SCHEMA_URL, {"format": "json"})
    assert as_json.json()["info"]["title"] == "Conflict-of-interest declarations API"


def test_the_served_schema_is_the_published_file(db: None) -> None:
    served = client_for(None, HTTP_ACCEPT_LANGUAGE="ru").get(SCHEMA_URL).content.decode()
    assert served == contract.CONTRACT.read_text(encoding="utf-8")


def test_the_published_file_is_the_one_the_code_makes() -> None:
    assert contract.CONTRACT.read_text(encoding="utf-8") == contract.contract_yaml(), (
        f"docs/openapi.yaml is stale: {contract.REGENERATE}"
    )


def test_the_check_command_passes_and_fails_with_the_diff_and_the_remedy(
    tmp_path: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    out = io.StringIO()
    call_command("openapi_contract", "--check", stdout=out)
    assert "is the contract the code makes" in out.getvalue()
    stale = tmp_path / "openapi.yaml"
    stale.write_text(contract.contract_yaml().replace("version: 1.1.0", "version: 1.0.9"))
    monkeypatch.setattr(contract, "CONTRACT", stale)
    monkeypatch.setattr("declarations.management.commands.openapi_contract.CONTRACT", stale)
    out = io.StringIO()
    with pytest.raises(CommandError, match="openapi_contract --write"):
        call_command("openapi_contract", "--check", stdout=out)
    assert "-  version: 1.0.9" in out.getvalue() and "+  version: 1.1.0" in out.getvalue()
    call_command("openapi_contract", "--write", stdout=io.StringIO())
    assert stale.read_text() == contract.contract_yaml()


def test_a_deployments_own_limits_do_not_change_the_published_contract(tmp_path: Any) -> None:
    """The contract states the default limits: a deployment that sets its own still serves the
    published file (limits are read when the schema's modules are imported, so a process of
    its own, with the environment a deployment would give it)."""
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "tests.settings",
        "COI_ATTACHMENT_MAX_BYTES": str(3 * 1024 * 1024 // 2),
        "COI_VERIFY_MAX_BYTES": str(7 * 1024 * 1024),
        "COI_ADDENDA_MAX": "5",
    }
    done = subprocess.run(
        [sys.executable, "manage.py", "openapi_contract", "--check"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-2000:]


# ---- valid OpenAPI 3.1, nullable references nullable --------------------------------------------


def test_the_schema_is_valid_openapi_3_1(doc: dict[str, Any]) -> None:
    assert doc["openapi"] == "3.1.0"
    assert doc["info"]["version"] == "1.1.0"
    validate(doc)  # openapi-spec-validator, the 3.1 rules


def _validator(doc: dict[str, Any], component: str) -> Draft202012Validator:
    registry = Registry().with_resource(
        "urn:contract", Resource.from_contents(doc, default_specification=DRAFT202012)
    )
    return Draft202012Validator(
        {"$ref": f"urn:contract#/components/schemas/{component}"}, registry=registry
    )


NULLABLE = [
    ("DeclarationOutput", "reviewer"),
    ("DeclarationDetailOutput", "source"),
    ("SourceOutput", "opened_by"),
    ("EventOutput", "actor"),
    ("MeasureOutput", "substitute"),
    ("MeasureOutput", "position"),
    ("MeOutput", "servant"),
    ("MeOutput", "direct_manager"),
    ("MeServantOutput", "position"),
    ("VerdictOutput", "record"),
    ("NotificationOutput", "deadline"),
    ("AccessEventOutput", "user"),
    ("AccessEventOutput", "declaration"),
    ("DeadlineOutput", "due_to_act"),
    ("DeadlineOutput", "ended_by"),
    ("PaginatedDeclarationOutputList", "next"),
]


@pytest.mark.parametrize(("component", "field"), NULLABLE)
def test_a_nullable_reference_accepts_null(doc: dict[str, Any], component: str, field: str) -> None:
    validator = _validator(doc, component)

    def refusals(value: Any) -> list[Any]:
        # only this property is judged: the others are left out
        return [e for e in validator.iter_errors({field: value}) if list(e.path) == [field]]

    assert refusals(None) == []
    assert refusals(12) != []  # and a wrong type is still refused


# ---- downloads ----------------------------------------------------------------------------------


#: each download's own types, and the one binary type every generator knows
BINARY = {
    "records_pdf": {"application/pdf", "application/octet-stream"},
    "declarations_dossier": {"application/pdf", "application/octet-stream"},
    "declarations_dossier_issue": {"application/pdf", "application/octet-stream"},
    "exports_download": {"application/zip", "application/octet-stream"},
    "attachments_download": {
        "application/pdf",
        "image/png",
        "image/jpeg",
        "application/octet-stream",
    },
}


@pytest.mark.parametrize("operation_id", sorted(BINARY))
def test_a_download_is_a_typed_binary_with_its_file_name(
    doc: dict[str, Any], operation_id: str
) -> None:
    ok_response = by_id(doc, operation_id)["responses"]["200"]
    assert set(ok_response["content"]) == BINARY[operation_id]
    for media in ok_response["content"].values():
        assert media["schema"] == {"type": "string", "format": "binary"}
    assert resolved(doc, ok_response["headers"]["Content-Disposition"])["required"] is True


def test_a_download_sends_the_headers_the_schema_declares(org: Org) -> None:
    declaration = declaration_in(org, DeclarationState.SUBMITTED)
    (record,) = issue_all(declaration)
    response = client_for(org.servant).get(f"{BASE}/records/{record.code}/pdf/")
    assert response.status_code == 200
    assert response["Content-Disposition"].startswith("attachment; filename=")
    assert response["Content-Language"] == "en"


# ---- names and prose ----------------------------------------------------------------------------


READABLE = re.compile(r"^[a-z]+(_[a-z]+)*$")


def test_operation_ids_are_readable_and_unique(doc: dict[str, Any]) -> None:
    ids = [op["operationId"] for _m, _p, op in operations(doc)]
    assert len(ids) == len(set(ids))
    assert [i for i in ids if not READABLE.match(i)] == []
    assert [i for i in ids if i.startswith("v1") or i.endswith("_create_create")] == []
    named = {(m, p): op["operationId"] for m, p, op in operations(doc)}
    assert named[("get", "/api/v1/declarations/")] == "declarations_list"
    assert named[("post", "/api/v1/declarations/{id}/submit/")] == "declarations_submit"
    assert named[("post", "/api/v1/declarations/{id}/start-review/")] == (
        "declarations_start_review"
    )
    assert named[("post", "/api/v1/measures/{id}/consent/")] == "measures_consent"
    assert named[("get", "/api/v1/records/{id}/pdf/")] == "records_pdf"
    assert named[("get", "/api/v1/declarations/{id}/events/")] == "declarations_events_list"


#: what an outside reader cannot follow: our own documents, issues and settings
INTERNAL = re.compile(
    r"DESIGN\.md|ARCHITECTURE\.md|decisions\.md|STYLE\.md|\bissue \d+|\bCOI_[A-Z_]+|"
    r"\bDJANGO_[A-Z_]+|rule \d+"
)


def _descriptions(node: Any) -> list[str]:
    if isinstance(node, dict):
        found = [node["description"]] if isinstance(node.get("description"), str) else []
        return found + [d for value in node.values() for d in _descriptions(value)]
    if isinstance(node, list):
        return [d for value in node for d in _descriptions(value)]
    return []


def test_every_operation_has_a_summary_and_a_description(doc: dict[str, Any]) -> None:
    missing = [
        f"{method} {path}"
        for method, path, op in operations(doc)
        if not op.get("summary") or len(op.get("description", "")) < 20
    ]
    assert missing == []


def test_no_description_points_to_our_own_documents_or_settings(doc: dict[str, Any]) -> None:
    internal = [d for d in _descriptions(doc) if INTERNAL.search(d)]
    assert internal == []
    upload = by_id(doc, "declarations_attachments_create")["description"]
    assert "at most 10 MiB" in upload


# ---- parameters ---------------------------------------------------------------------------------


def test_every_path_id_is_a_uuid(doc: dict[str, Any]) -> None:
    ids = [
        (method, path, p["schema"])
        for method, path, op in operations(doc)
        for p in op.get("parameters", [])
        if p["in"] == "path"
    ]
    assert len(ids) > 25
    assert [i for i in ids if i[2] != {"type": "string", "format": "uuid"}] == []


def test_every_operation_takes_accept_language(doc: dict[str, Any]) -> None:
    for method, path, op in operations(doc):
        (language,) = [p for p in op["parameters"] if p["name"] == "Accept-Language"]
        assert language["in"] == "header" and not language.get("required"), (method, path)
        # HTTP's header, never refused (an enum would promise a 400 for ru-RU or de)
        assert language["schema"] == {"type": "string"}
        assert all(f"`{code}`" in language["description"] for code in ("kk", "ru", "en"))
    # what the server answers in is one of the three
    header = doc["components"]["headers"]["Content-Language"]
    assert header["schema"] == {"$ref": "#/components/schemas/ContentLanguageEnum"}
    assert doc["components"]["schemas"]["ContentLanguageEnum"]["enum"] == ["kk", "ru", "en"]


def test_the_declaration_filters_are_typed(doc: dict[str, Any]) -> None:
    params = {p["name"]: p["schema"] for p in by_id(doc, "declarations_list")["parameters"]}
    assert params["submitted_from"] == {"type": "string", "format": "date"}
    assert params["submitted_to"] == {"type": "string", "format": "date"}
    assert params["overdue"] == {"type": "boolean"}
    assert params["unit"] == {"type": "string", "format": "uuid"}
    assert params["state"]["items"] == {"$ref": "#/components/schemas/DeclarationStateEnum"}
    # every yes/no filter reads alike
    vacant = {p["name"]: p["schema"] for p in by_id(doc, "positions_list")["parameters"]}
    unread = {p["name"]: p["schema"] for p in by_id(doc, "notifications_list")["parameters"]}
    assert vacant["vacant"] == unread["unread"] == params["overdue"]


def test_the_typed_filters_still_work(org: Org) -> None:
    client = client_for(org.manager)
    assert ok(client.get(f"{BASE}/declarations/", {"overdue": "false"}))["results"] == []
    assert client.get(f"{BASE}/declarations/", {"overdue": "maybe"}).status_code == 400
    dated = {"submitted_from": "2025-01-01", "submitted_to": "2025-12-31"}
    assert ok(client.get(f"{BASE}/declarations/", dated))["results"] == []
    assert client.get(f"{BASE}/declarations/", {"submitted_from": "x"}).status_code == 400


VERSIONED = {
    "declarations_update",
    "declarations_delete",
    "declarations_submit",
    "declarations_start_review",
    "declarations_decide",
    "declarations_no_conflict",
    "declarations_withdraw",
    "declarations_reassign_reviewer",
    "declarations_add_comment",
    "declarations_add_addendum",
    "measures_consent",
    "measures_implement",
}


#: the appends: a comment or an addendum changes nothing already written
APPENDS = {"declarations_add_comment", "declarations_add_addendum"}


def test_if_match_is_declared_where_it_is_checked(doc: dict[str, Any]) -> None:
    taking = {
        op["operationId"]: [p for p in op["parameters"] if p["name"] == "If-Match"]
        for _m, _p, op in operations(doc)
    }
    assert {name for name, found in taking.items() if found} == VERSIONED
    for name in VERSIONED:
        (if_match,) = taking[name]
        required = name not in APPENDS
        assert if_match.get("required", False) is required, name
        responses = by_id(doc, name)["responses"]
        assert "412" in responses
        assert ("428" in responses) is required, name


# ---- responses ----------------------------------------------------------------------------------


def resolved(doc: dict[str, Any], node: dict[str, Any]) -> dict[str, Any]:
    """A response or header, through its ``$ref`` to a component."""
    while "$ref" in node:
        _hash, _components, kind, name = node["$ref"].split("/")
        node = doc["components"][kind][name]
    return node


def test_every_response_declares_its_headers_and_every_error_the_envelope(
    doc: dict[str, Any],
) -> None:
    for method, path, op in operations(doc):
        responses = {code: resolved(doc, r) for code, r in op["responses"].items()}
        assert {"405", "406", "500", "503"} <= set(responses), (method, path)
        if "requestBody" in op:
            assert "413" in responses, (method, path)
        if "{id}" in path:
            assert "404" in responses, (method, path)
        for code, response in responses.items():
            headers = {name: resolved(doc, h) for name, h in response["headers"].items()}
            assert headers["Content-Language"]["required"] is True, (method, path, code)
            if code >= "400":
                (media,) = response["content"].values()
                assert ref_name(media["schema"]) == "ErrorOutput", (method, path, code)
            if code in ("429", "503"):
                assert "Retry-After" in headers, (method, path, code)


def test_etag_is_declared_on_every_answer_with_a_version(doc: dict[str, Any]) -> None:
    with_etag = {
        op["operationId"]
        for _m, _p, op in operations(doc)
        for code, response in op["responses"].items()
        if code.startswith("2") and "ETag" in response.get("headers", {})
    }
    assert with_etag == VERSIONED - {"declarations_delete"} | {
        "declarations_create",
        "declarations_retrieve",
        "measures_retrieve",
    }


def test_an_answer_with_a_version_sends_its_etag(org: Org) -> None:
    declaration = declaration_in(org, DeclarationState.AWAITING_CONSENT)
    measure = pending_measure(declaration)
    client = client_for(org.servant)
    assert client.get(f"{BASE}/declarations/{declaration.code}/")["ETag"]
    assert client.get(f"{BASE}/measures/{measure.code}/")["ETag"]


# ---- closed sets --------------------------------------------------------------------------------


def _enum_of(doc: dict[str, Any], schema: dict[str, Any]) -> str:
    """The enum component a property takes (directly, through allOf/oneOf, or as items)."""
    schema = schema.get("items", schema)
    for option in [schema, *schema.get("allOf", []), *schema.get("oneOf", [])]:
        name = ref_name(option)
        if name.endswith("Enum") and name != "BlankEnum":
            return name
    return ""


CLOSED = {
    ("RecordOutput", "kind"): "RecordKindEnum",
    ("RecordOutput", "status"): "RecordStatusEnum",
    ("RecordOutput", "language"): "RecordLanguageEnum",
    ("ExportOutput", "status"): "ExportStatusEnum",
    ("ExportOutput", "failure"): "ExportFailureEnum",
    ("EventOutput", "action"): "AuditActionEnum",
    ("EventOutput", "from_state"): "DeclarationStateEnum",
    ("EventOutput", "to_state"): "DeclarationStateEnum",
    ("DeclarationDetailOutput", "allowed_actions"): "AllowedActionEnum",
    ("RolesOutput", "roles"): "RoleEnum",
    ("VerdictOutput", "problem_codes"): "VerificationProblemEnum",
    ("VerifiedRecordOutput", "kind"): "RecordKindEnum",
    ("MeasureOutput", "kind"): "MeasureKindEnum",
    ("StatementOutput", "policy"): "SignaturePolicyEnum",
}


@pytest.mark.parametrize(("component", "field"), sorted(CLOSED))
def test_a_closed_set_is_a_named_enum(doc: dict[str, Any], component: str, field: str) -> None:
    schema = doc["components"]["schemas"][component]["properties"][field]
    assert _enum_of(doc, schema) == CLOSED[(component, field)]


def test_the_enums_hold_the_codes_of_the_code(doc: dict[str, Any]) -> None:
    schemas = doc["components"]["schemas"]
    assert schemas["AllowedActionEnum"]["enum"] == list(DeclarationAction.values)
    assert schemas["AuditActionEnum"]["enum"] == list(AuditAction.values)
    assert schemas["RoleEnum"]["enum"] == list(Role.values)
    assert schemas["RecordKindEnum"]["enum"] == list(RecordKind.values)
    assert schemas["VerificationProblemEnum"]["enum"] == list(VerificationProblem.values)
    names = [name for name in schemas if name.endswith("Enum")]
    assert [n for n in names if re.search(r"[^A-Za-z]", n)] == []  # English, no hash suffix


def test_export_filters_and_event_data_have_schemas(doc: dict[str, Any]) -> None:
    schemas = doc["components"]["schemas"]
    filters = schemas["ExportOutput"]["properties"]["filters"]
    assert ref_name(filters) == "ExportFiltersOutput"
    assert set(schemas["ExportFiltersOutput"]["properties"]) == {
        "body",
        "unit",
        "submitted_from",
        "submitted_to",
        "state",
    }
    data = schemas["EventOutput"]["properties"]["data"]
    assert data["type"] == "object" and data["additionalProperties"] is True
    assert {"reason", "measure", "legal_basis", "signature"} <= set(data["properties"])


def test_allowed_actions_are_codes_of_the_enum(org: Org) -> None:
    draft = new_draft(org)
    body = ok(client_for(org.servant).get(f"{BASE}/declarations/{draft.code}/"))
    assert body["allowed_actions"]
    assert set(body["allowed_actions"]) <= set(DeclarationAction.values)


def test_verification_problems_carry_codes_beside_the_messages(db: None) -> None:
    upload = io.BytesIO(b"not a pdf")
    upload.name = "x.pdf"
    body = ok(
        client_for(None, HTTP_ACCEPT_LANGUAGE="kk").post(
            f"{BASE}/verify/", {"file": upload}, format="multipart"
        )
    )
    assert body["problem_codes"] == ["unreadable", "not_issued"]
    assert len(body["problems"]) == 2 and body["problems"][0] == "Бұл оқылатын PDF емес."


def test_every_error_code_the_code_answers_is_in_the_enum() -> None:
    """The codes are written in the API's modules or are DRF's own exceptions' defaults."""
    from pathlib import Path

    from rest_framework import exceptions

    from declarations.api.serializers.common import ERROR_CODES

    known = {code for code, _label in ERROR_CODES}
    api = Path(contract.__file__).parent
    written = set()
    for module in api.glob("*.py"):
        source = module.read_text()
        written |= set(re.findall(r'"code": "([a-z_]+)"', source))
        written |= set(re.findall(r'error_response\(\s*"([a-z_]+)"', source))
        written |= set(re.findall(r'default_code = "([a-z_]+)"', source))
    drf = {
        cls.default_code
        for cls in vars(exceptions).values()
        if isinstance(cls, type)
        and issubclass(cls, exceptions.APIException)
        and cls is not exceptions.APIException
        and cls is not exceptions.ValidationError  # answered as "invalid"
    }
    assert len(written) > 10
    assert written | drf <= known, (written | drf) - known
