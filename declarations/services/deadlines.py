"""Deadlines in working days (DESIGN.md §3): the clocks a declaration runs, and its stored
``due_at`` and ``escalation_at``. Escalating a missed one is ``services/escalation.py``."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime

from declarations import selectors
from declarations.choices import (
    Clock,
    DeclarationState,
    MeasureState,
)
from declarations.models import Declaration, Measure

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
    """The deadlines running now for a declaration, from its stored clocks (pure)."""
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
