"""Builds an organisation with personas, and drives declarations to any state through the
services."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from django.utils import timezone

from declarations.choices import Category, ConflictType, DeclarationState, MeasureKind, Role
from declarations.models import Declaration, Measure, Position, Servant, StateBody
from declarations.services.decisions import MeasureSpec, declaration_decide
from declarations.services.declarations import declaration_create
from declarations.services.transitions import (
    declaration_find_no_conflict,
    declaration_open_from_source,
    declaration_start_review,
    declaration_submit,
    declaration_withdraw,
)
from tests.factories import (
    PositionFactory,
    RoleGrantFactory,
    ServantFactory,
    UnitFactory,
    UserFactory,
)

S = DeclarationState


@dataclass
class Org:
    """One state body with every persona, and a second body for the outsider.

    servant, servant2 -- servants in the department; ``manager`` is their direct superior
    manager          -- head of the department (reviews their notices)
    other_manager    -- head of a sibling department: no authority over servant's declarations
    head             -- head of the body, management grant
    ethics           -- ethics commissioner of the body
    hr               -- HR officer of the body
    auditor          -- auditor granted this body (read-only)
    outsider         -- servant of another body, with management rights there only
    admin            -- superuser (system operator): decides nothing
    """

    body: StateBody
    users: dict[str, Any]
    servants: dict[str, Servant]
    vacancies: list[Position] = field(default_factory=list)

    def __getattr__(self, name: str) -> Any:
        try:
            return self.__dict__["users"][name]
        except KeyError:
            raise AttributeError(name) from None


def build_org() -> Org:
    leadership = UnitFactory(name="Leadership")
    body = leadership.body
    dept = UnitFactory(body=body, parent=leadership, name="Procurement")
    sibling = UnitFactory(body=body, parent=leadership, name="Legal")
    posts = {
        "head": PositionFactory(unit=leadership, is_head=True, title="Chairman"),
        "ethics": PositionFactory(unit=leadership, title="Ethics commissioner"),
        "hr": PositionFactory(unit=leadership, title="HR officer"),
        "manager": PositionFactory(unit=dept, is_head=True, title="Director"),
        "servant": PositionFactory(unit=dept, title="Chief expert"),
        "servant2": PositionFactory(unit=dept, title="Leading expert"),
        "other_manager": PositionFactory(unit=sibling, is_head=True, title="Legal director"),
    }
    users: dict[str, Any] = {}
    servants: dict[str, Servant] = {}
    for name, post in posts.items():
        servant = ServantFactory(position=post, user__username=f"{name}-{body.slug}")
        users[name] = servant.user
        servants[name] = servant
    users["auditor"] = UserFactory(username=f"auditor-{body.slug}")
    users["admin"] = UserFactory(username=f"admin-{body.slug}", is_superuser=True, is_staff=True)
    outsider = ServantFactory(user__username=f"outsider-{body.slug}")
    users["outsider"] = outsider.user
    RoleGrantFactory(user=outsider.user, body=outsider.body, role=Role.MANAGEMENT)
    for name, role in (
        ("head", Role.MANAGEMENT),
        ("ethics", Role.ETHICS_COMMISSIONER),
        ("hr", Role.HR),
        ("auditor", Role.AUDITOR),
    ):
        RoleGrantFactory(user=users[name], body=body, role=role)
    vacancies = [PositionFactory(unit=dept, title=f"Vacant {i}") for i in range(3)]
    return Org(body=body, users=users, servants=servants, vacancies=vacancies)


def new_draft(org: Org, who: str = "servant", **kw: Any) -> Declaration:
    values: dict[str, Any] = {
        "conflict_type": ConflictType.ACTUAL,
        "category": Category.KINSHIP,
        "matter": "Tender 42",
        "personal_interest": "My brother bids.",
        "aware_since": timezone.localdate() - timedelta(days=1),
    }
    values.update(kw)
    return declaration_create(actor=org.users[who], **values)


def opened_declaration(org: Org, opener: str = "ethics", **kw: Any) -> Declaration:
    """A declaration about ``servant`` opened by ``opener`` on information from other sources."""
    values: dict[str, Any] = {
        "declarant": org.servants["servant"],
        "category": Category.PROPERTY,
        "matter": "Lease",
        "personal_interest": "Co-owner of the lessor",
        "aware_since": timezone.localdate(),
        "source_description": "A letter",
    }
    values.update(kw)
    return declaration_open_from_source(actor=org.users[opener], **values)


def transfer(org: Org, index: int = 0) -> MeasureSpec:
    return MeasureSpec(
        kind=MeasureKind.TRANSFER,
        position=org.vacancies[index],
        proposed_date=timezone.localdate() + timedelta(days=10),
    )


def declaration_in(org: Org, state: str, who: str = "servant") -> Declaration:
    """A declaration of ``who`` brought to ``state`` the way users would bring it there."""
    declaration = new_draft(org, who)
    if state == S.DRAFT:
        return declaration
    declaration_submit(declaration=declaration, actor=org.users[who])
    if state == S.SUBMITTED:
        return declaration
    if state == S.WITHDRAWN:
        declaration_withdraw(declaration=declaration, actor=org.users[who], reason="Mistake")
        return declaration
    declaration_start_review(declaration=declaration, actor=org.manager)
    if state == S.IN_REVIEW:
        return declaration
    if state == S.NO_CONFLICT:
        declaration_find_no_conflict(declaration=declaration, actor=org.manager, reason="None")
        return declaration
    if state == S.RESOLVED:
        declaration_decide(
            declaration=declaration,
            actor=org.manager,
            reason="Divest",
            measures=[MeasureSpec(kind=MeasureKind.OTHER, description="Sell the shares")],
        )
        return declaration
    if state == S.AWAITING_CONSENT:
        declaration_decide(
            declaration=declaration, actor=org.manager, reason="Move", measures=[transfer(org)]
        )
        return declaration
    if state == S.IMPLEMENTING:
        declaration_decide(
            declaration=declaration,
            actor=org.manager,
            reason="Duties",
            measures=[
                MeasureSpec(
                    kind=MeasureKind.CHANGE_DUTIES,
                    description="No procurement files",
                    effective_date=timezone.localdate(),
                )
            ],
        )
        return declaration
    raise ValueError(state)


def pending_measure(declaration: Declaration) -> Measure:
    return declaration.measures.filter(state__in=["pending_consent", "pending_order"]).get()
