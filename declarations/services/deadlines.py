"""Deadlines in working days (DESIGN.md §3): the clocks a declaration runs, its stored ``due_at``,
and each clock stored as a fact (issue 14) with its first reminder and escalation (issue 16:
``services/reminders.py``). Escalating a missed one is ``services/escalation.py``."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime

from declarations.choices import (
    AuditAction,
    Clock,
    DeadlineOutcome,
    DeclarationState,
    Duty,
    MeasureState,
)
from declarations.models import Deadline, Declaration, Measure
from declarations.selectors.people import person_snapshot
from declarations.services.reminders import schedule_new

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


def compute_due_at(*, declaration: Declaration, measures: Iterable[Measure]) -> datetime | None:
    """The earliest running deadline: what the lists sort and flag overdue by."""
    return min((c.due_at for c in running_clocks(declaration, measures)), default=None)


def declaration_refresh_deadlines(
    *, declaration: Declaration, measures: Iterable[Measure] | None = None
) -> None:
    """Recompute ``due_at`` in memory; the caller saves under its lock."""
    measures = list(declaration.measures.all()) if measures is None else measures
    declaration.due_at = compute_due_at(declaration=declaration, measures=measures)


# -- clocks as facts (issue 14) -------------------------------------------------------------

#: The rulebook's legal-basis topic each clock rests on (DESIGN.md §3; 003 cl. 8, cl. 9).
CLOCK_TOPICS: dict[str, str] = {
    Clock.START_REVIEW: "deadline",
    Clock.DECISION: "decide",
    Clock.CONSENT: "measure.transfer",
    Clock.HR_ORDER: "deadline",
}


def _who(declaration: Declaration, clock: RunningClock) -> tuple[str, int | None]:
    """(duty, person) due to act on a running clock, now."""
    if clock.clock == Clock.CONSENT:
        return Duty.DECLARANT, declaration.declarant.user_id
    if clock.clock == Clock.HR_ORDER:
        return Duty.HR, None
    if declaration.reviewer_id is None:
        return Duty.MANAGEMENT, None
    return Duty.REVIEWER, declaration.reviewer_id


def _ending(action: str, *, still_wanted: bool) -> str:
    """How a stored clock the step no longer wants ended: passed to someone else when the same
    clock runs on for another person (a takeover, a reassignment, a member of management taking
    up a notice to management), cancelled by a withdrawal, else done by the step."""
    if still_wanted:
        return DeadlineOutcome.SUPERSEDED
    if action == AuditAction.WITHDRAWN:
        return DeadlineOutcome.CANCELLED
    return DeadlineOutcome.MET


def deadlines_record(
    *,
    declaration: Declaration,
    measures: Iterable[Measure],
    at: datetime,
    actor_id: int | None,
    action: str,
) -> None:
    """Store the step's clocks as facts, under the declaration's lock (issue 14).

    The clocks that should run after the step (``running_clocks``, with the person due to act
    now) are compared with the stored running ones: a stored clock no longer wanted ends here —
    superseded when the same clock runs on for another person, cancelled by a withdrawal, else
    met by the step's actor — and a wanted one not yet stored starts now. Nothing is
    overwritten: a takeover closes the old person's clock and opens the new person's; a declined
    transfer opens a second decision clock beside the first.

    Queries: one read of the running rows, one UPDATE per way of ending, one INSERT of the new
    ones, one read per new person's name — never one per measure.
    """
    by_code = {str(m.code): m for m in measures}
    wanted = {}
    for clock in running_clocks(declaration, by_code.values()):
        duty, person = _who(declaration, clock)
        measure = by_code.get(clock.measure_code)
        key = (clock.clock, measure.pk if measure else None, duty, person, clock.due_at)
        wanted[key] = (clock, measure)
    stored = {
        (d.clock, d.measure_id, d.duty, d.due_to_act_id, d.due_at): d
        for d in declaration.deadlines.filter(outcome=DeadlineOutcome.RUNNING)
    }
    running_on = {(clock, measure_id) for clock, measure_id, *_ in wanted}
    ended: dict[str, list[int]] = {}
    for key, deadline in stored.items():
        if key not in wanted:
            still_wanted = (deadline.clock, deadline.measure_id) in running_on
            ended.setdefault(_ending(action, still_wanted=still_wanted), []).append(deadline.pk)
    for outcome, ids in ended.items():
        Deadline.objects.filter(pk__in=ids).update(
            outcome=outcome,
            ended_at=at,
            ended_by_id=actor_id if outcome == DeadlineOutcome.MET else None,
        )
    names: dict[int | None, tuple[str, str, str]] = {None: ("", "", "")}
    new = []
    for key, (clock, measure) in wanted.items():
        if key in stored:
            continue
        _, _, duty, person, _ = key
        if person not in names:
            names[person] = person_snapshot(person)
        name, position, _unit = names[person]
        new.append(
            Deadline(
                declaration=declaration,
                measure=measure,
                clock=clock.clock,
                duty=duty,
                due_to_act_id=person,
                due_to_act_name=name,
                due_to_act_position=position,
                started_at=at,
                due_at=clock.due_at,
                legal_topic=CLOCK_TOPICS.get(clock.clock, "deadline"),
            )
        )
    if new:
        schedule_new(new, body_id=declaration.body_id)
        Deadline.objects.bulk_create(new)
