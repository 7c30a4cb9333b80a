"""The periodic jobs, declared once (issue 16). Each takes the time it runs for and returns a
line for the job's row in the admin; each is safe to run again and catches up by itself (it
works from what is stored as due, not from how long it was since it last ran)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, time, timedelta

from django.conf import settings

from declarations.calendar import ALMATY
from declarations.records.tasks import checkpoint_sweep, records_sweep
from declarations.services.digests import digests_send
from declarations.services.escalation import declarations_process_deadlines
from declarations.services.notifications import notifications_send_pending
from declarations.services.reminders import reminders_send_due
from declarations.services.tokens import tokens_sweep


@dataclass(frozen=True)
class Job:
    name: str
    run: Callable[[datetime], str]
    every: timedelta | None = None  # a job run every so often…
    weekly: tuple[int, str] | None = None  # …or on an ISO weekday at a time (Almaty)

    def first_at(self, now: datetime) -> datetime:
        """When a job new to the database first runs: at once, or at its next weekly time (a
        scheduler first started on a Thursday sends the first digest on Monday)."""
        return now if self.every is not None else self.next_after(now)

    def next_after(self, now: datetime) -> datetime:
        if self.every is not None:
            return now + self.every
        weekday, at = self.weekly or (1, "09:00")
        local = now.astimezone(ALMATY)
        day = local.date() + timedelta(days=(weekday - local.isoweekday()) % 7)
        candidate = datetime.combine(day, time.fromisoformat(at), tzinfo=ALMATY)
        return candidate if candidate > now else candidate + timedelta(days=7)


def _escalate(now: datetime) -> str:
    return f"{declarations_process_deadlines(now=now)} missed deadlines escalated"


def _remind(now: datetime) -> str:
    return f"{reminders_send_due(now=now)} reminders queued"


def _send(now: datetime) -> str:
    return f"{notifications_send_pending(now=now)} notifications sent"


def _records(now: datetime) -> str:
    sweep = records_sweep(now=now)
    checkpoint = checkpoint_sweep(now=now)
    return (
        f"{sweep.reaped} lost tasks reaped, {sweep.requeued} records queued, "
        f"{sweep.exports_failed} stalled exports failed"
        + (", a checkpoint queued" if checkpoint else "")
    )


def _tokens(now: datetime) -> str:
    return f"{tokens_sweep(now=now)} expired API tokens deleted"


def _digest(now: datetime) -> str:
    return f"{digests_send(now=now)} digests queued"


def declared_jobs() -> tuple[Job, ...]:
    """The jobs, in the order a tick runs them: the clocks first, so that what they queue is
    sent in the same tick."""
    minute = timedelta(minutes=1)
    return (
        Job("deadlines.escalate", _escalate, every=minute),
        Job("deadlines.remind", _remind, every=minute),
        Job(
            "digest.weekly", _digest, weekly=(settings.COI_DIGEST_WEEKDAY, settings.COI_DIGEST_TIME)
        ),
        Job("records.sweep", _records, every=minute),
        Job("tokens.sweep", _tokens, every=timedelta(hours=1)),
        Job("notifications.send", _send, every=timedelta(seconds=10)),
    )
