"""Schemathesis runs the whole OpenAPI schema against the app in this process.

Every operation gets generated requests, valid and invalid, as two personas (a servant and
their manager), with path ids drawn from real objects of every kind as well as random ones.
The checks: no server error; every status code, content type, header and body is one the
schema documents; invalid input is refused. Bounded examples keep it to about a minute.
"""

from __future__ import annotations

import random
from typing import Any

import pytest
import schemathesis
from django.core.wsgi import get_wsgi_application
from hypothesis import HealthCheck, settings
from schemathesis import checks

from declarations.choices import DeclarationState
from declarations.services.attachments import attachment_add
from declarations.services.tokens import token_issue
from tests.builders import Org, build_org, declaration_in, new_draft, pending_measure

S = DeclarationState
PERSONAS = ("servant", "manager")


# Loaded at collection (pytest-django has set Django up by then; the schema needs no database),
# which also gives one test item per operation.
schema = schemathesis.openapi.from_wsgi("/api/schema/?format=json", get_wsgi_application())


@pytest.fixture
def keep_connection() -> Any:
    """Schemathesis calls the WSGI app directly, whose request signals would close the database
    connection the test's transaction lives on (Django's own test client disconnects them)."""
    from django.core import signals
    from django.db import close_old_connections

    signals.request_started.disconnect(close_old_connections)
    signals.request_finished.disconnect(close_old_connections)
    yield
    signals.request_started.connect(close_old_connections)
    signals.request_finished.connect(close_old_connections)


@pytest.fixture
def world(db: None, keep_connection: None) -> dict[str, Any]:
    """One organisation with declarations in every state, a measure of each waiting kind and a
    file."""
    import io

    org: Org = build_org()
    declarations = [declaration_in(org, state) for state in S.values]
    draft = new_draft(org)
    attachment = attachment_add(
        declaration=draft,
        actor=org.servant,
        filename="e.pdf",
        content=io.BytesIO(b"%PDF-1"),
        size=6,
    )
    measures = [
        pending_measure(c) for c in declarations if c.state in (S.AWAITING_CONSENT, S.IMPLEMENTING)
    ]
    ids = {
        "declarations": [str(c.code) for c in [*declarations, draft]],
        "measures": [str(m.code) for m in measures],
        "attachments": [str(attachment.code)],
    }
    tokens = {p: token_issue(user=org.users[p], client="schemathesis").key for p in PERSONAS}
    return {"ids": ids, "tokens": tokens}


@schema.parametrize()
@settings(
    max_examples=30,
    deadline=None,
    derandomize=True,
    suppress_health_check=list(HealthCheck),
)
def test_schema(case: Any, world: dict[str, Any]) -> None:
    rng = random.Random(repr(case.body) + case.path)
    if "id" in (case.path_parameters or {}) and rng.random() < 0.8:
        kind = case.path.split("/")[3]  # /api/v1/<kind>/{id}/...
        pool = world["ids"].get(kind) or world["ids"]["declarations"]
        case.path_parameters["id"] = rng.choice(pool)
    persona = rng.choice(PERSONAS)
    # the token goes into the case itself: the scheme is a bearer one, whose header schemathesis
    # also generates (invalid ones too), and the negative-data check judges the case it holds
    case.headers = {**(case.headers or {}), "Authorization": f"Bearer {world['tokens'][persona]}"}
    case.call_and_validate(
        headers={"Accept-Language": "en"},
        checks=[
            checks.not_a_server_error,
            checks.status_code_conformance,
            checks.content_type_conformance,
            checks.response_schema_conformance,
            checks.response_headers_conformance,
            checks.negative_data_rejection,
        ],
    )
