"""An integrator's client, generated from the schema the app serves, drives a whole case (issue 18).

``openapi-python-client`` turns the served schema into a Python package, the way another
government system would start; the test imports it and walks a transfer from the notice to the
bulk export against a live server, through the generated operations only: no request in the
walk is written by hand. The client is strict (``raise_on_unexpected_status``): a status the
schema does not document raises, and a body the generated models cannot read raises in
``from_dict``. On top of that, a field sent or received that the models do not declare fails
the walk, and generation itself must be clean: a warning of the generator (an operation or a
response it had to leave out) fails the test. The generator runs with no configuration of the
contract's types (its downloads offer ``application/octet-stream``, the one binary type
openapi-python-client knows, beside their own); the token goes as the generated client sends
it by default (``Authorization: Bearer``).

Operations are found by method and path (DESIGN.md §6's resource map), not by their generated
names, so the walk reads like the contract and does not depend on operationIds.
"""

from __future__ import annotations

import enum
import hashlib
import importlib
import io
import json
import re
import subprocess
import sys
import typing
import uuid
import zipfile
from collections.abc import Iterator
from datetime import date, timedelta
from email.message import Message
from pathlib import Path
from types import ModuleType
from typing import Any

import attrs
import httpx
import pytest
from django.test import Client as DjangoClient
from django.utils import timezone

from tests.builders import Org, build_org
from tests.records import IMMEDIATE

PACKAGE = "coi_generated_client"
PASSWORD = "pw"  # tests.factories.UserFactory's
D = "/api/v1/declarations/{id}/"
M = "/api/v1/measures/{id}/"


def value(x: Any) -> Any:
    """A generated enum member's wire value (plain values pass through)."""
    return x.value if isinstance(x, enum.Enum) else x


def undeclared(obj: Any, where: str) -> list[str]:
    """Fields a generated model holds only because the schema does not declare them."""
    found: list[str] = []
    if attrs.has(type(obj)):
        found += [f"{where}.{name}" for name in getattr(obj, "additional_properties", {})]
        for field in attrs.fields(type(obj)):
            if field.name != "additional_properties":
                found += undeclared(getattr(obj, field.name), f"{where}.{field.name}")
    elif isinstance(obj, list):
        for i, item in enumerate(obj):
            found += undeclared(item, f"{where}[{i}]")
    return found


class Generated:
    """The generated package, with its operations indexed by method and path template."""

    def __init__(self, package: ModuleType, root: Path) -> None:
        self.package = package
        self.opened: list[Any] = []
        self.types = importlib.import_module(f"{PACKAGE}.types")
        self.operations: dict[tuple[str, str], ModuleType] = {}
        for file in sorted((root / "api").glob("*/*.py")):
            if file.name == "__init__.py":
                continue
            source = file.read_text()
            method = re.search(r'"method": "(\w+)"', source)
            url = re.search(r'"url": "([^"]+)"', source)
            assert method and url, file
            module = importlib.import_module(f"{PACKAGE}.api.{file.parent.name}.{file.stem}")
            self.operations[(method.group(1).upper(), url.group(1))] = module

    def client(self, base_url: str, token: str | None = None) -> Any:
        """The generated client, strict; with a token, the generated ``AuthenticatedClient`` as
        it comes (``Authorization: Bearer <token>``, its default)."""
        # a dossier or an export is sealed while the caller waits: longer than httpx's 5 s
        strict = {"raise_on_unexpected_status": True, "timeout": httpx.Timeout(120.0)}
        if token is None:
            client = self.package.Client(base_url=base_url, **strict)
        else:
            client = self.package.AuthenticatedClient(base_url=base_url, token=token, **strict)
        self.opened.append(client)
        return client

    def close(self) -> None:
        """Close the clients' connections while the live server still shares the test's
        database connection (a kept-alive one closed later makes its thread touch it)."""
        while self.opened:
            self.opened.pop().get_httpx_client().close()

    def call(
        self,
        method: str,
        path: str,
        client: Any,
        expect: int | tuple[int, ...],
        body: Any = None,
        **params: Any,
    ) -> Any:
        """Call the generated operation for ``method path``; ``body`` a dict (read into the
        operation's own body model) or a model; parameters as plain values, turned into the types
        the generated signature asks for (enums, UUIDs, dates)."""
        operation = self.operations.get((method, path))
        assert operation is not None, f"the generated client has no {method} {path}"
        hints = typing.get_type_hints(operation.sync_detailed)
        kwargs = {name: self._typed(hints[name], v) for name, v in params.items()}
        if body is not None:
            if isinstance(body, dict):
                body = self._model(hints["body"]).from_dict(body)
            assert not undeclared(body, "body"), (
                f"{method} {path} takes no {undeclared(body, 'body')}"
            )
            kwargs["body"] = body
        response = operation.sync_detailed(client=client, **kwargs)
        expected = expect if isinstance(expect, tuple) else (expect,)
        assert response.status_code in expected, (method, path, response.content[:2000])
        if response.status_code != 204:
            assert response.parsed is not None, (method, path, response.status_code)
            unknown = undeclared(response.parsed, "response")
            assert not unknown, f"{method} {path} answers undeclared {unknown}"
        return response

    def form(self, method: str, path: str, **fields: Any) -> Any:
        """A multipart body model of the operation, made from its fields."""
        hints = typing.get_type_hints(self.operations[(method, path)].sync_detailed)
        return self._model(hints["body"])(**fields)

    def download(self, response: Any) -> tuple[bytes, str]:
        """A binary response as the generated client returns it (a ``File``), and the file
        name the server gives in ``Content-Disposition``."""
        assert isinstance(response.parsed, self.types.File), type(response.parsed)
        header = Message()
        header["Content-Disposition"] = response.headers["Content-Disposition"]
        name = header.get_filename()
        assert name, response.headers["Content-Disposition"]
        return response.parsed.payload.read(), name

    @staticmethod
    def _model(hint: Any) -> Any:
        return next(t for t in (typing.get_args(hint) or (hint,)) if hasattr(t, "from_dict"))

    @classmethod
    def _typed(cls, hint: Any, v: Any) -> Any:
        for t in typing.get_args(hint) or (hint,):
            if typing.get_origin(t) is list:
                (item,) = typing.get_args(t)
                return [cls._typed(item, x) for x in (v if isinstance(v, list) else [v])]
            if isinstance(t, type) and isinstance(v, str):
                if issubclass(t, enum.Enum):
                    return t(v)
                if t is uuid.UUID:
                    return uuid.UUID(v)
                if t is date:
                    return date.fromisoformat(v)
        return v


@pytest.fixture(scope="module")
def generated(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Generated]:
    """The client generated once for the module from the schema the app serves."""
    root = tmp_path_factory.mktemp("openapi-client")
    schema = DjangoClient().get("/api/schema/?format=json")
    assert schema.status_code == 200
    (root / "openapi.json").write_bytes(schema.content)
    config: dict[str, Any] = {
        # no post hooks: they would run ruff over the package, which a test does not need
        "post_hooks": [],
    }
    (root / "config.json").write_text(json.dumps(config))
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "openapi_python_client",
            "generate",
            "--path",
            str(root / "openapi.json"),
            "--output-path",
            str(root / PACKAGE),
            "--meta",
            "none",
            "--config",
            str(root / "config.json"),
            "--fail-on-warning",
        ],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert result.returncode == 0, (result.stdout + result.stderr)[-8000:]
    sys.path.insert(0, str(root))
    try:
        yield Generated(importlib.import_module(PACKAGE), root / PACKAGE)
    finally:
        sys.path.remove(str(root))
        for name in [m for m in sys.modules if m.split(".")[0] == PACKAGE]:
            del sys.modules[name]


@pytest.fixture
def api(generated: Generated) -> Iterator[Generated]:
    yield generated
    generated.close()


@pytest.fixture
def org(transactional_db: None) -> Org:
    """The personas, committed: the live server's thread reads them."""
    return build_org()


def test_an_integrator_takes_a_transfer_from_notice_to_export(
    api: Generated, live_server: Any, org: Org
) -> None:
    base, today = live_server.url, timezone.localdate()

    def signed_in(who: str) -> Any:
        anonymous = api.client(base)
        credentials = {"username": org.users[who].username, "password": PASSWORD}
        token = api.call("POST", "/api/v1/auth/token/", anonymous, (200, 201), body=credentials)
        return api.client(base, token.parsed.token)

    def etag(response: Any) -> str:
        assert response.headers.get("ETag"), "no ETag to send back in If-Match"
        return str(response.headers["ETag"])

    with IMMEDIATE:  # records, dossiers and exports are made as the steps happen
        servant, manager, hr, auditor = map(signed_in, ("servant", "manager", "hr", "auditor"))

        # 1. the servant files a notice and submits it, naming the version they read
        draft = api.call(
            "POST",
            "/api/v1/declarations/",
            servant,
            201,
            body={
                "conflict_type": "potential",
                "category": "property",
                "matter": "Lease of the depot at Saryarka 12",
                "personal_interest": "My spouse co-owns the lessor.",
                "related_persons": "A. Spouse",
                "aware_since": str(today - timedelta(days=1)),
                "addressee": "manager",
            },
        )
        declaration = draft.parsed.id
        submitted = api.call(
            "POST", f"{D}submit/", servant, 200, id=declaration, if_match=etag(draft)
        )
        assert value(submitted.parsed.state) == "submitted"
        assert submitted.parsed.registration_number

        # 2. the manager reviews and decides a transfer to a vacant position
        read = api.call("GET", D, manager, 200, id=declaration)
        review = api.call(
            "POST", f"{D}start-review/", manager, 200, id=declaration, if_match=etag(read)
        )
        assert value(review.parsed.state) == "in_review"
        vacancies = api.call("GET", "/api/v1/positions/", manager, 200, vacant=True)
        position = vacancies.parsed.results[0].id
        decided = api.call(
            "POST",
            f"{D}decide/",
            manager,
            200,
            id=declaration,
            if_match=etag(review),
            body={
                "reason": "Move away from leasing matters.",
                "measures": [
                    {
                        "kind": "transfer",
                        "position": str(position),
                        "proposed_date": str(today + timedelta(days=10)),
                    }
                ],
            },
        )
        assert value(decided.parsed.state) == "awaiting_consent"

        # 3. the servant consents, naming the measure's version as listed
        (measure,) = api.call("GET", f"{D}measures/", servant, 200, id=declaration).parsed
        assert value(measure.kind) == "transfer" and measure.position.id == position
        consent = api.call(
            "POST",
            f"{M}consent/",
            servant,
            200,
            id=measure.id,
            if_match=measure.version,
            body={"decision": "accept"},
        )
        assert value(consent.parsed.state) == "pending_order"

        # 4. HR finds the order to record and records it
        pending = api.call("GET", "/api/v1/measures/", hr, 200, state="pending_order")
        (order,) = [m for m in pending.parsed.results if m.id == measure.id]
        api.call(
            "POST",
            f"{M}implement/",
            hr,
            200,
            id=order.id,
            if_match=order.version,
            body={"order_number": "17-к", "order_date": str(today)},
        )
        assert value(api.call("GET", D, servant, 200, id=declaration).parsed.state) == "resolved"

        # 5. the records were issued; the notice downloads under its file name
        records = api.call("GET", f"{D}records/", servant, 200, id=declaration).parsed
        assert {"notice", "consent", "decision"} <= {value(r.kind) for r in records}
        assert {value(r.status) for r in records} == {"issued"}
        notice = next(r for r in records if value(r.kind) == "notice")
        pdf, name = api.download(
            api.call("GET", "/api/v1/records/{id}/pdf/", servant, 200, id=notice.id)
        )
        assert pdf.startswith(b"%PDF") and name.endswith(".pdf")
        assert hashlib.sha256(pdf).hexdigest() == notice.sha256

        # 6. anyone holding the PDF verifies it
        upload = api.types.File(
            payload=io.BytesIO(pdf), file_name=name, mime_type="application/pdf"
        )
        verdict = api.call(
            "POST",
            "/api/v1/verify/",
            api.client(base),
            200,
            body=api.form("POST", "/api/v1/verify/", file=upload),
        ).parsed
        assert verdict.valid is True
        assert verdict.record.verification_code == notice.verification_code

        # 7. the auditor takes the dossier, then a bulk export of the resolved cases
        dossier, name = api.download(api.call("GET", f"{D}dossier/", auditor, 200, id=declaration))
        assert dossier.startswith(b"%PDF") and name.endswith(".pdf")
        job = api.call("POST", "/api/v1/exports/", auditor, 202, body={"state": ["resolved"]})
        job = api.call("GET", "/api/v1/exports/{id}/", auditor, 200, id=job.parsed.id).parsed
        assert value(job.status) == "done" and job.total == 1
        archive, name = api.download(
            api.call("GET", "/api/v1/exports/{id}/download/", auditor, 200, id=job.id)
        )
        assert name.endswith(".zip")
        assert "register.csv" in zipfile.ZipFile(io.BytesIO(archive)).namelist()
