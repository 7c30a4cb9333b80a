"""Evidence a disciplinary commission can rely on (issue 14, 003 cl. 9): clocks stored as facts
and charged to whoever they were due from, who knew and when, and the cl. 9 page of the dossier
built from the same rows as its deadline table."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.core import mail
from django.test import override_settings

from declarations.calendar import working_calendar
from declarations.choices import AuditAction, Clock, DeadlineOutcome, Duty, MeasureKind
from declarations.choices import DeclarationState as S
from declarations.models import Deadline, Declaration, Record
from declarations.records.labels import Lang, People, when
from declarations.records.liability import cl9_page, deadline_rows
from declarations.services.decisions import MeasureSpec, declaration_decide
from declarations.services.escalation import declarations_process_deadlines
from declarations.services.measures import measure_consent
from declarations.services.notifications import notifications_send_pending
from declarations.services.transitions import (
    declaration_reassign_reviewer,
    declaration_start_review,
    declaration_submit,
    declaration_withdraw,
)
from tests.api import client_for, declaration_url
from tests.builders import Org, new_draft, transfer

ALMATY = ZoneInfo("Asia/Almaty")
EN = Lang("en")
VERDICTS = {"met": "met", "missed": "missed", "running": "running"}


def at(y: int, m: int, d: int, hh: int = 10) -> datetime:
    return datetime(y, m, d, hh, 0, tzinfo=ALMATY)


def clocks(declaration: Declaration) -> list[tuple[str, str, int | None, str]]:
    return [
        (d.clock, d.duty, d.due_to_act_id, d.outcome)
        for d in declaration.deadlines.order_by("started_at", "id")
    ]


def page_of(declaration: Declaration, now: datetime) -> Any:
    declaration.refresh_from_db()
    deadlines = list(declaration.deadlines.order_by("started_at", "id"))
    events = list(declaration.events.order_by("seq"))
    measures = list(declaration.measures.all())
    people = People.load(
        [d.due_to_act_id for d in deadlines]
        + [d.ended_by_id for d in deadlines]
        + [e.actor_id for e in events]
        + [declaration.declarant.user_id]
    )
    page = cl9_page(EN, declaration, deadlines, events, measures, people, working_calendar(), now)
    table = deadline_rows(EN, VERDICTS, deadlines, people, now)
    return page, table


def missed_by(page: Any) -> dict[str, list[str]]:
    return {p.name: p.missed_clocks for p in page.people if p.missed_clocks}


@pytest.mark.django_db
def test_a_takeover_charges_the_manager_who_missed_and_not_management(org: Org) -> None:
    """The manager misses start-review; management takes over and decides in time. The stored
    clocks, the deadline table and the cl. 9 page all charge the manager, by name, and nobody
    else; the escalation event on the timeline names the same person."""
    with time_machine.travel(at(2026, 11, 18), tick=False):  # Wednesday
        declaration = new_draft(org)
        declaration_submit(declaration=declaration, actor=org.servant)
    with time_machine.travel(at(2026, 11, 20, 9), tick=False):  # start-review due Thursday
        declarations_process_deadlines(now=at(2026, 11, 20, 9))
        declaration_reassign_reviewer(
            declaration=declaration, actor=org.head, reviewer=org.head, reason="Overdue"
        )
    with time_machine.travel(at(2026, 11, 20, 11), tick=False):
        declaration_start_review(declaration=declaration, actor=org.head)
    with time_machine.travel(at(2026, 11, 23, 10), tick=False):
        declaration_decide(
            declaration=declaration,
            actor=org.head,
            reason="Give it to another",
            measures=[
                MeasureSpec(
                    kind=MeasureKind.REASSIGN,
                    substitute=org.servants["servant2"],
                    matter="Tender 42",
                )
            ],
        )
    manager, head = org.manager.pk, org.head.pk
    assert clocks(declaration) == [
        (Clock.START_REVIEW, Duty.REVIEWER, manager, DeadlineOutcome.SUPERSEDED),
        (Clock.DECISION, Duty.REVIEWER, manager, DeadlineOutcome.SUPERSEDED),
        (Clock.START_REVIEW, Duty.REVIEWER, head, DeadlineOutcome.MET),
        (Clock.DECISION, Duty.REVIEWER, head, DeadlineOutcome.MET),
    ]
    page, table = page_of(declaration, at(2026, 11, 30))
    manager_name = org.servants["manager"].full_name
    head_name = org.servants["head"].full_name
    assert missed_by(page) == {manager_name: [Clock.START_REVIEW]}
    (manager_line,) = next(p for p in page.people if p.name == manager_name).missed
    assert "cl. 9" in manager_line  # the legal basis of the missed clock (003 cl. 9)
    missed_rows = [(r.clock_value, r.user_id) for r in table if r.is_missed]
    assert missed_rows == [(Clock.START_REVIEW, manager)]
    assert [r.due_to_act.split(",")[0] for r in table if r.is_missed] == [manager_name]
    # the new reviewer had the whole period from the handover, never less than the manager had
    head_clocks = declaration.deadlines.filter(due_to_act=org.head)
    assert all(d.due_at > at(2026, 11, 20, 9) for d in head_clocks)
    assert head_name in [p.name for p in page.people]
    escalation = declaration.events.get(action=AuditAction.DEADLINE_MISSED)
    assert escalation.data["due_to_act"] == [manager]


@pytest.mark.django_db
def test_a_declined_transfer_keeps_both_decision_clocks(org: Org) -> None:
    with time_machine.travel(at(2026, 11, 18), tick=False):
        declaration = new_draft(org)
        declaration_submit(declaration=declaration, actor=org.servant)
        declaration_start_review(declaration=declaration, actor=org.manager)
        declaration_decide(
            declaration=declaration, actor=org.manager, reason="Move", measures=[transfer(org)]
        )
    measure = declaration.measures.get()
    with time_machine.travel(at(2026, 11, 19), tick=False):
        measure_consent(measure=measure, actor=org.servant, decision="decline", reason="No")
    manager, servant = org.manager.pk, org.servant.pk
    assert clocks(declaration) == [
        (Clock.START_REVIEW, Duty.REVIEWER, manager, DeadlineOutcome.MET),
        (Clock.DECISION, Duty.REVIEWER, manager, DeadlineOutcome.MET),
        (Clock.CONSENT, Duty.DECLARANT, servant, DeadlineOutcome.MET),
        (Clock.DECISION, Duty.REVIEWER, manager, DeadlineOutcome.RUNNING),
    ]
    first, second = declaration.deadlines.filter(clock=Clock.DECISION).order_by("started_at")
    assert first.due_at < second.due_at and first.ended_by_id == manager
    _, table = page_of(declaration, at(2026, 11, 19, 12))
    assert [r.clock_value for r in table].count(Clock.DECISION) == 2


@pytest.mark.django_db
def test_a_reassignment_closes_the_old_reviewers_clock_and_opens_the_new_ones(org: Org) -> None:
    with time_machine.travel(at(2026, 11, 18), tick=False):
        declaration = new_draft(org)
        declaration_submit(declaration=declaration, actor=org.servant)
        declaration_start_review(declaration=declaration, actor=org.manager)
        declaration_reassign_reviewer(
            declaration=declaration,
            actor=org.head,
            reviewer=org.users["other_manager"],
            reason="Busy",
        )
    other = org.users["other_manager"].pk
    assert clocks(declaration) == [
        (Clock.START_REVIEW, Duty.REVIEWER, org.manager.pk, DeadlineOutcome.MET),
        (Clock.DECISION, Duty.REVIEWER, org.manager.pk, DeadlineOutcome.SUPERSEDED),
        (Clock.DECISION, Duty.REVIEWER, other, DeadlineOutcome.RUNNING),
    ]
    old = declaration.deadlines.get(clock=Clock.DECISION, due_to_act=org.manager)
    assert old.ended_by_id is None and not old.missed(at(2026, 12, 31))  # handed over in time
    new = declaration.deadlines.get(clock=Clock.DECISION, due_to_act_id=other)
    assert new.due_to_act_name == org.servants["other_manager"].full_name
    assert new.due_to_act_position == "Legal director"


@pytest.mark.django_db
def test_a_withdrawal_cancels_the_running_clocks(org: Org) -> None:
    with time_machine.travel(at(2026, 11, 18), tick=False):
        declaration = new_draft(org)
        declaration_submit(declaration=declaration, actor=org.servant)
        declaration_withdraw(declaration=declaration, actor=org.servant, reason="Resolved")
    assert {d.outcome for d in declaration.deadlines.all()} == {DeadlineOutcome.CANCELLED}
    assert declaration.deadlines.filter(ended_by__isnull=False).count() == 0


@pytest.mark.django_db
def test_the_notice_names_the_person_it_went_to(org: Org) -> None:
    declaration = new_draft(org)
    declaration_submit(declaration=declaration, actor=org.servant)
    declaration.refresh_from_db()
    manager = org.servants["manager"]
    assert (
        declaration.addressed_to_name,
        declaration.addressed_to_position,
        declaration.addressed_to_unit,
    ) == (manager.full_name, "Director", "Procurement")
    event = declaration.events.get(action=AuditAction.DECLARATION_SUBMITTED)
    assert event.data["notice"]["addressed_to"] == {
        "user": org.manager.pk,
        "name": manager.full_name,
        "position": "Director",
        "unit": "Procurement",
    }


@pytest.mark.django_db
def test_a_notice_to_management_names_the_members_told(org: Org) -> None:
    declaration = new_draft(org, addressee="management")
    declaration_submit(declaration=declaration, actor=org.servant)
    event = declaration.events.get(action=AuditAction.DECLARATION_SUBMITTED)
    assert event.data["notice"]["addressed_to"] == {"management": [org.head.pk]}
    assert clocks(declaration)[0] == (
        Clock.START_REVIEW,
        Duty.MANAGEMENT,
        None,
        DeadlineOutcome.RUNNING,
    )


@pytest.mark.django_db(transaction=True)
@override_settings(COI_SEND_NOTIFICATIONS_INLINE=False)
def test_each_notification_sent_is_an_event_on_the_chain_and_keeps_the_etag(org: Org) -> None:
    """Being told is what makes a conflict "known to" a person (003 cl. 9): the chain shows who
    was told what, when, by which channel. It is not a step: an API client's copy stays fresh."""
    org.manager.email = "manager@example.kz"
    org.manager.save()
    declaration = new_draft(org)
    declaration_submit(declaration=declaration, actor=org.servant)
    client = client_for(org.manager)
    etag = client.get(declaration_url(declaration))["ETag"]
    assert notifications_send_pending() == 1
    (event,) = declaration.events.filter(action=AuditAction.NOTIFIED)
    assert event.actor_id is None and event.from_state == event.to_state == S.SUBMITTED
    assert event.data["recipient"] == org.manager.pk
    assert event.data["recipient_name"] == org.servants["manager"].full_name
    assert event.data["kind"] == "declaration_assigned"
    assert event.data["channel"] == "email" and event.data["delivered"] is True
    assert len(mail.outbox) == 1
    assert client.get(declaration_url(declaration))["ETag"] == etag
    from declarations.audit_chain import audit_verify_chain

    declaration.refresh_from_db()
    assert audit_verify_chain(declaration, list(declaration.events.order_by("seq"))) is None
    page, _ = page_of(declaration, at(2026, 12, 31))
    manager_page = next(p for p in page.people if p.user_id == org.manager.pk)
    assert manager_page.knew_since != "—"


@pytest.mark.django_db
def test_the_deadlines_endpoint_reads_the_same_rows(org: Org) -> None:
    declaration = new_draft(org)
    declaration_submit(declaration=declaration, actor=org.servant)
    response = client_for(org.manager).get(declaration_url(declaration, "deadlines"))
    assert response.status_code == 200
    rows = response.json()
    assert [(r["clock"], r["duty"], r["outcome"], r["missed"]) for r in rows] == [
        (Clock.START_REVIEW, Duty.REVIEWER, DeadlineOutcome.RUNNING, False),
        (Clock.DECISION, Duty.REVIEWER, DeadlineOutcome.RUNNING, False),
    ]
    assert rows[0]["due_to_act_name"] == org.servants["manager"].full_name
    assert rows[0]["due_to_act"]["full_name"] == org.servants["manager"].full_name
    outsider = client_for(org.users["outsider"])
    assert outsider.get(declaration_url(declaration, "deadlines")).status_code == 404


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("aware", "filed", "tolerance", "days", "on_time"),
    [
        (date(2026, 11, 18), at(2026, 11, 19), 1, 1, True),  # the next working day
        (date(2026, 11, 20), at(2026, 11, 23), 1, 1, True),  # Friday → Monday
        (date(2026, 11, 16), at(2026, 11, 19), 1, 3, False),
        (date(2026, 11, 16), at(2026, 11, 19), 3, 3, True),  # the body allows three
    ],
)
def test_the_servants_filing_delay_has_a_verdict(
    org: Org, aware: date, filed: datetime, tolerance: int, days: int, on_time: bool
) -> None:
    org.body.filing_tolerance_days = tolerance
    org.body.save()
    with time_machine.travel(filed, tick=False):
        declaration = new_draft(org, aware_since=aware)
        declaration_submit(declaration=declaration, actor=org.servant)
    page, _ = page_of(declaration, filed + timedelta(hours=1))
    assert (page.filing_days, page.filing_on_time) == (days, on_time)
    assert page.recusal_text == f"Recusal in force from {when(filed)}; still in force"


@pytest.mark.django_db
def test_the_stored_clocks_never_change_once_ended(org: Org) -> None:
    """Nothing is overwritten: an ended clock keeps its person, times and outcome."""
    with time_machine.travel(at(2026, 11, 18), tick=False):
        declaration = new_draft(org)
        declaration_submit(declaration=declaration, actor=org.servant)
        declaration_start_review(declaration=declaration, actor=org.manager)
    ended = declaration.deadlines.get(clock=Clock.START_REVIEW)
    before = (ended.outcome, ended.ended_at, ended.ended_by_id, ended.due_at)
    with time_machine.travel(at(2026, 11, 19), tick=False):
        declaration_reassign_reviewer(
            declaration=declaration, actor=org.head, reviewer=org.head, reason="Takeover"
        )
    ended.refresh_from_db()
    assert (ended.outcome, ended.ended_at, ended.ended_by_id, ended.due_at) == before
    assert Deadline.objects.filter(declaration=declaration).count() == 3


@pytest.mark.django_db
def test_the_recusal_ends_when_the_declaration_closes(org: Org) -> None:
    with time_machine.travel(at(2026, 11, 18), tick=False):
        declaration = new_draft(org)
        declaration_submit(declaration=declaration, actor=org.servant)
    with time_machine.travel(at(2026, 11, 19, 15), tick=False):
        declaration_withdraw(declaration=declaration, actor=org.servant, reason="Resolved")
    page, _ = page_of(declaration, at(2026, 11, 20))
    assert page.recusal_text == "Recusal in force from 18.11.2026 10:00 to 19.11.2026 15:00"


@pytest.mark.django_db
def test_the_notice_record_and_the_dossier_give_the_same_filing_verdict(org: Org) -> None:
    """One count (working days, against the body's tolerance) on every record: the notice
    record printed at filing and the dossier's cl. 9 page cannot disagree."""
    from declarations.records.issuing import dossier_issue
    from tests.records import flat, issue_all, pdf_of, text_of

    with time_machine.travel(at(2026, 11, 19), tick=False):
        declaration = new_draft(org, aware_since=date(2026, 11, 16))
        declaration_submit(declaration=declaration, actor=org.servant)
        Record.objects.filter(declaration=declaration).update(language="en")
        (notice,) = issue_all(declaration)
        dossier = dossier_issue(declaration=declaration, actor=org.auditor, language="en")
    verdict = "working days after becoming aware: 3 (the body allows 1) — late"
    assert verdict in flat(text_of(pdf_of(notice)))
    assert flat(text_of(pdf_of(dossier))).count(verdict) == 2  # the facts and the cl. 9 page
