"""The weekly digest for management and the ethics commissioner (issue 16): per state body, the
open declarations, the deadlines due this week and the ones overdue, by whom.

The digest is a snapshot written into the notification's context when the week's job runs, so
an e-mail sent late (the SMTP server away) still says what was true on Monday morning. One per
recipient per body per ISO week: its key makes a second run of the job write nothing.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from django.db.models import Count

from declarations.calendar import ALMATY, start_of_day
from declarations.choices import OPEN_STATES, DeadlineOutcome, NotificationKind, Role
from declarations.models import Deadline, Declaration, StateBody
from declarations.services.notifications import notification_enqueue
from declarations.services.reminders import role_holders

#: How many deadlines a digest lists by name; the counts are always whole.
LISTED = 50


def _row(deadline: Deadline) -> dict[str, Any]:
    declaration = deadline.declaration
    return {
        "declaration": str(declaration.code),
        "registration_number": declaration.registration_number,
        "clock": deadline.clock,
        "due_at": deadline.due_at.isoformat(),
        "due_to_act_name": deadline.due_to_act_name,
        "duty": deadline.duty,
    }


def digest_content(*, body_id: int, now: datetime) -> dict[str, Any]:
    """What one body's digest says at ``now`` (a handful of queries, none per declaration)."""
    local = now.astimezone(ALMATY).date()
    week_start = start_of_day(local - timedelta(days=local.weekday()))
    week_end = week_start + timedelta(days=7)
    running = Deadline.objects.filter(
        declaration__body_id=body_id, outcome=DeadlineOutcome.RUNNING
    ).select_related("declaration")
    overdue = running.filter(due_at__lt=now).order_by("due_at", "pk")
    due = running.filter(due_at__gte=now, due_at__lt=week_end).order_by("due_at", "pk")
    by_state = dict(
        Declaration.objects.filter(body_id=body_id, state__in=list(OPEN_STATES))
        .values_list("state")
        .annotate(n=Count("pk"))
        .values_list("state", "n")
    )
    return {
        "week": f"{local.isocalendar().year}-W{local.isocalendar().week:02d}",
        "week_start": week_start.date().isoformat(),
        "open": sum(by_state.values()),
        "open_by_state": by_state,
        "due_this_week_count": due.count(),
        "due_this_week": [_row(d) for d in due[:LISTED]],
        "overdue_count": overdue.count(),
        "overdue": [_row(d) for d in overdue[:LISTED]],
    }


def digests_send(*, now: datetime) -> int:
    """Queue this week's digest for every body's management and ethics commissioners; returns
    how many were queued (none on a second run in the same week)."""
    queued = 0
    bodies = dict(StateBody.objects.values_list("pk", "name"))
    holders = role_holders(bodies)
    for body_id, body_name in bodies.items():
        recipients = holders.get((body_id, Role.MANAGEMENT), []) + holders.get(
            (body_id, Role.ETHICS_COMMISSIONER), []
        )
        if not recipients:
            continue
        content = digest_content(body_id=body_id, now=now) | {"body": body_name}
        queued += notification_enqueue(
            recipient_ids=recipients,
            kind=NotificationKind.WEEKLY_DIGEST,
            declaration=None,
            key=f"digest:{body_id}:{content['week']}",
            context=content,
        )
    return queued
