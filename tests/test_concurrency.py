"""Two transitions on one declaration at the same moment: exactly one wins, the other gets a
conflict, and exactly one event is written. Real row locks need PostgreSQL."""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

import pytest
from django.core.exceptions import PermissionDenied
from django.db import connection
from django_fsm import ConcurrentTransition, TransitionNotAllowed

from declarations.choices import DeclarationState
from declarations.models import AuditEvent, Declaration
from declarations.services.transitions import (
    declaration_find_no_conflict,
    declaration_start_review,
    declaration_withdraw,
)
from tests.builders import build_org, declaration_in

S = DeclarationState
CONFLICTS = (ConcurrentTransition, TransitionNotAllowed)


def _race(calls: list[Callable[[], Any]]) -> list[object]:
    """Run ``calls`` in threads released together; return each one's result or exception."""
    barrier = threading.Barrier(len(calls))
    results: list[object] = [None] * len(calls)

    def run(i: int) -> None:
        try:
            barrier.wait()
            results[i] = calls[i]()
        except Exception as exc:  # noqa: BLE001 - the test inspects it
            results[i] = exc
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(i,)) for i in range(len(calls))]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    return results


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_same_transition_twice_at_once() -> None:
    org = build_org()
    declaration = declaration_in(org, S.SUBMITTED)
    copies = [Declaration.objects.get(pk=declaration.pk) for _ in range(4)]
    results = _race(
        [lambda c=c: declaration_start_review(declaration=c, actor=org.manager) for c in copies]
    )
    wins = [r for r in results if isinstance(r, Declaration)]
    losses = [r for r in results if isinstance(r, CONFLICTS)]
    assert len(wins) == 1 and len(losses) == 3, results
    assert (
        AuditEvent.objects.filter(
            declaration=declaration, action="declaration.review_started"
        ).count()
        == 1
    )
    assert Declaration.objects.get(pk=declaration.pk).state == S.IN_REVIEW


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_withdraw_races_a_decision() -> None:
    org = build_org()
    declaration = declaration_in(org, S.IN_REVIEW)
    mine = Declaration.objects.get(pk=declaration.pk)
    theirs = Declaration.objects.get(pk=declaration.pk)
    results = _race(
        [
            lambda: declaration_withdraw(declaration=mine, actor=org.servant, reason="Mistake"),
            lambda: declaration_find_no_conflict(
                declaration=theirs, actor=org.manager, reason="None"
            ),
        ]
    )
    assert sum(isinstance(r, Declaration) for r in results) == 1, results
    assert sum(isinstance(r, CONFLICTS) for r in results) == 1, results
    assert not any(isinstance(r, PermissionDenied) for r in results)
    final = Declaration.objects.get(pk=declaration.pk)
    assert final.state in (S.WITHDRAWN, S.NO_CONFLICT)
    assert (
        AuditEvent.objects.filter(declaration=declaration).count() == 3
    )  # submitted, review, one end
    assert final.audit_seq == 3


# ---- the same races through the API -------------------------------------------------------


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_many_api_requests_for_one_transition() -> None:
    """Eight managers' tabs, each showing the case as read, press "start review" at once: one
    200, seven 412 (the version they read is gone; If-Match is required, issue 18), one event.
    """
    from tests.api import client_for, current_etag, declaration_url

    org = build_org()
    declaration = declaration_in(org, S.SUBMITTED)
    clients = [client_for(org.manager) for _ in range(8)]
    url = declaration_url(declaration, "start-review")
    read = current_etag(url)
    results = _race([lambda c=c: c.post(url, HTTP_IF_MATCH=read) for c in clients])
    codes = sorted(r.status_code for r in results)  # type: ignore[attr-defined]
    assert codes == [200] + [412] * 7, codes
    assert all(r.json()["code"] == "precondition_failed" for r in results if r.status_code == 412)
    assert (
        AuditEvent.objects.filter(
            declaration=declaration, action="declaration.review_started"
        ).count()
        == 1
    )


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_api_withdraw_races_a_decision() -> None:
    """Both read the case, then act at once: the loser's version is gone (412)."""
    from tests.api import client_for, current_etag, declaration_url

    org = build_org()
    declaration = declaration_in(org, S.IN_REVIEW)
    servant, manager = client_for(org.servant), client_for(org.manager)
    read = current_etag(declaration_url(declaration))
    results = _race(
        [
            lambda: servant.post(
                declaration_url(declaration, "withdraw"),
                {"reason": "x"},
                format="json",
                HTTP_IF_MATCH=read,
            ),
            lambda: manager.post(
                declaration_url(declaration, "decide"),
                {"reason": "r", "measures": [{"kind": "other", "description": "d"}]},
                format="json",
                HTTP_IF_MATCH=read,
            ),
        ]
    )
    codes = sorted(r.status_code for r in results)  # type: ignore[attr-defined]
    assert codes == [200, 412], codes
    assert AuditEvent.objects.filter(declaration=declaration).count() == 3  # submit, review, winner


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_two_cases_propose_the_same_vacancy_at_once() -> None:
    """The vacancy row is locked while a decision proposes it: the second proposal is refused
    as not vacant, not written twice."""
    from django.utils import timezone

    from tests.api import act, client_for, declaration_url

    org = build_org()
    first = declaration_in(org, S.IN_REVIEW)
    second = declaration_in(org, S.IN_REVIEW, who="servant2")
    vacancy = str(org.vacancies[0].code)
    body = {
        "reason": "Move",
        "measures": [
            {"kind": "transfer", "position": vacancy, "proposed_date": str(timezone.localdate())}
        ],
    }
    manager_a, manager_b = client_for(org.manager), client_for(org.manager)
    results = _race(
        [
            lambda: act(manager_a.post, declaration_url(first, "decide"), body, format="json"),
            lambda: act(manager_b.post, declaration_url(second, "decide"), body, format="json"),
        ]
    )
    codes = sorted(r.status_code for r in results)  # type: ignore[attr-defined]
    assert codes == [200, 400], codes
    loser = next(r for r in results if r.status_code == 400)  # type: ignore[attr-defined]
    assert loser.json()["fields"]["measures"][0]["position"] == ["This position is not vacant."]
