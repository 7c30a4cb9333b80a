"""Deadlines in working days on the Kazakhstan calendar (DESIGN.md §3), escalation (R4)."""

from __future__ import annotations

from datetime import date, datetime, time
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.core.management import call_command

from declarations.calendar import WorkingCalendar, working_calendar
from declarations.choices import AuditAction, CalendarDayKind, Clock, DeclarationState
from declarations.models import Notification
from declarations.services.escalation import declarations_process_deadlines
from declarations.services.transitions import declaration_start_review, declaration_submit
from tests.builders import Org, declaration_in, new_draft
from tests.factories import CalendarOverrideFactory

ALMATY = ZoneInfo("Asia/Almaty")
S = DeclarationState


def at(y: int, m: int, d: int, hh: int = 10) -> datetime:
    return datetime(y, m, d, hh, 0, tzinfo=ALMATY)


def end_of(y: int, m: int, d: int) -> datetime:
    return datetime.combine(date(y, m, d), time.max, tzinfo=ALMATY)


CAL = WorkingCalendar()


@pytest.mark.parametrize(
    ("start", "days", "due", "why"),
    [
        (at(2026, 11, 18), 1, end_of(2026, 11, 19), "Wednesday → Thursday"),
        (at(2026, 11, 20), 1, end_of(2026, 11, 23), "Friday → over the weekend to Monday"),
        (at(2026, 11, 21), 1, end_of(2026, 11, 23), "filed on Saturday: Monday is the first day"),
        (at(2026, 11, 20), 3, end_of(2026, 11, 25), "three working days from Friday"),
        (
            at(2026, 3, 20),
            1,
            end_of(2026, 3, 26),
            "Nauryz 21–23 March with the 24th, 25th moved off",
        ),
        (at(2027, 3, 19), 1, end_of(2027, 3, 25), "Nauryz 2027: 22–24 off, Sunday 21st"),
        (at(2026, 12, 15), 1, end_of(2026, 12, 17), "Independence Day, 16 December"),
        (at(2026, 12, 31), 1, end_of(2027, 1, 5), "New Year: 1–2 January and the moved 4th"),
        (at(2027, 1, 6), 1, end_of(2027, 1, 8), "Orthodox Christmas, 7 January"),
        (at(2026, 12, 11), 5, end_of(2026, 12, 21), "HR order across Independence Day"),
    ],
)
def test_add_working_days(start: datetime, days: int, due: datetime, why: str) -> None:
    assert CAL.add_working_days(start, days) == due, why


def test_late_evening_in_almaty_counts_as_that_day() -> None:
    """21:00 UTC on Thursday is already Friday 02:00 in Almaty: the clock starts from Friday."""
    thursday_utc = datetime(2026, 11, 19, 21, 0, tzinfo=ZoneInfo("UTC"))
    assert CAL.add_working_days(thursday_utc, 1) == end_of(2026, 11, 23)


@pytest.mark.django_db
def test_decree_moved_days_from_the_admin_table() -> None:
    """The library's transfers stop at 2025: administrators enter each decree's moved days."""
    CalendarOverrideFactory(date=date(2026, 11, 23), kind=CalendarDayKind.DAY_OFF)
    CalendarOverrideFactory(date=date(2026, 11, 21), kind=CalendarDayKind.WORKING_DAY)
    cal = working_calendar()
    assert not cal.is_working_day(date(2026, 11, 23))
    assert cal.is_working_day(date(2026, 11, 21))  # a Saturday made a working day
    assert cal.add_working_days(at(2026, 11, 20), 1) == end_of(2026, 11, 21)
    assert cal.add_working_days(at(2026, 11, 20), 2) == end_of(2026, 11, 24)


def test_a_working_day_override_beats_a_library_holiday() -> None:
    cal = WorkingCalendar(extra_working_days=frozenset({date(2026, 3, 25)}))
    assert cal.is_working_day(date(2026, 3, 25))
    assert cal.add_working_days(at(2026, 3, 20), 1) == end_of(2026, 3, 25)


def test_zero_days_is_refused() -> None:
    with pytest.raises(ValueError):
        CAL.add_working_days(at(2026, 1, 5), 0)


def test_submission_sets_the_clocks_across_nauryz(org: Org) -> None:
    with time_machine.travel(at(2026, 3, 20, 16), tick=False):
        declaration = new_draft(org, aware_since=date(2026, 3, 19))
        declaration_submit(declaration=declaration, actor=org.servant)
    assert declaration.start_review_due_at == end_of(2026, 3, 26)
    assert declaration.decision_due_at == end_of(2026, 3, 30)
    assert declaration.due_at == declaration.start_review_due_at


def test_per_body_settings(org: Org) -> None:
    org.body.start_review_days = 2
    org.body.save()
    with time_machine.travel(at(2026, 12, 14), tick=False):
        declaration = new_draft(org, aware_since=date(2026, 12, 14))
        declaration_submit(declaration=declaration, actor=org.servant)
    assert declaration.start_review_due_at == end_of(2026, 12, 17)  # Tue 15, (Wed 16 off), Thu 17


def test_due_at_follows_the_running_clock(org: Org) -> None:
    with time_machine.travel(at(2026, 11, 18), tick=False):
        declaration = declaration_in(org, S.SUBMITTED)
        assert declaration.due_at == end_of(2026, 11, 19)
        declaration_start_review(declaration=declaration, actor=org.manager)
        assert declaration.due_at == declaration.decision_due_at == end_of(2026, 11, 23)
    with time_machine.travel(at(2026, 11, 19), tick=False):
        declaration = declaration_in(org, S.AWAITING_CONSENT, who="servant2")
        measure = declaration.measures.get()
        assert declaration.due_at == measure.consent_due_at == end_of(2026, 11, 24)


def test_missed_deadline_escalates_once(org: Org) -> None:
    """Missing "start review" notifies management and the ethics commissioner, once (R4)."""
    with time_machine.travel(at(2026, 11, 18), tick=False):
        declaration = declaration_in(org, S.SUBMITTED)
    with time_machine.travel(at(2026, 11, 19, 23), tick=False):
        assert declarations_process_deadlines(now=datetime.now(tz=ALMATY)) == 0
    with time_machine.travel(at(2026, 11, 20, 9), tick=False):
        call_command("process_deadlines")
        call_command("process_deadlines")  # safe to run twice
    events = list(declaration.events.filter(action=AuditAction.DEADLINE_MISSED))
    assert len(events) == 1
    assert events[0].actor is None
    assert events[0].data["clock"] == Clock.START_REVIEW
    assert events[0].data["due_to_act"] == [org.manager.pk]
    told = set(
        Notification.objects.filter(declaration=declaration, kind="deadline_missed").values_list(
            "recipient_id", flat=True
        )
    )
    assert told == {org.head.pk, org.ethics.pk, org.manager.pk}
    # the decision clock is missed later, and escalated on its own
    with time_machine.travel(at(2026, 11, 24, 9), tick=False):
        assert declarations_process_deadlines(now=datetime.now(tz=ALMATY)) == 1
    clocks = [
        e.data["clock"] for e in declaration.events.filter(action=AuditAction.DEADLINE_MISSED)
    ]
    assert clocks == [Clock.START_REVIEW, Clock.DECISION]
    declaration.refresh_from_db()
    assert declaration.due_at == end_of(2026, 11, 19)


def test_hr_order_deadline_is_escalated_to_hr_and_management(org: Org) -> None:
    with time_machine.travel(at(2026, 11, 18), tick=False):
        declaration = declaration_in(org, S.IMPLEMENTING)
    with time_machine.travel(at(2026, 11, 26), tick=False):
        assert declarations_process_deadlines(now=datetime.now(tz=ALMATY)) == 1
    event = declaration.events.get(action=AuditAction.DEADLINE_MISSED)
    assert event.data["clock"] == Clock.HR_ORDER
    assert event.data["due_to_act"] == [org.hr.pk]


def test_closed_cases_have_no_deadline(org: Org) -> None:
    declaration = declaration_in(org, S.RESOLVED)
    assert declaration.due_at is None


def test_an_escalation_is_a_step_of_the_one_shape(org: Org) -> None:
    """The sweep writes through ``steps.declaration_transition`` like any audited write: the chain
    stays whole, the event cites the rule it rests on (003 cl. 9), and a declaration escalated by a
    concurrent sweep is left as it is."""
    from declarations.audit_chain import audit_verify_all
    from declarations.services.escalation import declaration_escalate_missed

    with time_machine.travel(at(2026, 11, 18), tick=False):
        declaration = declaration_in(org, S.SUBMITTED)
    with time_machine.travel(at(2026, 11, 24, 9), tick=False):
        now = datetime.now(tz=ALMATY)
        assert declaration_escalate_missed(declaration_id=declaration.pk, now=now) == 2
        assert declaration_escalate_missed(declaration_id=declaration.pk, now=now) == 0
    events = list(declaration.events.filter(action=AuditAction.DEADLINE_MISSED))
    assert [e.seq for e in events] == [2, 3]
    for event in events:
        assert "akimat-2013-cl9" in {ref["key"] for ref in event.data["legal_basis"]}
    assert audit_verify_all()[1] == []
    declaration.refresh_from_db()
    assert declaration.audit_seq == 3
