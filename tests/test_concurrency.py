"""Two transitions on one case at the same moment: exactly one wins, the other gets a conflict,
and exactly one event is written. Real row locks need PostgreSQL."""

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
from tests.builders import build_org, case_in

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
    case = case_in(org, S.SUBMITTED)
    copies = [Declaration.objects.get(pk=case.pk) for _ in range(4)]
    results = _race(
        [lambda c=c: declaration_start_review(declaration=c, actor=org.manager) for c in copies]
    )
    wins = [r for r in results if isinstance(r, Declaration)]
    losses = [r for r in results if isinstance(r, CONFLICTS)]
    assert len(wins) == 1 and len(losses) == 3, results
    assert (
        AuditEvent.objects.filter(declaration=case, action="declaration.review_started").count()
        == 1
    )
    assert Declaration.objects.get(pk=case.pk).state == S.IN_REVIEW


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_withdraw_races_a_decision() -> None:
    org = build_org()
    case = case_in(org, S.IN_REVIEW)
    mine = Declaration.objects.get(pk=case.pk)
    theirs = Declaration.objects.get(pk=case.pk)
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
    final = Declaration.objects.get(pk=case.pk)
    assert final.state in (S.WITHDRAWN, S.NO_CONFLICT)
    assert AuditEvent.objects.filter(declaration=case).count() == 3  # submitted, review, one end
    assert final.audit_seq == 3
