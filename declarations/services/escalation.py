"""The sweep that escalates missed deadlines (DESIGN.md §3, rule R4: 003 cl. 9).

Each missed clock is one step through the shape every audited write takes
(``steps.declaration_transition``), with the system as the actor: the declaration locked, one
``deadline.missed`` event naming who was due to act, the stored clocks recomputed, the people
told through the outbox. An escalated deadline is an audit event, so the sweep is safe to run
any number of times.
"""

from __future__ import annotations

from datetime import datetime

from django.utils.translation import gettext as _

from declarations import selectors
from declarations.choices import AuditAction, Clock, DeadlineOutcome, NotificationKind, Role
from declarations.models import Deadline, Declaration
from declarations.services.deadlines import RunningClock, compute_due_at, running_clocks
from declarations.services.steps import declaration_transition


class _AlreadyEscalated(Exception):
    """Another sweep escalated the clock first: the step is rolled back, nothing written."""


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


def _mark_escalated(declaration: Declaration, clock: RunningClock, at: datetime) -> None:
    """The stored clock (issue 14) says when it was escalated; it keeps running until done."""
    stored = Deadline.objects.filter(
        declaration=declaration,
        clock=clock.clock,
        due_at=clock.due_at,
        outcome=DeadlineOutcome.RUNNING,
        escalated_at__isnull=True,
    )
    if clock.measure_code:
        stored = stored.filter(measure__code=clock.measure_code)
    else:
        stored = stored.filter(measure__isnull=True)
    stored.update(escalated_at=at)


def _next_missed(declaration: Declaration, now: datetime) -> RunningClock | None:
    """The earliest running clock of ``declaration`` that has passed and is not yet escalated."""
    escalated = selectors.escalated_clocks(declaration)
    missed = [
        clock
        for clock in running_clocks(declaration, declaration.measures.all())
        if clock.due_at <= now and clock.key not in escalated
    ]
    return min(missed, key=lambda clock: clock.due_at, default=None)


def declaration_escalate_missed(*, declaration_id: int, now: datetime) -> int:
    """Record and announce every missed, not yet escalated deadline of one declaration, one step
    each. Returns the number of deadlines escalated."""
    declaration = Declaration.objects.select_related("body", "declarant").get(pk=declaration_id)
    count = 0
    while _next_missed(declaration, now) is not None:
        try:
            with declaration_transition(
                declaration=declaration,
                actor=None,
                name=None,
                what=_("escalate a missed deadline"),
                expect_state=False,
            ) as step:
                clock = _next_missed(step.declaration, now)  # again, under the lock
                if clock is None:
                    raise _AlreadyEscalated
                due_to_act, told = _responsible(step.declaration, clock.clock)
                step.action = AuditAction.DEADLINE_MISSED
                step.legal_topics.append("deadline")
                step.data = {
                    "clock": clock.clock,
                    "measure": clock.measure_code,
                    "due_at": clock.key[2],
                    "due_to_act": due_to_act,
                }
                step.notify(NotificationKind.DEADLINE_MISSED, told, clock=clock.clock)
                _mark_escalated(step.declaration, clock, step.at)
        except _AlreadyEscalated:
            break
        count += 1
    if not count:  # picked for a stale escalation_at: only the stored clocks are put right
        due_at, escalation_at = compute_due_at(
            declaration=declaration,
            measures=declaration.measures.all(),
            escalated=selectors.escalated_clocks(declaration),
        )
        Declaration.objects.filter(pk=declaration.pk).update(
            due_at=due_at, escalation_at=escalation_at
        )
    return count


def declarations_process_deadlines(*, now: datetime) -> int:
    """The sweep: one indexed query for the due declarations, then the same service per
    declaration."""
    due_ids = list(Declaration.objects.filter(escalation_at__lte=now).values_list("pk", flat=True))
    return sum(declaration_escalate_missed(declaration_id=pk, now=now) for pk in due_ids)
