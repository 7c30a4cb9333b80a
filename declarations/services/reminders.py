"""Reminders before a deadline and the times of its escalations (issue 16).

When a clock starts (``deadlines.deadlines_record``) its first reminder and its first escalation
are stored on the row (``Deadline.remind_at``, ``Deadline.escalate_at``); the sweeps move them on.
The times come from the body's reminder rules (the admin), else the deployment's
(``COI_REMINDERS``), on the working-day calendar in Almaty:

- a ``working_days`` rule fires at its time of day on the working day that many working days
  before the due day (0: the due day itself); an ``hours`` rule that many hours before the due
  instant. A reminder at or before the clock's start, or after its due time, is not sent.
- a missed clock is escalated at ``COI_ESCALATION_TIME`` on the first working day after its due
  day, then every ``StateBody.escalation_step_days`` working days, one level further up.

``reminders_send_due`` is the sweep: a batch of due rows at a time, a fixed number of queries
per batch whatever the size of the organisation. A reminder is never sent for a clock already
met, superseded or cancelled (only running rows are read), and never twice (its notification's
key names the clock and the reminder's instant; the database refuses a second row).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from django.conf import settings
from django.db import transaction

from declarations.calendar import ALMATY, WorkingCalendar, working_calendar
from declarations.choices import DeadlineOutcome, Duty, NotificationKind, ReminderUnit, Role
from declarations.models import Deadline, Notification, ReminderRule, RoleGrant
from declarations.services.notifications import email_opt_outs, notifications_build
from declarations.side_effects import Effect, after_commit

BATCH = 500

#: The role whose holders act when a clock waits for a role rather than a person.
DUTY_ROLES = {Duty.MANAGEMENT: Role.MANAGEMENT, Duty.HR: Role.HR}


@dataclass(frozen=True)
class Rule:
    unit: str
    amount: int
    at: time | None = None


def parse_rule(text: str) -> Rule:
    """``"1wd@09:00"`` (working days before, at a time) or ``"4h"`` (hours before)."""
    text = text.strip()
    if text.endswith("h") and text[:-1].isdigit():
        return Rule(ReminderUnit.HOURS, int(text[:-1]))
    days, _sep, clock = text.partition("wd@")
    if not days.isdigit() or not clock:
        raise ValueError(f"a reminder is 'Nwd@HH:MM' or 'Nh', not {text!r}")
    return Rule(ReminderUnit.WORKING_DAYS, int(days), time.fromisoformat(clock))


def default_rules() -> tuple[Rule, ...]:
    return tuple(parse_rule(text) for text in settings.COI_REMINDERS)


def rules_by_body(body_ids: Iterable[int]) -> dict[tuple[int, str], tuple[Rule, ...]]:
    """The rules each body set for each clock (one query); a pair not here uses the defaults."""
    rules: dict[tuple[int, str], list[Rule]] = {}
    for body_id, clock, unit, amount, at in ReminderRule.objects.filter(
        body_id__in=set(body_ids)
    ).values_list("body_id", "clock", "unit", "amount", "at_time"):
        rules.setdefault((body_id, clock), []).append(Rule(unit, amount, at))
    return {key: tuple(value) for key, value in rules.items()}


def working_days_before(calendar: WorkingCalendar, day: date, count: int) -> date:
    while count > 0:
        day -= timedelta(days=1)
        if calendar.is_working_day(day):
            count -= 1
    return day


def next_working_day(calendar: WorkingCalendar, day: date, count: int = 1) -> date:
    while count > 0:
        day += timedelta(days=1)
        if calendar.is_working_day(day):
            count -= 1
    return day


def reminder_times(
    calendar: WorkingCalendar, rules: Sequence[Rule], *, started_at: datetime, due_at: datetime
) -> list[datetime]:
    """Every reminder instant of one clock, earliest first, each between its start and due."""
    due_day = due_at.astimezone(ALMATY).date()
    times = set()
    for rule in rules:
        if rule.unit == ReminderUnit.HOURS:
            at = due_at - timedelta(hours=rule.amount)
        else:
            day = working_days_before(calendar, due_day, rule.amount)
            at = datetime.combine(day, rule.at or time(9), tzinfo=ALMATY)
        if started_at < at < due_at:
            times.add(at)
    return sorted(times)


def next_reminder(
    calendar: WorkingCalendar, rules: Sequence[Rule], deadline: Deadline, after: datetime
) -> datetime | None:
    return next(
        (
            at
            for at in reminder_times(
                calendar, rules, started_at=deadline.started_at, due_at=deadline.due_at
            )
            if at > after
        ),
        None,
    )


def escalation_after(calendar: WorkingCalendar, at: datetime, working_days: int = 1) -> datetime:
    """``COI_ESCALATION_TIME`` (Almaty) on the working day ``working_days`` after ``at``'s day:
    the first escalation is one working day after the due day, each next level
    ``escalation_step_days`` after the last escalation."""
    day = next_working_day(calendar, at.astimezone(ALMATY).date(), max(working_days, 1))
    return datetime.combine(day, time.fromisoformat(settings.COI_ESCALATION_TIME), tzinfo=ALMATY)


def schedule_new(deadlines: Sequence[Deadline], *, body_id: int) -> None:
    """Set the first reminder and escalation of clocks about to be stored (in memory)."""
    if not deadlines:
        return
    calendar = working_calendar()
    rules = rules_by_body([body_id])
    for deadline in deadlines:
        chosen = rules.get((body_id, deadline.clock)) or default_rules()
        deadline.remind_at = next_reminder(calendar, chosen, deadline, deadline.started_at)
        deadline.escalate_at = escalation_after(calendar, deadline.due_at)


def deadlines_reschedule(*, body_id: int | None = None) -> int:
    """Recompute the next reminder and escalation of every running clock (of one body): after
    a body's reminder rules or the calendar's overrides change. Returns the rows looked at."""
    calendar = working_calendar()
    running = Deadline.objects.filter(outcome=DeadlineOutcome.RUNNING).select_related(
        "declaration__body"
    )
    if body_id is not None:
        running = running.filter(declaration__body_id=body_id)
    rules: dict[tuple[int, str], tuple[Rule, ...]] = {}
    count = 0
    last_id = 0
    while True:
        batch = list(running.filter(pk__gt=last_id).order_by("pk")[:BATCH])
        if not batch:
            return count
        last_id = batch[-1].pk
        rules.update(rules_by_body({d.declaration.body_id for d in batch}))
        sent = _sent_until([d.pk for d in batch])
        for deadline in batch:
            body = deadline.declaration.body
            chosen = rules.get((body.pk, deadline.clock)) or default_rules()
            # reminders already sent stay sent: only later ones are scheduled
            after = max(deadline.started_at, sent.get(deadline.pk, deadline.started_at))
            deadline.remind_at = next_reminder(calendar, chosen, deadline, after)
            deadline.escalate_at = _rescheduled_escalation(calendar, deadline)
        Deadline.objects.bulk_update(batch, ["remind_at", "escalate_at"])
        count += len(batch)


def _rescheduled_escalation(calendar: WorkingCalendar, deadline: Deadline) -> datetime | None:
    """The first escalation is recomputed from the due day; a later level, counted from the
    last escalation, only moves off a day that became a day off, to the next working day."""
    if deadline.escalate_at is None:
        return None
    if deadline.escalation_level == 0:
        return escalation_after(calendar, deadline.due_at)
    local = deadline.escalate_at.astimezone(ALMATY)
    if calendar.is_working_day(local.date()):
        return deadline.escalate_at
    return datetime.combine(next_working_day(calendar, local.date()), local.timetz())


def _sent_until(deadline_ids: list[int]) -> dict[int, datetime]:
    """The latest reminder instant already sent for each clock of a batch (one query)."""
    sent: dict[int, datetime] = {}
    for deadline_id, context in Notification.objects.filter(
        deadline_id__in=deadline_ids, kind=NotificationKind.DEADLINE_REMINDER
    ).values_list("deadline_id", "context"):
        if deadline_id is not None and context.get("reminder_at"):
            at = datetime.fromisoformat(context["reminder_at"])
            sent[deadline_id] = max(at, sent.get(deadline_id, at))
    return sent


def reminders_send_due(*, now: datetime) -> int:
    """Queue the reminders whose time has come, batch by batch; returns how many were queued.

    A clock whose scheduler was down past several of its reminders gets one (the latest that
    passed), not one per missed instant; a clock already due gets none (escalation follows).
    """
    calendar = working_calendar()
    queued = 0
    while True:
        with transaction.atomic():
            batch = list(
                Deadline.objects.select_for_update(skip_locked=True, of=("self",))
                .filter(outcome=DeadlineOutcome.RUNNING, remind_at__lte=now)
                .select_related("declaration__body", "measure")
                .order_by("remind_at", "pk")[:BATCH]
            )
            if not batch:
                return queued
            bodies = {d.declaration.body_id for d in batch}
            rules = rules_by_body(bodies)
            holders = role_holders(bodies)
            plans = []
            for deadline in batch:
                chosen = (
                    rules.get((deadline.declaration.body_id, deadline.clock)) or default_rules()
                )
                instant = deadline.remind_at
                deadline.remind_at = next_reminder(calendar, chosen, deadline, now)
                if now >= deadline.due_at or instant is None:
                    continue
                plans.append((deadline, instant, due_to_act(deadline, holders)))
            opted_out = email_opt_outs({i for _d, _at, ids in plans for i in ids})
            rows = []
            for deadline, instant, recipient_ids in plans:
                rows += notifications_build(
                    recipient_ids=recipient_ids,
                    kind=NotificationKind.DEADLINE_REMINDER,
                    declaration=deadline.declaration,
                    deadline=deadline,
                    key=f"remind:{deadline.pk}:{instant.astimezone(ALMATY):%Y%m%d%H%M}",
                    context=deadline_context(deadline) | {"reminder_at": instant.isoformat()},
                    opted_out=opted_out,
                )
            Notification.objects.bulk_create(rows, ignore_conflicts=True)
            Deadline.objects.bulk_update(batch, ["remind_at"])
            if rows:
                after_commit(Effect.NOTIFICATIONS_DISPATCH)
            queued += len(rows)


def role_holders(body_ids: Iterable[int]) -> dict[tuple[int, str], list[int]]:
    """(body, role) → the active users holding it, for a batch of bodies (one query)."""
    holders: dict[tuple[int, str], list[int]] = {}
    for body_id, role, user_id in (
        RoleGrant.objects.filter(body_id__in=set(body_ids), user__is_active=True)
        .order_by("pk")
        .values_list("body_id", "role", "user_id")
    ):
        holders.setdefault((body_id, role), []).append(user_id)
    return holders


def due_to_act(deadline: Deadline, holders: dict[tuple[int, str], list[int]]) -> list[int]:
    """The person a clock waits for, or the holders of the role it waits for."""
    if deadline.due_to_act_id is not None:
        return [deadline.due_to_act_id]
    role = DUTY_ROLES.get(Duty(deadline.duty)) if deadline.duty in DUTY_ROLES else None
    return list(holders.get((deadline.declaration.body_id, role), [])) if role else []


def deadline_context(deadline: Deadline) -> dict[str, object]:
    """What a notification about a clock says (its templates read these)."""
    return {
        "clock": deadline.clock,
        "due_at": deadline.due_at.isoformat(),
        "legal_topic": deadline.legal_topic,
        "duty": deadline.duty,
        "due_to_act_name": deadline.due_to_act_name,
        "measure": str(deadline.measure.code) if deadline.measure is not None else "",
    }


def deadlines_remind_now(*, declaration_id: int, now: datetime) -> int:
    """Bring the next reminder of a declaration's earliest running clock forward to ``now`` (the
    demo uses it so that a freshly seeded case shows a reminder within a tick; the reminder
    still states the clock's real due time). Returns how many clocks were moved (0 or 1)."""
    earliest = (
        Deadline.objects.filter(
            declaration_id=declaration_id, outcome=DeadlineOutcome.RUNNING, due_at__gt=now
        )
        .order_by("due_at", "pk")
        .values_list("pk", flat=True)[:1]
    )
    return Deadline.objects.filter(pk__in=list(earliest)).update(remind_at=now)
