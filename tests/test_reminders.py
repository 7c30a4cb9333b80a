"""Reminders and escalations reach the right people once, on the right working day (issue 16).

Each test walks the scheduler through the calendar an hour at a time (``scheduler.runner.tick``,
as ``run_worker`` does every few seconds) across weekends, Nauryz, 16 December and a
decree-moved day, and reads who was told what, when.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import date, datetime, timedelta
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.core import mail
from django.test import Client
from django.urls import reverse
from django.utils import translation

from declarations.choices import (
    AuditAction,
    CalendarDayKind,
    Clock,
    DeclarationState,
    DeliveryState,
    NotificationKind,
    ReminderUnit,
)
from declarations.models import Deadline, Notification, ReminderRule
from declarations.scheduler.runner import tick
from declarations.services.preferences import user_set_language
from declarations.services.reminders import deadlines_reschedule
from declarations.services.transitions import (
    declaration_start_review,
    declaration_submit,
    declaration_withdraw,
)
from tests.builders import Org, declaration_in, new_draft
from tests.factories import CalendarOverrideFactory

ALMATY = ZoneInfo("Asia/Almaty")
S = DeclarationState
K = NotificationKind
WATCHED = {K.DEADLINE_REMINDER, K.DEADLINE_MISSED, K.DEADLINE_STILL_MISSED}


def at(y: int, m: int, d: int, hh: int = 10) -> datetime:
    return datetime(y, m, d, hh, 0, tzinfo=ALMATY)


def hours(start: datetime, end: datetime) -> Iterator[datetime]:
    moment = start
    while moment <= end:
        yield moment
        moment += timedelta(hours=1)


def walk(start: datetime, end: datetime) -> None:
    """The scheduler, ticking every hour from ``start`` to ``end`` (Almaty)."""
    for moment in hours(start, end):
        with time_machine.travel(moment, tick=False):
            tick(owner="test", now=moment)


def told(org: Org) -> list[tuple[str, str, str, int]]:
    """(kind, who, when in Almaty, level) of every reminder and escalation, in order."""
    names = {user.pk: name for name, user in org.users.items()}
    rows = Notification.objects.filter(kind__in=WATCHED).order_by("created_at", "kind")
    ordered = sorted(rows, key=lambda n: (n.created_at, n.kind, names[n.recipient_id]))
    return [
        (
            n.kind,
            names[n.recipient_id],
            f"{n.created_at.astimezone(ALMATY):%a %d %b %H:%M}",
            n.context.get("level", 0),
        )
        for n in ordered
    ]


def test_a_transfer_nobody_answers_across_16_december_and_a_moved_day(org: Org) -> None:
    """The consent clock of a transfer proposed on Friday 11 December 2026 runs over the weekend
    and Independence Day (Wednesday 16th) to the end of Thursday 17th. A decree moves Monday
    21st off. The servant is reminded on Tuesday 15th (one working day before) and on the 17th,
    at 09:00; on Friday 18th the miss goes to the servant, their manager, management and the
    ethics commissioner; two working days later (Tuesday 22nd, but the 21st is off: Wednesday
    23rd) it goes one level up, to the head of the body."""
    CalendarOverrideFactory(date=date(2026, 12, 21), kind=CalendarDayKind.DAY_OFF)
    languages = {"servant": "kk", "manager": "ru", "head": "en", "ethics": "ru"}
    for name, language in languages.items():
        user_set_language(user=org.users[name], language=language)
    with time_machine.travel(at(2026, 12, 11), tick=False):
        declaration = declaration_in(org, S.AWAITING_CONSENT)
    consent = declaration.deadlines.get(clock=Clock.CONSENT)
    assert consent.due_at.astimezone(ALMATY).date() == date(2026, 12, 17)
    walk(at(2026, 12, 11, 11), at(2026, 12, 28, 12))
    assert told(org) == [
        (K.DEADLINE_REMINDER, "servant", "Tue 15 Dec 09:00", 0),
        (K.DEADLINE_REMINDER, "servant", "Thu 17 Dec 09:00", 0),
        (K.DEADLINE_MISSED, "ethics", "Fri 18 Dec 09:00", 1),
        (K.DEADLINE_MISSED, "head", "Fri 18 Dec 09:00", 1),
        (K.DEADLINE_MISSED, "manager", "Fri 18 Dec 09:00", 1),
        (K.DEADLINE_MISSED, "servant", "Fri 18 Dec 09:00", 1),
        (K.DEADLINE_STILL_MISSED, "ethics", "Wed 23 Dec 09:00", 2),
        (K.DEADLINE_STILL_MISSED, "head", "Wed 23 Dec 09:00", 2),
        (K.DEADLINE_STILL_MISSED, "servant", "Wed 23 Dec 09:00", 2),
    ]
    events = declaration.events.filter(
        action__in=[AuditAction.DEADLINE_MISSED, AuditAction.DEADLINE_ESCALATED]
    )
    assert [(e.action, e.data["level"]) for e in events] == [
        (AuditAction.DEADLINE_MISSED, 1),
        (AuditAction.DEADLINE_ESCALATED, 2),
    ]
    consent.refresh_from_db()
    assert consent.escalation_level == 2 and consent.escalate_at is None  # nobody above the head
    # each was told by e-mail in their own language, once per notification
    watched = Notification.objects.filter(kind__in=WATCHED)
    assert {n.delivery for n in watched} == {DeliveryState.SENT}
    by_id = {f"<notification-{n.code}@": n for n in watched}
    mails = [
        m for m in mail.outbox if any(m.extra_headers["Message-ID"].startswith(k) for k in by_id)
    ]
    assert len(mails) == watched.count() == 9
    names = {user.email: name for name, user in org.users.items()}
    for message in mails:
        language = languages[names[message.to[0]]]
        assert message.extra_headers["Content-Language"] == language
        with translation.override(language):
            assert str(Clock.CONSENT.label) in message.body  # what the clock was, in that language
    # management takes over from the escalation's link
    head_mail = next(m for m in mails if m.to == [org.head.email])
    link = re.search(r"https?://\S+/declarations/[0-9a-f-]+/", head_mail.body)
    assert link is not None
    client = Client()
    client.force_login(org.head)
    page = client.get(urlsplit(link.group(0)).path)
    assert page.status_code == 200
    assert reverse("declarations:reassign", args=[declaration.code]) in page.content.decode()


def test_a_notice_over_nauryz(org: Org) -> None:
    """Filed on Friday 20 March 2026 at 16:00, before Nauryz (21–23 March, with the 24th and 25th
    moved off): the review must start by the end of Thursday 26th. "One working day before" is
    the 20th at 09:00, before the notice existed: no reminder then; the manager is reminded on
    the 26th, and the miss is escalated on Friday 27th. The decision clock (end of Monday 30th)
    reminds on the 27th and the 30th and escalates on Tuesday 31st."""
    with time_machine.travel(at(2026, 3, 20, 16), tick=False):
        declaration = new_draft(org, aware_since=date(2026, 3, 19))
        declaration_submit(declaration=declaration, actor=org.servant)
    walk(at(2026, 3, 20, 17), at(2026, 4, 1, 12))
    assert told(org) == [
        (K.DEADLINE_REMINDER, "manager", "Thu 26 Mar 09:00", 0),
        (K.DEADLINE_MISSED, "ethics", "Fri 27 Mar 09:00", 1),
        (K.DEADLINE_MISSED, "head", "Fri 27 Mar 09:00", 1),
        (K.DEADLINE_MISSED, "manager", "Fri 27 Mar 09:00", 1),
        (K.DEADLINE_REMINDER, "manager", "Fri 27 Mar 09:00", 0),
        (K.DEADLINE_REMINDER, "manager", "Mon 30 Mar 09:00", 0),
        (K.DEADLINE_MISSED, "ethics", "Tue 31 Mar 09:00", 1),
        (K.DEADLINE_MISSED, "head", "Tue 31 Mar 09:00", 1),
        (K.DEADLINE_MISSED, "manager", "Tue 31 Mar 09:00", 1),
    ]
    # the head of the body is above the manager: nobody is left for a second level
    assert not Deadline.objects.filter(declaration=declaration, escalate_at__isnull=False).exists()


def test_no_reminder_for_a_clock_met_superseded_or_cancelled(org: Org) -> None:
    """A review started before the reminder ends the clock: nobody is reminded of it. A withdrawn
    notice cancels its clocks: no reminder, no escalation."""
    with time_machine.travel(at(2026, 11, 18), tick=False):
        started = declaration_in(org, S.SUBMITTED)
        withdrawn = declaration_in(org, S.SUBMITTED, who="servant2")
    with time_machine.travel(at(2026, 11, 18, 15), tick=False):
        declaration_start_review(declaration=started, actor=org.manager)
        declaration_withdraw(declaration=withdrawn, actor=org.servant2, reason="Mistake")
    walk(at(2026, 11, 18, 16), at(2026, 11, 20, 12))
    assert [(k, who, when) for k, who, when, _ in told(org)] == [
        # only the decision clock of the started review runs on: reminded the day before it
        (K.DEADLINE_REMINDER, "manager", "Fri 20 Nov 09:00"),
    ]
    assert Notification.objects.filter(declaration=withdrawn, kind__in=WATCHED).count() == 0


def test_a_body_sets_its_own_reminders_and_a_later_decree_moves_them(org: Org) -> None:
    """A body reminds three working days and four hours before; a decree entered afterwards
    (the admin saves the override, then the clocks are rescheduled) moves the reminder."""
    ReminderRule.objects.create(
        body=org.body, clock=Clock.DECISION, unit=ReminderUnit.WORKING_DAYS, amount=3
    )
    ReminderRule.objects.create(
        body=org.body, clock=Clock.DECISION, unit=ReminderUnit.HOURS, amount=4
    )
    with time_machine.travel(at(2026, 11, 16, 9), tick=False):
        declaration = declaration_in(org, S.IN_REVIEW)
    decision = declaration.deadlines.get(clock=Clock.DECISION, outcome="running")
    # decision due at the end of Thursday 19th: three working days before is Monday 16th 09:00,
    # before the clock started at 09:00 that day, so the first reminder is 19:59 on the 19th
    assert decision.remind_at is not None
    assert f"{decision.remind_at.astimezone(ALMATY):%d %H:%M}" == "19 19:59"
    CalendarOverrideFactory(date=date(2026, 11, 20), kind=CalendarDayKind.DAY_OFF)
    assert deadlines_reschedule(body_id=org.body.pk) >= 1
    decision.refresh_from_db()
    # the escalation moves from Friday 20th (now off) to Monday 23rd
    assert f"{decision.escalate_at:%a %d}" == "Mon 23"


@pytest.mark.parametrize("down_days", [3])
def test_a_scheduler_down_for_three_days_escalates_each_missed_clock_once(
    org: Org, down_days: int
) -> None:
    """The scheduler stops on Wednesday evening and comes back three days later: the clocks
    missed meanwhile are escalated once each on its return; a reminder it slept through is sent
    late, once, only for a clock not yet due (the decision clock, due Monday), never for one
    already missed (the start-review clock, reminded of on Thursday)."""
    with time_machine.travel(at(2026, 11, 18), tick=False):
        first = declaration_in(org, S.SUBMITTED)
        second = declaration_in(org, S.SUBMITTED, who="servant2")
    walk(at(2026, 11, 18, 11), at(2026, 11, 18, 20))
    back = at(2026, 11, 18, 20) + timedelta(days=down_days)  # Saturday 21st, 20:00
    walk(back, back + timedelta(hours=6))
    walk(at(2026, 11, 23, 8), at(2026, 11, 23, 10))  # and Monday morning
    for declaration in (first, second):
        missed = declaration.events.filter(action=AuditAction.DEADLINE_MISSED)
        assert [e.data["clock"] for e in missed] == [Clock.START_REVIEW]
        assert missed.get().created_at.astimezone(ALMATY).date() == date(2026, 11, 21)
    reminders = [
        (n.deadline.clock, f"{n.created_at.astimezone(ALMATY):%a %H:%M}")
        for n in Notification.objects.filter(kind=K.DEADLINE_REMINDER, declaration=first)
    ]
    assert reminders == [(Clock.DECISION, "Sat 20:00"), (Clock.DECISION, "Mon 09:00")]


def test_a_decree_entered_in_the_admin_moves_the_escalation(org: Org) -> None:
    """The operator enters a moved day off in the admin; the running clocks' escalation moves."""
    with time_machine.travel(at(2026, 11, 18), tick=False):
        declaration = declaration_in(org, S.SUBMITTED)
    start = declaration.deadlines.get(clock=Clock.START_REVIEW)
    assert f"{start.escalate_at.astimezone(ALMATY):%a %d}" == "Fri 20"
    client = Client()
    client.force_login(org.admin)
    response = client.post(
        reverse("admin:declarations_calendaroverride_add"),
        {"date": "2026-11-20", "kind": CalendarDayKind.DAY_OFF, "reason": "Decree"},
    )
    assert response.status_code == 302
    start.refresh_from_db()
    assert f"{start.escalate_at.astimezone(ALMATY):%a %d}" == "Mon 23"
