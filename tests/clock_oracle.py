"""An independent account of a declaration's clocks, replayed from its audit events alone
(issue 14): the state machine checks after every step that the stored ``Deadline`` rows, and the
dossier's cl. 9 page, say the same as this replay.

It is written from DESIGN.md §3 and the events' payloads, not from ``services/deadlines.py``:
the submission starts start-review and decision for the person the notice went to (or the
management); starting the review ends start-review (a member of management taking up a notice
to management gets its decision clock); a decision ends the decision clock and starts one
consent clock per proposed transfer and one HR-order clock per measure awaiting an order; an
accepted transfer starts its HR-order clock; a declined one starts a new decision clock; an
order ends its clock; a withdrawal cancels everything; a takeover passes the review clocks to
the new reviewer with the whole period from the handover, never less than before.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from declarations.calendar import WorkingCalendar
from declarations.choices import AuditAction, Clock, DeadlineOutcome, Duty, MeasureState
from declarations.models import AuditEvent, Declaration

REVIEW_CLOCKS = (Clock.START_REVIEW, Clock.DECISION)


@dataclass
class Expected:
    clock: str
    measure: str | None
    duty: str
    person: int | None
    due_at: datetime
    outcome: str = DeadlineOutcome.RUNNING
    ended_by: int | None = None
    ended_at: datetime | None = None

    def key(self) -> tuple[Any, ...]:
        return (
            self.clock,
            self.measure or "",
            self.duty,
            self.person or 0,
            self.due_at,
            self.outcome,
            self.ended_by or 0,
        )

    def missed(self, now: datetime) -> bool:
        end = self.ended_at if self.outcome != DeadlineOutcome.RUNNING else now
        return end is not None and end > self.due_at


def replay(
    declaration: Declaration, events: list[AuditEvent], calendar: WorkingCalendar
) -> list[Expected]:
    body = declaration.body
    days: dict[str, int] = {
        Clock.START_REVIEW: body.start_review_days,
        Clock.DECISION: body.decision_days,
        Clock.CONSENT: body.consent_days,
        Clock.HR_ORDER: body.hr_order_days,
    }
    clocks: list[Expected] = []
    reviewer: int | None = None

    def running(clock: str, measure: str | None = None) -> list[Expected]:
        return [
            c
            for c in clocks
            if c.outcome == DeadlineOutcome.RUNNING
            and c.clock == clock
            and (measure is None or c.measure == measure)
        ]

    def end(c: Expected, outcome: str, by: int | None, at: datetime) -> None:
        c.outcome, c.ended_at = outcome, at
        c.ended_by = by if outcome == DeadlineOutcome.MET else None

    def review_clock(clock: str, at: datetime, due: datetime | None = None) -> None:
        duty = Duty.REVIEWER if reviewer else Duty.MANAGEMENT
        due = due or calendar.add_working_days(at, days[clock])
        clocks.append(Expected(clock, None, duty, reviewer, due))

    for e in events:
        at, actor, data = e.created_at, e.actor_id, e.data
        if e.action in (AuditAction.DECLARATION_SUBMITTED, AuditAction.DECLARATION_OPENED):
            reviewer = data["notice"]["addressed_to"].get("user")
            review_clock(Clock.START_REVIEW, at)
            review_clock(Clock.DECISION, at)
        elif e.action == AuditAction.REVIEWER_REASSIGNED:
            reviewer = data["to_reviewer"]
            for clock in REVIEW_CLOCKS:
                for c in running(clock):
                    end(c, DeadlineOutcome.SUPERSEDED, None, at)
                    fresh = calendar.add_working_days(at, days[clock])
                    review_clock(clock, at, max(c.due_at, fresh))
        elif e.action == AuditAction.REVIEW_STARTED:
            for c in running(Clock.START_REVIEW):
                end(c, DeadlineOutcome.MET, actor, at)
            if reviewer is None:  # a member of management takes up a notice to management
                reviewer = actor
                for c in running(Clock.DECISION):
                    end(c, DeadlineOutcome.SUPERSEDED, None, at)
                    review_clock(Clock.DECISION, at, c.due_at)
        elif e.action in (AuditAction.DECIDED, AuditAction.NO_CONFLICT):
            for clock in REVIEW_CLOCKS:
                for c in running(clock):
                    end(c, DeadlineOutcome.MET, actor, at)
            for m in data.get("measures", []):
                if m["state"] == MeasureState.PENDING_CONSENT:
                    due = calendar.add_working_days(at, days[Clock.CONSENT])
                    person = declaration.declarant.user_id
                    clocks.append(
                        Expected(Clock.CONSENT, m["measure"], Duty.DECLARANT, person, due)
                    )
                elif m["state"] == MeasureState.PENDING_ORDER:
                    due = calendar.add_working_days(at, days[Clock.HR_ORDER])
                    clocks.append(Expected(Clock.HR_ORDER, m["measure"], Duty.HR, None, due))
        elif e.action in (AuditAction.CONSENT_ACCEPTED, AuditAction.CONSENT_DECLINED):
            for c in running(Clock.CONSENT, data["measure"]):
                end(c, DeadlineOutcome.MET, actor, at)
            if e.action == AuditAction.CONSENT_ACCEPTED:
                due = calendar.add_working_days(at, days[Clock.HR_ORDER])
                clocks.append(Expected(Clock.HR_ORDER, data["measure"], Duty.HR, None, due))
            else:
                review_clock(Clock.DECISION, at)
        elif e.action == AuditAction.MEASURE_IMPLEMENTED:
            for c in running(Clock.HR_ORDER, data["measure"]):
                end(c, DeadlineOutcome.MET, actor, at)
        elif e.action == AuditAction.WITHDRAWN:
            for c in clocks:
                if c.outcome == DeadlineOutcome.RUNNING:
                    end(c, DeadlineOutcome.CANCELLED, None, at)
    return clocks


def stored(declaration: Declaration) -> list[tuple[Any, ...]]:
    return sorted(
        (
            d.clock,
            str(d.measure.code) if d.measure else "",
            d.duty,
            d.due_to_act_id or 0,
            d.due_at,
            d.outcome,
            d.ended_by_id or 0,
        )
        for d in declaration.deadlines.select_related("measure")
    )


def expected(declaration: Declaration, calendar: WorkingCalendar) -> list[tuple[Any, ...]]:
    events = list(declaration.events.order_by("seq"))
    return sorted(c.key() for c in replay(declaration, events, calendar))


def missed_by(clocks: list[Expected], now: datetime) -> list[tuple[str, str]]:
    """Who (a user id, or the role) is charged with which clock, at ``now``."""
    return sorted(
        (f"user:{c.person}" if c.person else f"role:{c.duty}", c.clock)
        for c in clocks
        if c.missed(now)
    )
