"""Escalating missed deadlines, one level up the structure at a time (DESIGN.md §3, rule R4:
003 cl. 9; issue 16).

A running clock is escalated when its ``escalate_at`` comes: at ``COI_ESCALATION_TIME`` (09:00
Almaty) on the first working day after its due day. The first escalation (``deadline.missed``)
tells the person who missed it, their superior in the structure, the body's management and its
ethics commissioner; while the clock is still missed, every ``StateBody.escalation_step_days``
working days it is escalated again (``deadline.escalated``) to the next superior up, with
management and the ethics commissioner told again, until nobody is left above. A scheduler that
was down escalates each clock once on its return, and counts the next level from then.

Each escalation is one step through the shape every audited write takes
(``steps.declaration_transition``) with the system as the actor: the declaration locked, one
event naming who was due to act and who was told, the people told through the outbox (each
notification keyed by the clock and level, so never twice).
"""

from __future__ import annotations

from datetime import datetime

from django.conf import settings
from django.utils.translation import gettext as _

from declarations import selectors
from declarations.calendar import working_calendar
from declarations.choices import AuditAction, DeadlineOutcome, NotificationKind, Role
from declarations.models import Deadline, Servant
from declarations.services.notifications import notification_enqueue
from declarations.services.reminders import (
    deadline_context,
    due_to_act,
    escalation_after,
    role_holders,
)
from declarations.services.steps import declaration_transition

#: How far up the structure an escalation may climb (a guard against a cycle of overrides).
MAX_LEVELS = 10


class _NotDue(Exception):
    """Another sweep escalated the clock first, or it ended: the step is rolled back."""


def superiors_of(user_id: int | None) -> list[int]:
    """The user's superiors in the structure, nearest first (``direct_manager_of`` repeated)."""
    chain: list[int] = []
    servant = Servant.objects.filter(user_id=user_id, is_active=True).first() if user_id else None
    seen = {servant.pk} if servant else set()
    while servant is not None and len(chain) < MAX_LEVELS:
        servant = selectors.direct_manager_of(servant)
        if servant is None or servant.pk in seen:
            break
        seen.add(servant.pk)
        chain.append(servant.user_id)
    return chain


class _Sweep:
    """What one sweep reads once for all the clocks it escalates: the holders of each body's
    roles and each person's superiors (a minute-long sweep may use them as read)."""

    def __init__(self) -> None:
        self.holders: dict[tuple[int, str], list[int]] = {}
        self.bodies: set[int] = set()
        self.superiors: dict[int, list[int]] = {}

    def roles(self, body_id: int) -> dict[tuple[int, str], list[int]]:
        if body_id not in self.bodies:
            self.holders.update(role_holders([body_id]))
            self.bodies.add(body_id)
        return self.holders

    def chain(self, user_id: int) -> list[int]:
        if user_id not in self.superiors:
            self.superiors[user_id] = superiors_of(user_id)
        return self.superiors[user_id]


def _escalate(deadline_id: int, now: datetime, sweep: _Sweep | None = None) -> bool:
    sweep = sweep or _Sweep()
    deadline = Deadline.objects.select_related("declaration__declarant").get(pk=deadline_id)
    try:
        with declaration_transition(
            declaration=deadline.declaration,
            actor=None,
            name=None,
            what=_("escalate a missed deadline"),
            expect_state=False,
        ) as step:
            clock = (
                Deadline.objects.select_related("measure")
                .filter(pk=deadline_id, outcome=DeadlineOutcome.RUNNING, escalate_at__lte=now)
                .first()
            )  # again, under the declaration's lock
            if clock is None:
                raise _NotDue
            body_id = step.declaration.body_id
            clock.declaration = step.declaration
            holders = sweep.roles(body_id)
            missed_by = due_to_act(clock, holders)
            level = clock.escalation_level + 1
            chain = sweep.chain(missed_by[0]) if clock.due_to_act_id else []
            above = chain[level - 1 : level]
            oversight = holders.get((body_id, Role.MANAGEMENT), []) + holders.get(
                (body_id, Role.ETHICS_COMMISSIONER), []
            )
            told = list(dict.fromkeys([*missed_by, *above, *oversight]))
            step.action = (
                AuditAction.DEADLINE_MISSED if level == 1 else AuditAction.DEADLINE_ESCALATED
            )
            step.legal_topics.append("deadline")
            step.data = {
                "clock": clock.clock,
                "measure": str(clock.measure.code) if clock.measure else "",
                "due_at": clock.due_at,
                "due_to_act": missed_by,
                "level": level,
                "told": told,
            }
            notification_enqueue(
                recipient_ids=told,
                kind=(
                    NotificationKind.DEADLINE_MISSED
                    if level == 1
                    else NotificationKind.DEADLINE_STILL_MISSED
                ),
                declaration=step.declaration,
                deadline=clock,
                key=f"escalate:{clock.pk}:{level}",
                context=deadline_context(clock) | {"level": level},
            )
            Deadline.objects.filter(pk=clock.pk).update(
                escalation_level=level,
                escalated_at=clock.escalated_at or step.at,
                escalate_at=(
                    escalation_after(
                        working_calendar(), step.at, step.declaration.body.escalation_step_days
                    )
                    if len(chain) > level
                    else None
                ),
            )
    except _NotDue:
        return False
    return True


def declaration_escalate_missed(*, declaration_id: int, now: datetime) -> int:
    """Escalate every clock of one declaration whose escalation is due; returns how many."""
    due = Deadline.objects.filter(
        declaration_id=declaration_id, outcome=DeadlineOutcome.RUNNING, escalate_at__lte=now
    ).order_by("escalate_at", "pk")
    sweep = _Sweep()
    return sum(_escalate(pk, now, sweep) for pk in due.values_list("pk", flat=True))


def declarations_process_deadlines(*, now: datetime, limit: int | None = None) -> int:
    """The sweep: one indexed query for the clocks due (``deadline_escalate_at``), oldest first,
    then one step each, at most ``limit`` (``COI_ESCALATIONS_PER_RUN``) per run so that a run
    after a long outage ends well inside the scheduler's lease; the next run goes on. Returns
    how many clocks were escalated."""
    limit = settings.COI_ESCALATIONS_PER_RUN if limit is None else limit
    due = Deadline.objects.filter(outcome=DeadlineOutcome.RUNNING, escalate_at__lte=now).order_by(
        "escalate_at", "pk"
    )
    sweep = _Sweep()
    return sum(_escalate(pk, now, sweep) for pk in due.values_list("pk", flat=True)[:limit])
