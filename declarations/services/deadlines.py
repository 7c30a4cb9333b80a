"""Deadlines in working days, and the sweep that escalates missed ones (DESIGN.md §3, rule R4)."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime

from django.db import transaction

from declarations import selectors
from declarations.choices import (
    AuditAction,
    Clock,
    DeclarationState,
    MeasureState,
    NotificationKind,
    Role,
)
from declarations.models import Declaration, Measure
from declarations.services.audit import audit_record
from declarations.services.notifications import notification_enqueue

S = DeclarationState


@dataclass(frozen=True)
class RunningClock:
    clock: str
    due_at: datetime
    measure_code: str = ""

    @property
    def key(self) -> tuple[str, str, str]:
        return (self.clock, self.measure_code, self.due_at.astimezone(UTC).isoformat())


def running_clocks(declaration: Declaration, measures: Iterable[Measure]) -> list[RunningClock]:
    """The deadlines running now for a case, from its stored clocks (pure)."""
    clocks: list[RunningClock] = []
    if declaration.state == S.SUBMITTED and declaration.start_review_due_at:
        clocks.append(RunningClock(Clock.START_REVIEW, declaration.start_review_due_at))
    if declaration.state in (S.SUBMITTED, S.IN_REVIEW) and declaration.decision_due_at:
        clocks.append(RunningClock(Clock.DECISION, declaration.decision_due_at))
    if declaration.is_open:
        for m in measures:
            if m.state == MeasureState.PENDING_CONSENT and m.consent_due_at:
                clocks.append(RunningClock(Clock.CONSENT, m.consent_due_at, str(m.code)))
            elif m.state == MeasureState.PENDING_ORDER and m.order_due_at:
                clocks.append(RunningClock(Clock.HR_ORDER, m.order_due_at, str(m.code)))
    return clocks


def compute_due_at(
    *, declaration: Declaration, measures: Iterable[Measure], escalated: set[tuple[str, str, str]]
) -> tuple[datetime | None, datetime | None]:
    """(due_at, escalation_at): the earliest running deadline, and earliest not yet escalated."""
    clocks = running_clocks(declaration, measures)
    due = min((c.due_at for c in clocks), default=None)
    pending = min((c.due_at for c in clocks if c.key not in escalated), default=None)
    return due, pending


def declaration_refresh_deadlines(*, declaration: Declaration) -> None:
    """Recompute ``due_at`` and ``escalation_at`` in memory; the caller saves under its lock."""
    measures = list(declaration.measures.all())
    declaration.due_at, declaration.escalation_at = compute_due_at(
        declaration=declaration,
        measures=measures,
        escalated=selectors.escalated_clocks(declaration),
    )


def _role_ids(declaration: Declaration, role: str) -> list[int | None]:
    return list(selectors.users_with_role(declaration.body_id, role).values_list("pk", flat=True))


def _responsible(declaration: Declaration, clock: str) -> tuple[list[int | None], list[int | None]]:
    """(who was due to act, who is told) for a missed clock (R4: 003 cl. 9)."""
    management = _role_ids(declaration, Role.MANAGEMENT)
    reviewer = declaration.reviewer_id
    if clock == Clock.CONSENT:
        return [declaration.declarant.user_id], [reviewer, *management]
    if clock == Clock.HR_ORDER:
        hr = _role_ids(declaration, Role.HR)
        return hr, [*hr, *management]
    ethics = _role_ids(declaration, Role.ETHICS_COMMISSIONER)
    return ([reviewer] if reviewer else management), [*management, *ethics, reviewer]


def declaration_escalate_missed(*, declaration_id: int, now: datetime) -> int:
    """Record and announce every missed, not yet escalated deadline of one case.

    Safe to run twice: an escalated deadline is an audit event, and is skipped the next time.
    Returns the number of deadlines escalated.
    """
    with transaction.atomic():
        declaration = (
            Declaration.objects.select_for_update(of=("self",))
            .select_related("declarant")
            .get(pk=declaration_id)
        )
        measures = list(declaration.measures.all())
        escalated = selectors.escalated_clocks(declaration)
        count = 0
        for clock in running_clocks(declaration, measures):
            if clock.due_at > now or clock.key in escalated:
                continue
            due_to_act, told = _responsible(declaration, clock.clock)
            audit_record(
                actor=None,
                declaration=declaration,
                action=AuditAction.DEADLINE_MISSED,
                from_state=declaration.state,
                to_state=declaration.state,
                data={
                    "clock": clock.clock,
                    "measure": clock.measure_code,
                    "due_at": clock.key[2],
                    "due_to_act": due_to_act,
                },
                save_head=False,
            )
            notification_enqueue(
                recipient_ids=told,
                kind=NotificationKind.DEADLINE_MISSED,
                declaration=declaration,
                context={"clock": clock.clock},
            )
            escalated.add(clock.key)
            count += 1
        declaration.due_at, declaration.escalation_at = compute_due_at(
            declaration=declaration, measures=measures, escalated=escalated
        )
        Declaration.objects.filter(pk=declaration.pk).update(
            due_at=declaration.due_at,
            escalation_at=declaration.escalation_at,
            audit_seq=declaration.audit_seq,
            audit_head=declaration.audit_head,
        )
        return count


def declarations_process_deadlines(*, now: datetime) -> int:
    """The sweep: one indexed query for the due cases, then the same service per case."""
    due_ids = list(Declaration.objects.filter(escalation_at__lte=now).values_list("pk", flat=True))
    return sum(declaration_escalate_missed(declaration_id=pk, now=now) for pk in due_ids)
