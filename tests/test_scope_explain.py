"""The hot reads answer from indexes on PostgreSQL, whatever the size of the cases table (issue 17).

A generated body (``seeding.large_org.seed_large``, then ``ANALYZE``) is read by each persona
through the requests they make most: the API's list page and detail, and the web page they land
on and a case's page. Every SELECT those requests send is EXPLAINed. Servants, reviewers and HR
see a handful of the body's cases, so no plan may read the whole cases table (a ``Seq Scan`` on
``declarations_declaration``): their scope is a UNION of indexed reasons
(``selectors.declaration_list_visible_to``). Ethics commissioners and auditors see every case of
their body, so their lists may read the body's cases in full (a sequential scan is what that
costs); only their lookup of one case by its code must come from an index.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from django.db import connection
from django.db.models import Count
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from declarations import selectors
from declarations.choices import OPEN_STATES, DeclarationState, Role
from declarations.models import Declaration, Measure, Servant
from declarations.seeding.large_org import BENCH_SLUG, seed_large
from tests.api import BASE, client_for
from tests.factories import RoleGrantFactory
from tests.web import client_as

pytestmark = [pytest.mark.postgres, pytest.mark.django_db]

CASES, MEASURES = "declarations_declaration", "declarations_measure"
#: about the demo's ratio (100,000 servants, 200,000 cases), small enough to seed in seconds
SERVANTS, DECLARATIONS = 1_500, 3_000
#: the personas whose scope is a few of the body's cases: no plan may read the whole table
NARROW = ("servant", "manager", "hr")


@dataclass(frozen=True)
class Persona:
    user: Any
    case: Declaration  # one case in their scope
    landing: str  # the web page their work is on


def seq_scans(plan: dict[str, Any], table: str = CASES) -> Iterator[dict[str, Any]]:
    """The plan nodes, subplans included, that read the whole of ``table``."""
    if plan.get("Node Type") == "Seq Scan" and plan.get("Relation Name") == table:
        yield plan
    for child in plan.get("Plans", []):
        yield from seq_scans(child, table)


def explain(sql: str, params: Any = None) -> dict[str, Any]:
    with connection.cursor() as cursor:
        cursor.execute(f"EXPLAIN (FORMAT JSON) {sql}", params)
        (raw,) = cursor.fetchone()
    plans = raw if isinstance(raw, list) else json.loads(raw)
    return dict(plans[0]["Plan"])


#: SQL and its parameters (``None`` for SQL as it was sent, the parameters in it)
Query = tuple[str, Any]


def reads_of_cases(requests: dict[str, Any]) -> dict[str, list[Query]]:
    """Make each request (``where -> callable``); the SELECTs it sent that read the cases table."""
    sent: dict[str, list[Query]] = {}
    for where, request in requests.items():
        with CaptureQueriesContext(connection) as ctx:
            response = request()
        assert response.status_code == 200, (where, response.status_code)
        sent[where] = [
            (q["sql"], None)
            for q in ctx.captured_queries
            if q["sql"].startswith("SELECT") and f'"{CASES}"' in q["sql"]
        ]
        assert sent[where], where  # the request did read cases
    return sent


def scanning(sent: dict[str, list[Query]]) -> list[str]:
    """The requests with a query whose plan reads the whole cases table."""
    return [
        where
        for where, queries in sent.items()
        for query in queries
        if any(seq_scans(explain(*query)))
    ]


@pytest.fixture
def personas() -> dict[str, Persona]:
    """The generated body, its statistics gathered, and a persona of each kind in it: a servant
    with a case of their own; a head of division reviewing their division's cases; an HR
    officer, an ethics commissioner and an auditor of the body (granted here)."""
    seed_large(servants=SERVANTS, declarations=DECLARATIONS, password="pw")
    cases = Declaration.objects.filter(body__slug=BENCH_SLUG)
    body = cases.first().body
    # HR has acted on some of the decided cases: their measures carry an order number
    with_order = list(Measure.objects.filter(declaration__body=body).values_list("pk", flat=True))
    Measure.objects.filter(pk__in=with_order[::20]).update(needs_order=True, order_number="12-к")
    servants = Servant.objects.filter(body=body, position__is_head=False).order_by(
        "personnel_number"
    )
    hr, ethics, auditor = (s.user for s in servants[100:103])
    for user, role in ((hr, Role.HR), (ethics, Role.ETHICS_COMMISSIONER), (auditor, Role.AUDITOR)):
        RoleGrantFactory(user=user, body=body, role=role)
    servant = servants.filter(declarations__isnull=False).first()
    management = selectors.management_users(body.pk).get()
    reviewer = (
        cases.filter(state__in=OPEN_STATES)
        .exclude(reviewer=management)
        .values("reviewer")
        .annotate(n=Count("pk"))
        .order_by("-n")
        .first()
    )
    manager = Servant.objects.get(user_id=reviewer["reviewer"]).user  # type: ignore[index]
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")  # inside the test's transaction: it sees the generated rows
    any_case = cases.exclude(state=DeclarationState.DRAFT)
    return {
        "servant": Persona(
            servant.user,
            cases.filter(declarant=servant).first(),
            reverse("declarations:mine"),
        ),
        "manager": Persona(
            manager,
            cases.filter(reviewer=manager, state__in=OPEN_STATES).first(),
            reverse("declarations:reviews"),
        ),
        "hr": Persona(
            hr,
            cases.filter(measures__order_number="12-к").first(),
            reverse("declarations:hr"),
        ),
        "ethics": Persona(ethics, any_case.first(), reverse("declarations:overview")),
        "auditor": Persona(auditor, any_case.last(), reverse("declarations:search")),
    }


@pytest.mark.parametrize("name", NARROW)
def test_a_narrow_scope_never_reads_the_whole_cases_table(
    personas: dict[str, Persona], name: str
) -> None:
    persona = personas[name]
    api, web = client_for(persona.user), client_as(persona.user)
    sent = reads_of_cases(
        {
            "api list": lambda: api.get(f"{BASE}/declarations/"),
            "api list, open ones": lambda: api.get(
                f"{BASE}/declarations/", {"state": list(OPEN_STATES)}
            ),
            "api detail": lambda: api.get(f"{BASE}/declarations/{persona.case.code}/"),
            "landing page": lambda: web.get(persona.landing),
            "case page": lambda: web.get(
                reverse("declarations:declaration", args=[persona.case.code])
            ),
        }
    )
    scope = selectors.declaration_list_visible_to(user=persona.user).query.sql_with_params()
    sent["the scope itself"] = [scope]
    assert not (found := scanning(sent)), found
    # HR's reason is a measure with an order to issue or issued: found from its partial index
    assert not any(seq_scans(explain(*scope), MEASURES))


@pytest.mark.parametrize("name", ["ethics", "auditor"])
def test_a_body_wide_scope_finds_one_case_by_its_code_from_an_index(
    personas: dict[str, Persona], name: str
) -> None:
    persona = personas[name]
    api, web = client_for(persona.user), client_as(persona.user)
    sent = reads_of_cases(
        {
            "api detail": lambda: api.get(f"{BASE}/declarations/{persona.case.code}/"),
            "case page": lambda: web.get(
                reverse("declarations:declaration", args=[persona.case.code])
            ),
        }
    )
    assert not (found := scanning(sent)), found
    # their lists read the body's cases, and answer: what they cost is not asserted here
    reads_of_cases(
        {
            "api list": lambda: api.get(f"{BASE}/declarations/"),
            "landing page": lambda: web.get(persona.landing),
        }
    )


def test_the_generated_body_is_what_the_plans_are_about(personas: dict[str, Persona]) -> None:
    """The scopes are as small or as wide as the assertions above take them to be."""
    sizes = {
        name: selectors.declaration_list_visible_to(user=p.user).count()
        for name, p in personas.items()
    }
    assert all(0 < sizes[name] < DECLARATIONS // 20 for name in NARROW), sizes
    assert sizes["ethics"] == sizes["auditor"] == DECLARATIONS  # the generated cases are filed
