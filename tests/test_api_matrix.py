"""Role × endpoint: every endpoint answers each persona exactly as DESIGN.md §6 says.

401 for the anonymous caller, 404 for what is outside the caller's scope (never revealing it
exists), 403 for an action the caller may not take on a declaration they can see, 200/201/204 when
allowed. The personas are those of ``tests.builders.Org``.
"""

from __future__ import annotations

import io
from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest
from django.utils import timezone

from declarations.choices import DeclarationState, MeasureKind
from declarations.models import Declaration, ExportJob
from declarations.records.exports import ExportFilters, export_create
from declarations.records.issuing import dossier_issue
from declarations.services.attachments import attachment_add
from declarations.services.transitions import declaration_submit
from tests.api import BASE, act, client_for, declaration_url, measure_url
from tests.builders import (
    Org,
    build_org,
    declaration_in,
    new_draft,
    opened_declaration,
    pending_measure,
)
from tests.records import issue_all, records_of

S = DeclarationState
PERSONAS = ["servant", "servant2", "manager", "head", "ethics", "hr", "auditor", "anonymous"]
PDF = b"%PDF-1.7\n% test\n"

NOTICE = {
    "conflict_type": "potential",
    "category": "property",
    "matter": "Lease of the depot",
    "personal_interest": "I co-own the lessor.",
}


def _notice() -> dict[str, Any]:
    return {**NOTICE, "aware_since": str(timezone.localdate())}


def _draft_with_file(org: Org) -> Declaration:
    declaration = new_draft(org)
    attachment_add(
        declaration=declaration,
        actor=org.servant,
        filename="a.pdf",
        content=io.BytesIO(PDF),
        size=16,
    )
    return declaration


def _implementing(org: Org) -> Declaration:
    return declaration_in(org, S.IMPLEMENTING)


def _issued(org: Org) -> Declaration:
    declaration = declaration_in(org, S.SUBMITTED)
    issue_all(declaration)
    return declaration


def _record_url(org: Org) -> str:
    return f"{BASE}/records/{records_of(_issued(org))[0].code}/pdf/"


def _dossier_url(org: Org) -> str:
    record = dossier_issue(
        declaration=declaration_in(org, S.SUBMITTED), actor=org.auditor, language="en"
    )
    return f"{BASE}/records/{record.code}/pdf/"


def _export(org: Org) -> ExportJob:
    return export_create(actor=org.auditor, filters=ExportFilters(bodies=[]), language="en")


Request = tuple[str, str, dict[str, Any] | None]
Setup = Callable[[Org], Request]

# endpoint -> (setup, codes for servant, servant2, manager, head, ethics, hr, auditor, anonymous)
MATRIX: dict[str, tuple[Setup, str]] = {
    "GET me": (lambda o: ("get", f"{BASE}/me/", None), "200 200 200 200 200 200 200 401"),
    "GET declarations": (
        lambda o: ("get", f"{BASE}/declarations/", None),
        "200 200 200 200 200 200 200 401",
    ),
    "POST declarations (own draft)": (
        lambda o: ("post", f"{BASE}/declarations/", _notice()),
        # the auditor is not a civil servant of the body: no notice of their own here
        "201 201 201 201 201 201 403 401",
    ),
    "POST declarations (other source)": (
        lambda o: (
            "post",
            f"{BASE}/declarations/",
            {
                **_notice(),
                "origin": "other_source",
                "declarant": str(o.servants["servant"].code),
                "source_description": "Press report",
            },
        ),
        # 003 cl. 8 p.2: the direct superior, management, and the ethics commissioner
        "403 403 201 201 201 403 403 401",
    ),
    "GET declaration": (
        lambda o: ("get", declaration_url(declaration_in(o, S.SUBMITTED)), None),
        "200 404 200 200 200 404 200 401",
    ),
    "GET declaration (draft)": (
        lambda o: ("get", declaration_url(new_draft(o)), None),
        "200 404 404 404 404 404 404 401",
    ),
    "PATCH declaration (draft)": (
        lambda o: ("patch", declaration_url(new_draft(o)), {"matter": "Lease of depot 2"}),
        "200 404 404 404 404 404 404 401",
    ),
    "DELETE declaration (draft)": (
        lambda o: ("delete", declaration_url(new_draft(o)), None),
        "204 404 404 404 404 404 404 401",
    ),
    "POST submit": (
        lambda o: ("post", declaration_url(new_draft(o), "submit"), None),
        "200 404 404 404 404 404 404 401",
    ),
    "POST start-review": (
        lambda o: ("post", declaration_url(declaration_in(o, S.SUBMITTED), "start-review"), None),
        "403 404 200 403 403 404 403 401",
    ),
    "POST decide": (
        lambda o: (
            "post",
            declaration_url(declaration_in(o, S.IN_REVIEW), "decide"),
            {"reason": "Divest", "measures": [{"kind": "other", "description": "Sell"}]},
        ),
        "403 404 200 403 403 404 403 401",
    ),
    "POST no-conflict": (
        lambda o: (
            "post",
            declaration_url(declaration_in(o, S.IN_REVIEW), "no-conflict"),
            {"reason": "No"},
        ),
        "403 404 200 403 403 404 403 401",
    ),
    "POST withdraw": (
        lambda o: (
            "post",
            declaration_url(declaration_in(o, S.SUBMITTED), "withdraw"),
            {"reason": "Twice"},
        ),
        "200 404 403 403 403 404 403 401",
    ),
    "POST reassign-reviewer": (
        lambda o: (
            "post",
            declaration_url(declaration_in(o, S.SUBMITTED), "reassign-reviewer"),
            {"reviewer": str(o.servants["ethics"].code), "reason": "Away"},
        ),
        "403 404 403 200 403 404 403 401",
    ),
    "POST comments": (
        lambda o: (
            "post",
            declaration_url(declaration_in(o, S.SUBMITTED), "comments"),
            {"text": "Check"},
        ),
        "403 404 201 201 201 404 403 401",
    ),
    "POST addenda": (
        lambda o: (
            "post",
            declaration_url(declaration_in(o, S.SUBMITTED), "addenda"),
            {"text": "Also"},
        ),
        "201 404 403 403 403 404 403 401",
    ),
    "GET events": (
        lambda o: ("get", declaration_url(declaration_in(o, S.SUBMITTED), "events"), None),
        "200 404 200 200 200 404 200 401",
    ),
    "GET declaration measures": (
        lambda o: ("get", declaration_url(declaration_in(o, S.AWAITING_CONSENT), "measures"), None),
        # HR sees a declaration only once it has a measure needing an order
        "200 404 200 200 200 404 200 401",
    ),
    "GET declaration measures (implementing)": (
        lambda o: ("get", declaration_url(_implementing(o), "measures"), None),
        "200 404 200 200 200 200 200 401",
    ),
    "GET measures": (
        lambda o: ("get", f"{BASE}/measures/", None),
        "200 200 200 200 200 200 200 401",
    ),
    "GET measure": (
        lambda o: ("get", measure_url(pending_measure(_implementing(o))), None),
        "200 404 200 200 200 200 200 401",
    ),
    "POST consent": (
        lambda o: (
            "post",
            measure_url(pending_measure(declaration_in(o, S.AWAITING_CONSENT)), "consent"),
            {"decision": "accept"},
        ),
        "200 404 403 403 403 404 403 401",
    ),
    "POST implement": (
        lambda o: (
            "post",
            measure_url(pending_measure(_implementing(o)), "implement"),
            {"order_number": "1-k", "order_date": str(timezone.localdate())},
        ),
        "403 404 403 403 403 200 403 401",
    ),
    "GET attachments (draft)": (
        lambda o: ("get", declaration_url(_draft_with_file(o), "attachments"), None),
        "200 404 404 404 404 404 404 401",
    ),
    "GET attachment (submitted)": (
        lambda o: ("get", f"{BASE}/attachments/{_submitted_file(o)}/", None),
        "200 404 200 200 200 404 200 401",
    ),
    "GET declaration records": (
        lambda o: ("get", declaration_url(_issued(o), "records"), None),
        "200 404 200 200 200 404 200 401",
    ),
    "GET record pdf": (
        lambda o: ("get", _record_url(o), None),
        "200 404 200 200 200 404 200 401",
    ),
    "GET record pdf (dossier)": (
        lambda o: ("get", _dossier_url(o), None),
        # a dossier carries the confidential source: auditors, ethics, management only
        "404 404 404 200 200 404 200 401",
    ),
    "GET dossier": (
        lambda o: ("get", declaration_url(declaration_in(o, S.SUBMITTED), "dossier"), None),
        "403 404 403 200 200 404 200 401",
    ),
    "GET exports": (
        lambda o: ("get", f"{BASE}/exports/", None),
        "200 200 200 200 200 200 200 401",
    ),
    "POST exports": (
        lambda o: ("post", f"{BASE}/exports/", {"state": ["submitted"]}),
        "403 403 403 403 403 403 202 401",
    ),
    "GET export": (
        lambda o: ("get", f"{BASE}/exports/{_export(o).code}/", None),
        "404 404 404 404 404 404 200 401",
    ),
    "GET export download (running)": (
        lambda o: ("get", f"{BASE}/exports/{_export(o).code}/download/", None),
        "404 404 404 404 404 404 409 401",
    ),
    "GET servants": (
        lambda o: ("get", f"{BASE}/servants/", {"search": "a"}),
        "200 200 200 200 200 200 200 401",
    ),
    "GET positions": (
        lambda o: ("get", f"{BASE}/positions/", {"vacant": "true"}),
        "200 200 200 200 200 200 200 401",
    ),
}


def _submitted_file(org: Org) -> str:
    declaration = _draft_with_file(org)
    declaration_submit(declaration=declaration, actor=org.servant)
    return str(declaration.attachments.get().code)


DECLARATIONS = [
    pytest.param(endpoint, persona, int(codes.split()[i]), id=f"{endpoint}-{persona}")
    for endpoint, (_setup, codes) in MATRIX.items()
    for i, persona in enumerate(PERSONAS)
]


@pytest.mark.parametrize(("endpoint", "persona", "expected"), DECLARATIONS)
def test_matrix(org: Org, endpoint: str, persona: str, expected: int) -> None:
    method, url, payload = MATRIX[endpoint][0](org)
    client = client_for(None if persona == "anonymous" else org.users[persona])
    if method == "get":
        response = client.get(url, payload)
    else:
        response = act(getattr(client, method), url, payload, format="json")
    if response.status_code == 200 and response["Content-Type"] == "application/pdf":
        assert response.content.startswith(b"%PDF")
    assert response.status_code == expected, getattr(response, "content", b"")[:500]
    if expected >= 400:
        body = response.json()
        assert set(body) <= {"code", "message", "fields", "retry_after"}
        assert body["code"] and body["message"]


def test_multipart_upload_matrix(org: Org) -> None:
    """Uploading is the declarant's, on their draft only."""
    for persona, expected in zip(PERSONAS, [201, 404, 404, 404, 404, 404, 404, 401], strict=True):
        declaration = new_draft(org)
        client = client_for(None if persona == "anonymous" else org.users[persona])
        upload = io.BytesIO(PDF)
        upload.name = "evidence.pdf"
        response = client.post(
            declaration_url(declaration, "attachments"), {"file": upload}, format="multipart"
        )
        assert response.status_code == expected, (persona, response.content)


def _everything(org: Org, other: Org) -> dict[str, Declaration]:
    """Declarations in every state from two declarants, and declarations of another body."""
    declarations = {f"servant-{state}": declaration_in(org, state) for state in S.values}
    declarations["servant2-submitted"] = declaration_in(org, S.SUBMITTED, who="servant2")
    declarations["servant2-draft"] = declaration_in(org, S.DRAFT, who="servant2")
    declarations["manager-submitted"] = declaration_in(
        org, S.SUBMITTED, who="manager"
    )  # reviewed by head
    declarations["opened"] = org_open(org)
    for state in (S.SUBMITTED, S.IN_REVIEW, S.DRAFT):
        declarations[f"other-{state}"] = declaration_in(other, state)
    return declarations


def org_open(org: Org) -> Declaration:
    return opened_declaration(org, opener="manager", declarant=org.servants["servant2"])


def _listed(client: Any) -> set[str]:
    seen: set[str] = set()
    url: str | None = f"{BASE}/declarations/?page_size=5"
    while url:
        body = client.get(url).json()
        seen |= {row["id"] for row in body["results"]}
        url = body["next"]
    return seen


@pytest.mark.django_db
def test_no_list_leaks_outside_scope() -> None:
    org, other = build_org(), build_org()
    declarations = _everything(org, other)
    ids = {name: str(declaration.code) for name, declaration in declarations.items()}

    def named(*predicates: Callable[[str], bool]) -> set[str]:
        return {ids[n] for n in ids if any(p(n) for p in predicates)}

    registered_here = lambda n: not n.startswith("other") and not n.endswith("draft")  # noqa: E731
    expected = {
        "servant": named(lambda n: n.startswith("servant-")),
        "servant2": named(lambda n: n.startswith("servant2-"), lambda n: n == "opened"),
        # the reviewer of the servants' notices and the opener of the other-source declaration
        "manager": named(
            lambda n: n.startswith(("servant-", "servant2-")) and registered_here(n),
            lambda n: n == "opened",
            lambda n: n == "manager-submitted",
        ),
        "head": named(registered_here),
        "ethics": named(registered_here),
        "auditor": named(registered_here),
        "hr": named(lambda n: n == "servant-implementing"),
        "outsider": set(),
    }
    for persona, wanted in expected.items():
        assert _listed(client_for(org.users[persona])) == wanted, persona


def test_decide_with_every_kind_at_once(org: Org) -> None:
    """One decision, several measures: the declaration waits for the slowest of them."""
    declaration = declaration_in(org, S.IN_REVIEW)
    client = client_for(org.manager)
    response = act(
        client.post,
        declaration_url(declaration, "decide"),
        {
            "reason": "All of it",
            "measures": [
                {"kind": "reassign", "substitute": str(org.servants["servant2"].code)},
                {
                    "kind": "change_duties",
                    "description": "No leases",
                    "effective_date": str(timezone.localdate()),
                },
                {
                    "kind": "transfer",
                    "position": str(org.vacancies[0].code),
                    "proposed_date": str(timezone.localdate() + timedelta(days=3)),
                },
                {"kind": "other", "description": "Divest", "needs_order": False},
            ],
        },
        format="json",
    )
    assert response.status_code == 200, response.content
    assert response.json()["state"] == S.AWAITING_CONSENT
    kinds = sorted(m.kind for m in declaration.measures.all())
    assert kinds == sorted(MeasureKind.values)


def test_manager_case_goes_to_head_and_never_to_self(org: Org) -> None:
    declaration = declaration_in(org, S.SUBMITTED, who="manager")
    assert (
        act(client_for(org.manager).post, declaration_url(declaration, "start-review")).status_code
        == 403
    )
    assert (
        act(client_for(org.head).post, declaration_url(declaration, "start-review")).status_code
        == 200
    )
