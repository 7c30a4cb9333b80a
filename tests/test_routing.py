"""The head's own notice (issue 12): when the head of the body is the whole of its management,
nobody there may review their conflict, so the notice goes to the official of the superior body
that the body's settings name, else to the body's ethics commissioner (Law 410-V Art. 15 p.2;
Code of Ethics cl. 10(2)) — and it can be resolved."""

from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError

from declarations.choices import Addressee, DeclarationState, MeasureKind, Role
from declarations.models import AuditEvent, Declaration, RoleGrant
from declarations.services.decisions import MeasureSpec, declaration_decide
from declarations.services.transitions import declaration_start_review, declaration_submit
from tests.api import act, client_for, declaration_url, ok
from tests.builders import Org, new_draft
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


def _heads_notice(org: Org) -> Declaration:
    declaration = new_draft(org, "head", addressee=Addressee.MANAGEMENT)
    declaration_submit(declaration=declaration, actor=org.head)
    declaration.refresh_from_db()
    return declaration


def test_the_heads_own_notice_goes_to_the_ethics_commissioner_and_is_resolved(org: Org) -> None:
    declaration = _heads_notice(org)
    assert declaration.reviewer_id == org.ethics.pk
    event = AuditEvent.objects.get(declaration=declaration, action="declaration.submitted")
    assert "code-2015-cl10-2" in {ref["key"] for ref in event.data["legal_basis"]}
    # the head neither reviews nor hands over their own declaration
    head = client_for(org.head)
    assert (
        act(head.post, declaration_url(declaration, "start-review"), {}, format="json").status_code
        == 403
    )
    reassign = {"reviewer": str(org.head.pk), "reason": "Mine"}
    assert act(
        head.post, declaration_url(declaration, "reassign-reviewer"), reassign, format="json"
    ).status_code in (
        400,
        403,
    )
    # the reviewer sees it in their list and acts on it through the API
    api = client_for(org.ethics)
    listed = ok(api.get("/api/v1/declarations/"))["results"]
    assert str(declaration.code) in {row["id"] for row in listed}
    ok(act(api.post, declaration_url(declaration, "start-review"), {}, format="json"))
    ok(
        act(
            api.post,
            declaration_url(declaration, "decide"),
            {"reason": "Divest", "measures": [{"kind": "other", "description": "Sell shares"}]},
            format="json",
        )
    )
    declaration.refresh_from_db()
    assert declaration.state == DeclarationState.RESOLVED


def test_a_reviewer_named_in_the_superior_body_comes_first(org: Org) -> None:
    official = UserFactory(username="ministry-official")
    org.body.head_notice_reviewer = official
    org.body.save()
    declaration = _heads_notice(org)
    assert declaration.reviewer_id == official.pk
    declaration_start_review(declaration=declaration, actor=official)
    declaration_decide(
        declaration=declaration,
        actor=official,
        reason="Divest",
        measures=[MeasureSpec(kind=MeasureKind.OTHER, description="Sell the shares")],
    )
    declaration.refresh_from_db()
    assert declaration.state == DeclarationState.RESOLVED
    assert client_for(official).get(declaration_url(declaration)).status_code == 200


def test_with_a_deputy_in_management_the_notice_waits_for_management(org: Org) -> None:
    RoleGrant.objects.create(user=org.other_manager, body=org.body, role=Role.MANAGEMENT)
    declaration = _heads_notice(org)
    assert declaration.reviewer_id is None
    declaration_start_review(declaration=declaration, actor=org.other_manager)
    declaration.refresh_from_db()
    assert declaration.reviewer_id == org.other_manager.pk


def test_with_nobody_to_review_it_the_notice_is_refused_with_the_reason(org: Org) -> None:
    RoleGrant.objects.filter(role=Role.ETHICS_COMMISSIONER).delete()
    declaration = new_draft(org, "head", addressee=Addressee.MANAGEMENT)
    with pytest.raises(ValidationError) as refused:
        declaration_submit(declaration=declaration, actor=org.head)
    assert "addressee" in refused.value.message_dict
    declaration.refresh_from_db()
    assert declaration.state == DeclarationState.DRAFT


def test_the_ethics_commissioners_own_notice_to_management_goes_to_management(org: Org) -> None:
    declaration = new_draft(org, "ethics", addressee=Addressee.MANAGEMENT)
    declaration_submit(declaration=declaration, actor=org.ethics)
    declaration.refresh_from_db()
    assert declaration.reviewer_id is None  # the head picks it up
    declaration_start_review(declaration=declaration, actor=org.head)
