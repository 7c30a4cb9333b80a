"""Scoping: nothing outside a caller's scope is visible (DESIGN.md non-negotiables)."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import AnonymousUser

from declarations import permissions
from declarations.choices import DeclarationState, MeasureKind
from declarations.selectors import declaration_list_visible_to
from declarations.services.decisions import MeasureSpec, declaration_decide
from tests.builders import Org, declaration_in, opened_declaration

S = DeclarationState


@pytest.fixture
def declarations(org: Org) -> dict[str, object]:
    return {
        "draft": declaration_in(org, S.DRAFT),
        "submitted": declaration_in(org, S.SUBMITTED),
        "other_draft": declaration_in(org, S.DRAFT, who="servant2"),
        "other_submitted": declaration_in(org, S.SUBMITTED, who="servant2"),
        "implementing": declaration_in(org, S.IMPLEMENTING, who="servant2"),
    }


EXPECTED = {
    "servant": {"draft", "submitted"},
    "servant2": {"other_draft", "other_submitted", "implementing"},
    "manager": {"submitted", "other_submitted", "implementing"},
    "other_manager": set(),
    "head": {"submitted", "other_submitted", "implementing"},
    "ethics": {"submitted", "other_submitted", "implementing"},
    "auditor": {"submitted", "other_submitted", "implementing"},
    "hr": {"implementing"},
    "outsider": set(),
    "admin": set(),
}


@pytest.mark.parametrize("persona", list(EXPECTED))
def test_each_persona_sees_exactly_their_scope(
    org: Org, declarations: dict[str, object], persona: str
) -> None:
    user = org.users[persona]
    visible = set(declaration_list_visible_to(user=user).values_list("pk", flat=True))
    expected = {declarations[name].pk for name in EXPECTED[persona]}  # type: ignore[attr-defined]
    assert visible == expected
    for name, declaration in declarations.items():
        assert permissions.can_view(user, declaration) == (name in EXPECTED[persona]), name


def test_anonymous_sees_nothing(org: Org, declarations: dict[str, object]) -> None:
    assert not declaration_list_visible_to(user=AnonymousUser()).exists()


def test_hr_keeps_seeing_cases_it_acted_on(org: Org) -> None:
    declaration = declaration_in(org, S.IN_REVIEW)
    assert not permissions.can_view(org.hr, declaration)
    declaration_decide(
        declaration=declaration,
        actor=org.manager,
        reason="x",
        measures=[MeasureSpec(kind=MeasureKind.OTHER, description="Sell", needs_order=True)],
    )
    assert permissions.can_view(org.hr, declaration)


def test_confidential_source_is_shown_only_to_ethics_and_auditors(org: Org) -> None:
    declaration = opened_declaration(
        org, source_description="Whistleblower X", source_confidential=True
    )
    see = {
        p
        for p in ("servant", "manager", "head", "ethics", "auditor")
        if permissions.can_see_source(org.users[p], declaration)
    }
    assert see == {"ethics", "auditor"}
    assert permissions.can_view(org.servant, declaration)


def test_roles_of(org: Org) -> None:
    roles = permissions.roles_of(org.manager)
    assert roles == {org.body.pk: {"servant", "manager"}}
    assert permissions.roles_of(org.auditor) == {org.body.pk: {"auditor"}}
