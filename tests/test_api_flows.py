"""Whole lifecycles through the API, one test per path of DESIGN.md §3."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from declarations.choices import DeclarationState, MeasureState
from declarations.models import AuditEvent, Declaration
from tests.api import BASE, act, client_for, declaration_url, measure_url, ok

S = DeclarationState
pytestmark = pytest.mark.django_db

NOTICE = {
    "conflict_type": "actual",
    "category": "kinship",
    "matter": "Tender 42 for school meals",
    "personal_interest": "My brother's firm bids.",
    "related_persons": "A. Brother",
    "addressee": "manager",
}


def notice(**kw):
    return {**NOTICE, "aware_since": str(timezone.localdate() - timedelta(days=2)), **kw}


def filed(org):
    """The servant drafts and submits a notice; the manager starts the review."""
    servant = client_for(org.servant)
    draft = ok(servant.post(f"{BASE}/declarations/", notice(), format="json"), 201)
    assert draft["state"] == S.DRAFT
    assert {"edit", "discard", "submit", "attachments"} <= set(draft["allowed_actions"])
    declaration = Declaration.objects.get(code=draft["id"])
    body = ok(act(servant.post, declaration_url(declaration, "submit")))
    assert body["state"] == S.SUBMITTED
    assert body["registration_number"]
    assert body["recusal_active"] is True
    assert body["reviewer"]["id"] == str(org.servants["manager"].code)
    manager = client_for(org.manager)
    assert "start-review" in ok(manager.get(declaration_url(declaration)))["allowed_actions"]
    assert (
        ok(act(manager.post, declaration_url(declaration, "start-review")))["state"] == S.IN_REVIEW
    )
    return declaration, servant, manager


def test_reassign_the_matter(org):
    declaration, servant, manager = filed(org)
    substitute = org.servants["servant2"]
    body = ok(
        act(
            manager.post,
            declaration_url(declaration, "decide"),
            {
                "reason": "Hand it over",
                "measures": [{"kind": "reassign", "substitute": str(substitute.code)}],
            },
            format="json",
        )
    )
    assert body["state"] == S.RESOLVED
    assert body["recusal_active"] is False
    measures = ok(servant.get(declaration_url(declaration, "measures")))
    assert measures[0]["substitute"]["id"] == str(substitute.code)
    assert measures[0]["matter"] == NOTICE["matter"]
    events = ok(servant.get(declaration_url(declaration, "events")))
    assert [e["action"] for e in events] == [
        "declaration.submitted",
        "declaration.review_started",
        "declaration.decided",
    ]
    assert events[1]["prev_hash"] == events[0]["hash"]


def test_transfer_accepted_then_order(org):
    declaration, servant, manager = filed(org)
    vacancy = ok(manager.get(f"{BASE}/positions/", {"vacant": "true"}))["results"][0]
    ok(
        act(
            manager.post,
            declaration_url(declaration, "decide"),
            {
                "reason": "Move",
                "measures": [
                    {
                        "kind": "transfer",
                        "position": vacancy["id"],
                        "proposed_date": str(timezone.localdate() + timedelta(days=7)),
                    }
                ],
            },
            format="json",
        )
    )
    measure = declaration.measures.get()
    body = ok(
        act(servant.post, measure_url(measure, "consent"), {"decision": "accept"}, format="json")
    )
    assert body["state"] == MeasureState.PENDING_ORDER
    hr = client_for(org.hr)
    waiting = ok(hr.get(f"{BASE}/measures/", {"state": "pending_order"}))["results"]
    assert [m["id"] for m in waiting] == [str(measure.code)]
    body = ok(
        act(
            hr.post,
            measure_url(measure, "implement"),
            {"order_number": "12-k", "order_date": str(timezone.localdate())},
            format="json",
        )
    )
    assert body["state"] == MeasureState.DONE
    assert ok(servant.get(declaration_url(declaration)))["state"] == S.RESOLVED
    org.servants["servant"].refresh_from_db()
    assert str(org.servants["servant"].position.code) == vacancy["id"]


def test_transfer_declined_then_change_duties_with_hr(org):
    declaration, servant, manager = filed(org)
    vacancy = org.vacancies[0]
    ok(
        act(
            manager.post,
            declaration_url(declaration, "decide"),
            {
                "reason": "Move",
                "measures": [
                    {
                        "kind": "transfer",
                        "position": str(vacancy.code),
                        "proposed_date": str(timezone.localdate()),
                    }
                ],
            },
            format="json",
        )
    )
    measure = declaration.measures.get()
    declined = act(
        servant.post, measure_url(measure, "consent"), {"decision": "decline"}, format="json"
    )
    assert ok(declined, 400)["fields"] == {"reason": ["Say why you decline the transfer."]}
    ok(
        act(
            servant.post,
            measure_url(measure, "consent"),
            {"decision": "decline", "reason": "Family"},
            format="json",
        )
    )
    assert ok(manager.get(declaration_url(declaration)))["state"] == S.IN_REVIEW
    ok(
        act(
            manager.post,
            declaration_url(declaration, "decide"),
            {
                "reason": "Duties instead",
                "measures": [
                    {
                        "kind": "change_duties",
                        "description": "No tenders",
                        "effective_date": str(timezone.localdate()),
                    }
                ],
            },
            format="json",
        )
    )
    assert ok(manager.get(declaration_url(declaration)))["state"] == S.IMPLEMENTING
    second = declaration.measures.get(state=MeasureState.PENDING_ORDER)
    ok(
        act(
            client_for(org.hr).post,
            measure_url(second, "implement"),
            {"order_number": "7", "order_date": str(timezone.localdate())},
            format="json",
        )
    )
    assert ok(servant.get(declaration_url(declaration)))["state"] == S.RESOLVED


def test_other_measure(org):
    declaration, _servant, manager = filed(org)
    body = ok(
        act(
            manager.post,
            declaration_url(declaration, "decide"),
            {"reason": "Divest", "measures": [{"kind": "other", "description": "Sell the shares"}]},
            format="json",
        )
    )
    assert body["state"] == S.RESOLVED


def test_no_conflict(org):
    declaration, servant, manager = filed(org)
    ok(
        act(
            manager.post,
            declaration_url(declaration, "no-conflict"),
            {"reason": "Not related"},
            format="json",
        )
    )
    assert ok(servant.get(declaration_url(declaration)))["state"] == S.NO_CONFLICT


def test_withdraw(org):
    servant = client_for(org.servant)
    draft = ok(servant.post(f"{BASE}/declarations/", notice(), format="json"), 201)
    declaration = Declaration.objects.get(code=draft["id"])
    ok(act(servant.post, declaration_url(declaration, "submit")))
    body = ok(
        act(
            servant.post,
            declaration_url(declaration, "withdraw"),
            {"reason": "Filed twice"},
            format="json",
        )
    )
    assert body["state"] == S.WITHDRAWN
    assert body["closing_reason"] == "Filed twice"


def test_reassign_reviewer_by_management(org):
    declaration, _servant, manager = filed(org)
    head = client_for(org.head)
    body = ok(
        act(
            head.post,
            declaration_url(declaration, "reassign-reviewer"),
            {"reviewer": str(org.servants["head"].code), "reason": "Manager is away"},
            format="json",
        )
    )
    assert body["reviewer"]["id"] == str(org.servants["head"].code)
    assert manager.get(declaration_url(declaration)).status_code == 404  # no longer theirs to see
    ok(
        act(
            head.post,
            declaration_url(declaration, "no-conflict"),
            {"reason": "Checked"},
            format="json",
        )
    )


def test_other_source_with_confidential_source(org):
    ethics = client_for(org.ethics)
    created = ok(
        ethics.post(
            f"{BASE}/declarations/",
            notice(
                origin="other_source",
                declarant=str(org.servants["servant"].code),
                source_description="Anonymous letter from a colleague",
                source_confidential=True,
            ),
            format="json",
        ),
        201,
    )
    assert created["state"] == S.SUBMITTED
    assert created["origin"] == "other_source"
    assert created["source"]["description"] == "Anonymous letter from a colleague"
    declaration = Declaration.objects.get(code=created["id"])
    for persona in ("servant", "manager", "head"):
        seen = ok(client_for(org.users[persona]).get(declaration_url(declaration)))
        assert seen["source"]["description"] is None, persona
        assert "Anonymous letter" not in str(seen)
        events = client_for(org.users[persona]).get(declaration_url(declaration, "events"))
        assert "Anonymous letter" not in events.content.decode()
    auditor = ok(client_for(org.auditor).get(declaration_url(declaration)))
    assert auditor["source"]["description"] == "Anonymous letter from a colleague"
    # the servant is told, and the manager takes it from there
    manager = client_for(org.manager)
    ok(act(manager.post, declaration_url(declaration, "start-review")))
    ok(
        act(
            manager.post,
            declaration_url(declaration, "no-conflict"),
            {"reason": "Unfounded"},
            format="json",
        )
    )
    assert AuditEvent.objects.filter(declaration=declaration).count() == 3
