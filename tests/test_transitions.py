"""Every transition × every persona: allowed exactly where DESIGN.md §1/§3 say, refused elsewhere
with the state and the audit trail unchanged."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.template import Context, Template
from django.utils import timezone
from django_fsm import TransitionNotAllowed

from declarations.choices import AuditAction, DeclarationState, MeasureKind, Origin
from declarations.models import AuditEvent, Declaration
from declarations.services.decisions import MeasureSpec, declaration_decide
from declarations.services.declarations import declaration_add_addendum, declaration_comment
from declarations.services.measures import measure_consent, measure_implement
from declarations.services.transitions import (
    declaration_find_no_conflict,
    declaration_reassign_reviewer,
    declaration_start_review,
    declaration_submit,
    declaration_withdraw,
)
from tests.builders import Org, declaration_in, opened_declaration, pending_measure

S = DeclarationState
PERSONAS = [
    "servant",
    "servant2",
    "manager",
    "other_manager",
    "head",
    "ethics",
    "hr",
    "auditor",
    "outsider",
    "admin",
]

Action = Callable[[Org, Declaration, Any], Any]


def _decide(org: Org, declaration: Declaration, actor: Any) -> Any:
    return declaration_decide(
        declaration=declaration,
        actor=actor,
        reason="Because",
        measures=[MeasureSpec(kind=MeasureKind.REASSIGN, substitute=org.servants["servant2"])],
    )


ACTIONS: dict[str, tuple[str, Action, set[str]]] = {
    # name: (source state, the call, personas allowed)
    "submit": (S.DRAFT, lambda o, c, a: declaration_submit(declaration=c, actor=a), {"servant"}),
    "start_review": (
        S.SUBMITTED,
        lambda o, c, a: declaration_start_review(declaration=c, actor=a),
        {"manager"},
    ),
    "decide": (S.IN_REVIEW, _decide, {"manager"}),
    "find_no_conflict": (
        S.IN_REVIEW,
        lambda o, c, a: declaration_find_no_conflict(declaration=c, actor=a, reason="None"),
        {"manager"},
    ),
    "withdraw_submitted": (
        S.SUBMITTED,
        lambda o, c, a: declaration_withdraw(declaration=c, actor=a, reason="Mistake"),
        {"servant"},
    ),
    "withdraw_in_review": (
        S.IN_REVIEW,
        lambda o, c, a: declaration_withdraw(declaration=c, actor=a, reason="Mistake"),
        {"servant"},
    ),
    "consent_accept": (
        S.AWAITING_CONSENT,
        lambda o, c, a: measure_consent(measure=pending_measure(c), actor=a, decision="accept"),
        {"servant"},
    ),
    "consent_decline": (
        S.AWAITING_CONSENT,
        lambda o, c, a: measure_consent(
            measure=pending_measure(c), actor=a, decision="decline", reason="Family"
        ),
        {"servant"},
    ),
    "implement": (
        S.IMPLEMENTING,
        lambda o, c, a: measure_implement(
            measure=pending_measure(c),
            actor=a,
            order_number="12-к",
            order_date=timezone.localdate(),
        ),
        {"hr"},
    ),
    "reassign_reviewer": (
        S.IN_REVIEW,
        lambda o, c, a: declaration_reassign_reviewer(
            declaration=c, actor=a, reviewer=o.other_manager, reason="Manager on leave"
        ),
        {"head"},
    ),
    "comment": (
        S.IN_REVIEW,
        lambda o, c, a: declaration_comment(declaration=c, actor=a, text="Noted"),
        {"manager", "head", "ethics"},
    ),
    "addendum": (
        S.IN_REVIEW,
        lambda o, c, a: declaration_add_addendum(declaration=c, actor=a, text="Also my uncle"),
        {"servant"},
    ),
}
TARGET = {
    "submit": S.SUBMITTED,
    "start_review": S.IN_REVIEW,
    "decide": S.RESOLVED,
    "find_no_conflict": S.NO_CONFLICT,
    "withdraw_submitted": S.WITHDRAWN,
    "withdraw_in_review": S.WITHDRAWN,
    "consent_accept": S.IMPLEMENTING,
    "consent_decline": S.IN_REVIEW,
    "implement": S.RESOLVED,
    "reassign_reviewer": S.IN_REVIEW,
    "comment": S.IN_REVIEW,
    "addendum": S.IN_REVIEW,
}


def _snapshot(declaration: Declaration) -> tuple[str, int, list[str]]:
    fresh = Declaration.objects.get(pk=declaration.pk)
    return (
        fresh.state,
        AuditEvent.objects.filter(declaration=declaration).count(),
        sorted(fresh.measures.values_list("state", flat=True)),
    )


@pytest.mark.parametrize("persona", PERSONAS)
@pytest.mark.parametrize("action", list(ACTIONS))
def test_transition_by_persona(org: Org, action: str, persona: str) -> None:
    source, call, allowed = ACTIONS[action]
    declaration = declaration_in(org, source)
    before = _snapshot(declaration)
    actor = org.users[persona]
    if persona in allowed:
        call(org, declaration, actor)
        state, events, _m = _snapshot(declaration)
        assert state == TARGET[action]
        assert events == before[1] + 1, "exactly one audit event per successful step"
    else:
        with pytest.raises(PermissionDenied):
            call(org, declaration, actor)
        assert _snapshot(declaration) == before, "a refusal changes nothing"


WRONG_STATES = [S.DRAFT, S.SUBMITTED, S.IN_REVIEW, S.RESOLVED, S.NO_CONFLICT, S.WITHDRAWN]


ALL_STATES = [*WRONG_STATES, S.AWAITING_CONSENT, S.IMPLEMENTING]
LEGAL_SOURCES = {"withdraw_submitted": {S.SUBMITTED, S.IN_REVIEW}}
WRONG_STATE_DECLARATIONS = [
    (action, state)
    for action in ["submit", "start_review", "decide", "find_no_conflict", "withdraw_submitted"]
    for state in ALL_STATES
    if state not in LEGAL_SOURCES.get(action, {ACTIONS[action][0]})
]


@pytest.mark.parametrize(("action", "state"), WRONG_STATE_DECLARATIONS)
def test_transition_from_wrong_state_is_refused(org: Org, action: str, state: str) -> None:
    _source, call, allowed = ACTIONS[action]
    declaration = declaration_in(org, state)
    before = _snapshot(declaration)
    actor = org.users[next(iter(allowed))]
    with pytest.raises(TransitionNotAllowed):
        call(org, declaration, actor)
    assert _snapshot(declaration) == before


def test_withdraw_after_a_decision_is_refused(org: Org) -> None:
    """ "Before any decision" (DESIGN.md §3): a declined transfer sends the declaration back to
    review, but the servant can no longer withdraw it."""
    declaration = declaration_in(org, S.AWAITING_CONSENT)
    measure_consent(
        measure=pending_measure(declaration), actor=org.servant, decision="decline", reason="No"
    )
    assert declaration.state == S.IN_REVIEW
    before = _snapshot(declaration)
    with pytest.raises(TransitionNotAllowed):
        declaration_withdraw(declaration=declaration, actor=org.servant, reason="Changed my mind")
    assert _snapshot(declaration) == before


def test_measure_transitions_from_wrong_state_are_refused(org: Org) -> None:
    declaration = declaration_in(org, S.IMPLEMENTING)
    measure = pending_measure(declaration)
    before = _snapshot(declaration)
    with pytest.raises(TransitionNotAllowed):
        measure_consent(measure=measure, actor=org.servant, decision="accept")
    assert _snapshot(declaration) == before
    measure_implement(
        measure=measure, actor=org.hr, order_number="1", order_date=timezone.localdate()
    )
    with pytest.raises(TransitionNotAllowed):
        measure_implement(
            measure=measure, actor=org.hr, order_number="2", order_date=timezone.localdate()
        )


@pytest.mark.parametrize("persona", PERSONAS)
def test_open_from_source_by_persona(org: Org, persona: str) -> None:
    """003 cl. 8 p.2: the direct superior or management, on information from other sources; the
    ethics commissioner registers such declarations too."""
    allowed = {"manager", "head", "ethics"}
    count = Declaration.objects.count()

    def call() -> Declaration:
        return opened_declaration(org, persona)

    if persona in allowed:
        declaration = call()
        assert declaration.state == S.SUBMITTED and declaration.origin == Origin.OTHER_SOURCE
        assert declaration.opened_by == org.users[persona]
        assert [e.action for e in declaration.events.all()] == [AuditAction.DECLARATION_OPENED]
        assert declaration.notifications.filter(
            recipient=org.servant, kind="declaration_opened_about_you"
        ).exists()
    else:
        with pytest.raises(PermissionDenied):
            call()
        assert Declaration.objects.count() == count


def test_servant_cannot_withdraw_a_case_opened_about_them(org: Org) -> None:
    declaration = opened_declaration(org, source_description="Hotline", source_confidential=True)
    with pytest.raises(PermissionDenied):
        declaration_withdraw(declaration=declaration, actor=org.servant, reason="Not true")


def test_notice_to_management_is_reviewed_by_management(org: Org) -> None:
    """When the direct manager is a party, the servant writes to management (003 cl. 8 p.1)."""
    declaration = declaration_in(org, S.DRAFT)
    declaration.addressee = "management"
    declaration.save()
    declaration_submit(declaration=declaration, actor=org.servant)
    assert declaration.reviewer_id is None
    with pytest.raises(PermissionDenied):
        declaration_start_review(declaration=declaration, actor=org.manager)
    declaration_start_review(declaration=declaration, actor=org.head)
    assert declaration.reviewer_id == org.head.pk


def test_management_takes_over_then_decides(org: Org) -> None:
    declaration = declaration_in(org, S.SUBMITTED)
    declaration_reassign_reviewer(
        declaration=declaration, actor=org.head, reviewer=org.head, reason="Overdue: taken over"
    )
    declaration_start_review(declaration=declaration, actor=org.head)
    with pytest.raises(PermissionDenied):
        _decide(org, declaration, org.manager)  # no longer the reviewer
    _decide(org, declaration, org.head)
    assert declaration.state == S.RESOLVED


def test_reassign_to_the_declarant_is_refused(org: Org) -> None:
    declaration = declaration_in(org, S.IN_REVIEW)
    with pytest.raises(ValidationError) as exc:
        declaration_reassign_reviewer(
            declaration=declaration, actor=org.head, reviewer=org.servant, reason="x"
        )
    assert "reviewer" in exc.value.message_dict


def test_stale_copy_gets_a_conflict(org: Org) -> None:
    """A caller whose copy is out of date loses the race: ConcurrentTransition, nothing written."""
    from django_fsm import ConcurrentTransition

    declaration = declaration_in(org, S.SUBMITTED)
    stale = Declaration.objects.get(pk=declaration.pk)
    declaration_withdraw(declaration=declaration, actor=org.servant, reason="Mistake")
    before = _snapshot(declaration)
    with pytest.raises(ConcurrentTransition):
        declaration_start_review(declaration=stale, actor=org.manager)
    assert _snapshot(declaration) == before


def test_state_cannot_be_assigned_directly(org: Org) -> None:
    declaration = declaration_in(org, S.SUBMITTED)
    with pytest.raises(AttributeError):
        declaration.state = S.RESOLVED


def test_templates_cannot_run_transitions(org: Org) -> None:
    """``alters_data`` (STYLE.md rule 10): a template that names a transition renders nothing."""
    declaration = declaration_in(org, S.DRAFT)
    names = ["submit", "start_review", "decide", "find_no_conflict", "withdraw", "complete"]
    html = Template("".join(f"{{{{ d.{n} }}}}" for n in names)).render(Context({"d": declaration}))
    assert html == ""
    assert Declaration.objects.get(pk=declaration.pk).state == S.DRAFT


def test_transitions_record_their_legal_basis(org: Org) -> None:
    declaration = declaration_in(org, S.SUBMITTED)
    event = declaration.events.get()
    keys = [b["key"] for b in event.data["legal_basis"]]
    assert "akimat-2013-cl8-p1" in keys and "law-410v-art15-p2" in keys
    assert "akimat-2013-cl6" in keys  # the recusal starts (003 cl. 6)


def test_decline_then_change_duties_then_order(org: Org) -> None:
    """Transfer declined → back to review → change of duties → HR order → resolved."""
    declaration = declaration_in(org, S.AWAITING_CONSENT)
    assert declaration.recusal_active
    measure_consent(
        measure=pending_measure(declaration), actor=org.servant, decision="decline", reason="No"
    )
    assert declaration.state == S.IN_REVIEW
    declaration_decide(
        declaration=declaration,
        actor=org.manager,
        reason="Change duties instead",
        measures=[
            MeasureSpec(
                kind=MeasureKind.CHANGE_DUTIES,
                description="No procurement files",
                effective_date=timezone.localdate() + timedelta(days=1),
            )
        ],
    )
    assert declaration.state == S.IMPLEMENTING
    measure_implement(
        measure=pending_measure(declaration),
        actor=org.hr,
        order_number="7",
        order_date=timezone.localdate(),
    )
    declaration.refresh_from_db()
    assert declaration.state == S.RESOLVED and not declaration.recusal_active
    assert [e.action for e in declaration.events.order_by("seq")][-3:] == [
        AuditAction.CONSENT_DECLINED,
        AuditAction.DECIDED,
        AuditAction.MEASURE_IMPLEMENTED,
    ]


def test_accepted_transfer_moves_the_servant(org: Org) -> None:
    declaration = declaration_in(org, S.AWAITING_CONSENT)
    measure = pending_measure(declaration)
    measure_consent(measure=measure, actor=org.servant, decision="accept")
    assert declaration.state == S.IMPLEMENTING
    measure_implement(
        measure=measure, actor=org.hr, order_number="9-к", order_date=timezone.localdate()
    )
    declaration.refresh_from_db()
    assert declaration.state == S.RESOLVED
    assert (
        org.servants["servant"].__class__.objects.get(pk=org.servants["servant"].pk).position
        == org.vacancies[0]
    )


def test_decision_cites_each_reference_once(org: Org) -> None:
    declaration = declaration_in(org, S.IN_REVIEW)
    _decide(org, declaration, org.manager)
    keys = [
        b["key"] for b in declaration.events.get(action=AuditAction.DECIDED).data["legal_basis"]
    ]
    assert len(keys) == len(set(keys))
    assert {"akimat-2013-cl8-p2", "akimat-2013-cl8-p2-1", "law-410v-art15-p3"} <= set(keys)
