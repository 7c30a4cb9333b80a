"""List endpoints cost the same number of queries for 1 row as for 50 (no N+1)."""

from __future__ import annotations

from typing import Any

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from declarations.choices import DeclarationState, MeasureKind
from declarations.services.decisions import MeasureSpec, declaration_decide
from declarations.services.declarations import declaration_comment
from tests.api import BASE, client_for, declaration_url
from tests.builders import Org, declaration_in
from tests.factories import PositionFactory, ServantFactory

S = DeclarationState


def _count(client: Any, url: str, params: dict[str, Any] | None = None) -> int:
    with CaptureQueriesContext(connection) as ctx:
        response = client.get(url, params or {})
    assert response.status_code == 200, response.content
    return len(ctx.captured_queries)


def _grow(org: Org, n: int) -> None:
    for _ in range(n):
        declaration_in(org, S.IMPLEMENTING)


# Pinned: the auditor's list is authentication (token + user), role grants, the page, and no
# more; a servant's list needs one query less (no role grants matched). Measures add the
# scoped subquery in the same statement.
@pytest.mark.parametrize(
    ("persona", "url", "pinned"),
    [
        ("auditor", f"{BASE}/declarations/", 3),
        ("servant", f"{BASE}/declarations/", 3),
        ("hr", f"{BASE}/declarations/", 3),
        ("auditor", f"{BASE}/measures/", 3),
        ("hr", f"{BASE}/measures/?state=pending_order", 3),
    ],
)
def test_lists_do_not_grow_with_rows(org: Org, persona: str, url: str, pinned: int) -> None:
    client = client_for(org.users[persona])
    _grow(org, 1)
    one = _count(client, url)
    _grow(org, 49)
    fifty = _count(client, url)
    assert one == fifty == pinned


def test_events_and_measures_of_a_case_do_not_grow(org: Org) -> None:
    declaration = declaration_in(org, S.IN_REVIEW)
    client = client_for(org.auditor)
    events_before = _count(client, declaration_url(declaration, "events"))
    for i in range(20):
        declaration_comment(declaration=declaration, actor=org.ethics, text=f"note {i}")
    assert _count(client, declaration_url(declaration, "events")) == events_before
    declaration_decide(
        declaration=declaration,
        actor=org.manager,
        reason="All",
        measures=[
            MeasureSpec(kind=MeasureKind.REASSIGN, substitute=org.servants["servant2"]),
            MeasureSpec(kind=MeasureKind.OTHER, description="a"),
            MeasureSpec(kind=MeasureKind.OTHER, description="b", needs_order=True),
        ],
    )
    three = _count(client, declaration_url(declaration, "measures"))
    case2 = declaration_in(org, S.RESOLVED)
    one = _count(client, declaration_url(case2, "measures"))
    assert one == three


def test_pickers_do_not_grow(org: Org) -> None:
    client = client_for(org.manager)
    servants = _count(client, f"{BASE}/servants/")
    positions = _count(client, f"{BASE}/positions/", {"vacant": "true"})
    for i in range(30):
        ServantFactory(body=org.body, position=PositionFactory(unit=org.vacancies[0].unit))
        PositionFactory(unit=org.vacancies[0].unit, title=f"Spare {i}")
    assert _count(client, f"{BASE}/servants/") == servants
    assert _count(client, f"{BASE}/positions/", {"vacant": "true"}) == positions


def test_fast_list_rows_equal_the_generic_serializer(org: Org) -> None:
    """The hand-built list row must say exactly what DRF's generic field walk says."""
    from django.utils import timezone
    from rest_framework import serializers

    from declarations.api.serializers import DeclarationOutput
    from declarations.models import Declaration

    for state in (S.DRAFT, S.SUBMITTED, S.RESOLVED):
        declaration_in(org, state)
    declaration_in(org, S.SUBMITTED, who="manager")  # no reviewer until management takes it
    now = timezone.now()
    rows = Declaration.objects.select_related("body", "declarant", "reviewer__servant")
    for declaration in rows:
        output = DeclarationOutput(declaration, context={"now": now})
        generic = serializers.Serializer.to_representation(output, declaration)
        assert output.data == generic
