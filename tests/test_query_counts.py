"""Pinned query counts of the transition path: the audit trail and the checks must stay cheap
(issue 3 measures a transition with its audit event against one without)."""

from __future__ import annotations

from django.utils import timezone

from declarations.choices import DeclarationState, MeasureKind
from declarations.services.decisions import MeasureSpec, declaration_decide
from declarations.services.transitions import declaration_start_review, declaration_submit
from tests.builders import Org, declaration_in, new_draft

S = DeclarationState


def test_submit_queries(org: Org, django_assert_num_queries) -> None:  # type: ignore[no-untyped-def]
    declaration = new_draft(org)
    # savepoint, lock, counter (3), position, manager (2), calendar, the addressee's name (who
    # knew, issue 14), measures, legal bases, attachments (for the frozen notice), event, the
    # stored clocks (read running, the reviewer's name, the calendar and the body's reminder
    # rules for their reminder and escalation times (issue 16), one INSERT; issue 14), the
    # pending notice record, declaration update, the recipients' e-mail choices and the outbox
    # (issue 16), release, caller refresh
    with django_assert_num_queries(25):
        declaration_submit(declaration=declaration, actor=org.servant)


def test_start_review_queries(org: Org, django_assert_num_queries) -> None:  # type: ignore[no-untyped-def]
    declaration = declaration_in(org, S.SUBMITTED)
    # savepoint, lock, measures, event, the stored clocks (read running, one UPDATE ending the
    # start-review clock; issue 14), declaration update, the recipients' e-mail choices and the
    # outbox (issue 16), release, refresh
    with django_assert_num_queries(11):
        declaration_start_review(declaration=declaration, actor=org.manager)


def test_decide_queries_do_not_grow_with_measures(
    org: Org,
    django_assert_max_num_queries,  # type: ignore[no-untyped-def]
) -> None:
    one = declaration_in(org, S.IN_REVIEW)
    three = declaration_in(org, S.IN_REVIEW, who="servant2")
    spec = MeasureSpec(kind=MeasureKind.OTHER, description="Divest")
    duties = MeasureSpec(
        kind=MeasureKind.CHANGE_DUTIES, description="No files", effective_date=timezone.localdate()
    )
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as first:
        declaration_decide(declaration=one, actor=org.manager, reason="r", measures=[spec])
    with CaptureQueriesContext(connection) as second:
        declaration_decide(
            declaration=three, actor=org.manager, reason="r", measures=[spec, duties, spec]
        )
    # measures go in one INSERT; the extra queries are the HR lookup for the order, the one
    # INSERT of its stored clock (issue 14), and the calendar and the body's reminder rules for
    # that clock's reminder and escalation times (issue 16)
    assert len(second) - len(first) == 4
    # and with orders on both sides, three measures or five cost the same
    five = declaration_in(org, S.IN_REVIEW)
    four = declaration_in(org, S.IN_REVIEW, who="servant2")
    with CaptureQueriesContext(connection) as fewer:
        declaration_decide(declaration=four, actor=org.manager, reason="r", measures=[duties])
    with CaptureQueriesContext(connection) as more:
        declaration_decide(
            declaration=five, actor=org.manager, reason="r", measures=[duties, spec, duties] * 2
        )
    assert len(more) == len(fewer)
