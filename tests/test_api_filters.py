"""The list filters narrow the caller's scope (and never widen it); the docs are served locally."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
import time_machine
from django.utils import timezone

from declarations.choices import DeclarationState
from declarations.services.escalation import declarations_process_deadlines
from tests.api import BASE, client_for, ok
from tests.builders import Org, build_org, declaration_in, new_draft

S = DeclarationState
pytestmark = pytest.mark.django_db


def ids(client: Any, **params: Any) -> set[str]:
    return {row["id"] for row in ok(client.get(f"{BASE}/declarations/", params))["results"]}


def test_state_filter_takes_several(org: Org) -> None:
    submitted, review, resolved = (
        declaration_in(org, s) for s in (S.SUBMITTED, S.IN_REVIEW, S.RESOLVED)
    )
    auditor = client_for(org.auditor)
    assert ids(auditor, state=[S.SUBMITTED, S.RESOLVED]) == {
        str(submitted.code),
        str(resolved.code),
    }
    assert ids(auditor, state=S.IN_REVIEW) == {str(review.code)}


def test_overdue_filter(org: Org) -> None:
    with time_machine.travel(timezone.now() - timedelta(days=30)):
        late = declaration_in(org, S.SUBMITTED)
    fresh = declaration_in(org, S.SUBMITTED)
    declarations_process_deadlines(now=timezone.now())
    auditor = client_for(org.auditor)
    assert ids(auditor, overdue="true") == {str(late.code)}
    assert str(fresh.code) in ids(auditor, overdue="false")
    row = next(
        r for r in ok(auditor.get(f"{BASE}/declarations/"))["results"] if r["id"] == str(late.code)
    )
    assert row["overdue"] is True


def test_body_and_unit_filters_stay_in_scope(org: Org) -> None:
    other = build_org()
    mine = declaration_in(org, S.SUBMITTED)
    theirs = declaration_in(other, S.SUBMITTED)
    auditor = client_for(org.auditor)
    assert ids(auditor, body=org.body.slug) == {str(mine.code)}
    assert ids(auditor, body=other.body.slug) == set()  # a filter never widens the scope
    unit = org.servants["servant"].position.unit
    assert ids(auditor, unit=str(unit.code)) == {str(mine.code)}
    assert str(theirs.code) not in ids(auditor)


def test_date_range_in_almaty_days(org: Org) -> None:
    with time_machine.travel(timezone.now() - timedelta(days=10)):
        old = declaration_in(org, S.SUBMITTED)
    new = declaration_in(org, S.SUBMITTED)
    auditor = client_for(org.auditor)
    today = timezone.localdate()
    assert ids(auditor, submitted_from=str(today)) == {str(new.code)}
    assert ids(auditor, submitted_to=str(today - timedelta(days=5))) == {str(old.code)}
    assert ids(
        auditor, submitted_from=str(today - timedelta(days=11)), submitted_to=str(today)
    ) == {str(old.code), str(new.code)}


def test_search_in_matter_and_interest(org: Org) -> None:
    from declarations.services.transitions import declaration_submit

    a = new_draft(org, matter="Школьное питание, тендер 42")
    b = new_draft(org, matter="Аренда склада", personal_interest="Мой брат — учредитель")
    for declaration in (a, b):
        declaration_submit(declaration=declaration, actor=org.servant)
    auditor = client_for(org.auditor)
    assert ids(auditor, search="тендер") == {str(a.code)}
    assert ids(auditor, search="БРАТ") == {str(b.code)}
    assert ids(auditor, search="склада брат") == {str(b.code)}
    assert ids(auditor, search="nothing-like-it") == set()


def test_cursor_pages_cover_the_list_once(org: Org) -> None:
    made = {str(declaration_in(org, S.SUBMITTED).code) for _ in range(7)}
    auditor = client_for(org.auditor)
    seen: list[str] = []
    url: str | None = f"{BASE}/declarations/?page_size=3"
    while url:
        body = ok(auditor.get(url))
        seen += [r["id"] for r in body["results"]]
        url = body["next"]
    assert sorted(seen) == sorted(made)


def test_docs_and_schema_are_served_without_a_cdn(org: Org) -> None:
    client = client_for(org.servant)
    schema = client.get("/api/schema/?format=json")
    assert schema.status_code == 200
    assert schema.json()["openapi"].startswith("3.")
    docs = client.get("/api/docs/")
    assert docs.status_code == 200
    html = docs.content.decode()
    assert "swagger-ui" in html
    assert "cdn.jsdelivr.net" not in html and "unpkg.com" not in html


def test_pickers_find_names_in_any_case(org: Org) -> None:
    servant2 = org.servants["servant2"]
    servant2.full_name = "Әбілқасымова Гүлнар Серікқызы"
    servant2.save()
    client = client_for(org.manager)
    found = ok(client.get(f"{BASE}/servants/", {"search": "ӘБІЛҚАСЫМОВА гүлнар"}))["results"]
    assert [r["id"] for r in found] == [str(servant2.code)]
    by_number = ok(client.get(f"{BASE}/servants/", {"search": servant2.personnel_number}))
    assert [r["id"] for r in by_number["results"]] == [str(servant2.code)]
    vacant = ok(client.get(f"{BASE}/positions/", {"vacant": "true", "search": "VACANT"}))
    assert {r["id"] for r in vacant["results"]} == {str(p.code) for p in org.vacancies}


def test_recusal_on_a_matter_ignores_case_in_kazakh(org: Org) -> None:
    from declarations.selectors import recusals_on_matter

    declaration_in(org, S.SUBMITTED, who="servant2")
    from declarations.models import Declaration

    declaration = Declaration.objects.get(declarant=org.servants["servant2"])
    Declaration.objects.filter(pk=declaration.pk).update(matter="Қазақ тендері")
    assert recusals_on_matter(servant=org.servants["servant2"], matters=[" ҚАЗАҚ ТЕНДЕРІ "])
