"""The scheduler that is part of the product (issue 16): each job once per period however many
schedulers run, a lease that outlives a dead scheduler only so long, a failing job that stops
nothing else, and the weekly digest."""

from __future__ import annotations

import io
import threading
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.core.management import call_command
from django.db import connection

from declarations.choices import AuditAction, DeclarationState, NotificationKind
from declarations.models import AuditEvent, Notification, ScheduledJob
from declarations.scheduler import jobs as job_table
from declarations.scheduler.jobs import Job
from declarations.scheduler.runner import tick
from tests.builders import Org, build_org, declaration_in

ALMATY = ZoneInfo("Asia/Almaty")
S = DeclarationState


def at(y: int, m: int, d: int, hh: int = 10) -> datetime:
    return datetime(y, m, d, hh, 0, tzinfo=ALMATY)


def test_two_schedulers_at_the_same_moment_run_each_job_once(org: Org) -> None:
    with time_machine.travel(at(2026, 11, 18), tick=False):
        declaration = declaration_in(org, S.SUBMITTED)
    moment = at(2026, 11, 20, 9)  # the start-review clock is escalated at 09:00 on Friday
    with time_machine.travel(moment, tick=False):
        first = tick(owner="a", now=moment)
        second = tick(owner="b", now=moment)
    periodic = {j.name for j in job_table.declared_jobs()} - {"digest.weekly"}  # Mondays
    assert set(first) == periodic
    assert second == []
    runs = dict(ScheduledJob.objects.values_list("name", "runs"))
    assert runs == dict.fromkeys(periodic, 1) | {"digest.weekly": 0}
    assert declaration.events.filter(action=AuditAction.DEADLINE_MISSED).count() == 1


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_two_schedulers_racing_on_postgresql_run_each_job_once() -> None:
    """Released together from two threads (two connections): each job's lease is taken by one."""
    org = build_org()
    with time_machine.travel(at(2026, 11, 18), tick=False):
        declaration = declaration_in(org, S.SUBMITTED)
    moment = at(2026, 11, 20, 9)
    barrier = threading.Barrier(2)
    ran: dict[str, list[str]] = {}

    def run(owner: str) -> None:
        try:
            barrier.wait()
            ran[owner] = tick(owner=owner, now=moment)
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(name,)) for name in ("a", "b")]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    names = sorted(ran["a"] + ran["b"])
    assert names == sorted({j.name for j in job_table.declared_jobs()} - {"digest.weekly"})
    assert ScheduledJob.objects.filter(runs__gt=1).count() == 0
    assert declaration.events.filter(action=AuditAction.DEADLINE_MISSED).count() == 1


def test_a_lease_held_by_a_dead_scheduler_runs_out(org: Org) -> None:
    moment = at(2026, 11, 20, 9)
    tick(owner="a", now=moment)
    # "b" took every job and died holding them
    ScheduledJob.objects.update(
        lease_owner="b", lease_until=moment + timedelta(minutes=10), next_run_at=moment
    )
    assert tick(owner="c", now=moment + timedelta(minutes=5)) == []
    assert tick(owner="c", now=moment + timedelta(minutes=11)) != []


def test_a_failing_job_is_recorded_and_stops_nothing_else(
    org: Org, monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken(now: datetime) -> str:
        raise RuntimeError("the record store is away")

    real = job_table.declared_jobs()
    monkeypatch.setattr(
        "declarations.scheduler.runner.declared_jobs",
        lambda: (Job("broken", broken, every=timedelta(minutes=1)), *real),
    )
    ran = tick(owner="a", now=at(2026, 11, 20, 9))
    assert ran[0] == "broken" and len(ran) == len(real)  # all but the digest (Mondays)
    job = ScheduledJob.objects.get(name="broken")
    assert "the record store is away" in job.last_error
    assert job.lease_owner == "" and job.next_run_at == at(2026, 11, 20, 9) + timedelta(minutes=1)


def test_run_scheduler_once_for_cron(org: Org) -> None:
    out = io.StringIO()
    call_command("run_scheduler", "--once", stdout=out)
    assert "deadlines.escalate" in out.getvalue()
    out = io.StringIO()
    call_command("run_scheduler", "--once", stdout=out)  # at once again: nothing is due
    assert out.getvalue() == "ran: nothing due\n"


def test_the_weekly_digest_goes_to_management_and_ethics_once_a_week(org: Org) -> None:
    """Monday 23 November 2026, 09:00: the head and the ethics commissioner get one digest each,
    naming the overdue clock and who was due to act; a second Monday-morning tick adds none."""
    with time_machine.travel(at(2026, 11, 18), tick=False):
        declaration_in(org, S.SUBMITTED)  # start review due Thursday 19th: overdue by Monday
        declaration_in(org, S.IN_REVIEW, who="servant2")  # decision due Monday 23rd
    for moment in (at(2026, 11, 23, 8), at(2026, 11, 23, 9), at(2026, 11, 23, 10)):
        with time_machine.travel(moment, tick=False):
            tick(owner="a", now=moment)
    digests = Notification.objects.filter(
        kind=NotificationKind.WEEKLY_DIGEST, key__startswith=f"digest:{org.body.pk}:"
    )
    assert sorted(d.recipient_id for d in digests) == sorted([org.head.pk, org.ethics.pk])
    content = digests[0].context
    assert content["week"] == "2026-W48" and content["open"] == 2
    assert content["body"] == org.body.name  # which body: a person may oversee more than one
    assert [row["clock"] for row in content["overdue"]] == ["start_review"]
    assert content["overdue"][0]["due_to_act_name"] == org.servants["manager"].full_name
    assert content["due_this_week_count"] == 2  # both decision clocks end this week
    job = ScheduledJob.objects.get(name="digest.weekly")
    assert job.next_run_at == at(2026, 11, 30, 9)


def test_every_periodic_job_is_declared_once() -> None:
    names = [j.name for j in job_table.declared_jobs()]
    assert len(names) == len(set(names))
    assert {"deadlines.escalate", "deadlines.remind", "digest.weekly", "records.sweep"} <= set(
        names
    )


def test_escalations_are_audited_steps(org: Org) -> None:
    with time_machine.travel(at(2026, 11, 18), tick=False):
        declaration_in(org, S.SUBMITTED)
    moment = at(2026, 11, 20, 9)
    with time_machine.travel(moment, tick=False):
        tick(owner="a", now=moment)
    event = AuditEvent.objects.get(action=AuditAction.DEADLINE_MISSED)
    assert event.actor_id is None and event.data["level"] == 1
    assert set(event.data["told"]) == {org.manager.pk, org.head.pk, org.ethics.pk}


def test_a_quiet_night_does_not_rebuild_the_checkpoint_tree(
    org: Org, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The records job asks every minute whether a checkpoint is due. With nothing written since
    the last one that is one indexed MAX, not a Merkle tree over every declaration (the bench
    measured 3.8 s a minute at 200,000 cases before); a new event makes one due again."""
    from declarations.records import checkpoints

    with time_machine.travel(at(2026, 11, 18), tick=False):
        declaration = declaration_in(org, S.SUBMITTED)
        checkpoints.checkpoint_make(reason=checkpoints.CheckpointReason.MANUAL)

    def no_tree(*args: object) -> None:
        raise AssertionError("the tree was rebuilt")

    monkeypatch.setattr(checkpoints, "tree_of", no_tree)
    later = at(2026, 11, 18, 12)
    assert checkpoints.checkpoint_due(now=later) is False
    with time_machine.travel(later, tick=False):
        from declarations.services.transitions import declaration_start_review

        declaration_start_review(declaration=declaration, actor=org.manager)
    assert checkpoints.checkpoint_due(now=later + timedelta(minutes=1)) is True


def test_a_catch_up_escalates_in_runs_that_fit_the_lease(org: Org) -> None:
    """After an outage the sweep escalates at most COI_ESCALATIONS_PER_RUN clocks per run, oldest
    first; the next run goes on, and nothing is escalated twice."""
    from declarations.services.escalation import declarations_process_deadlines

    with time_machine.travel(at(2026, 11, 18), tick=False):
        for who in ("servant", "servant2"):
            declaration_in(org, S.SUBMITTED, who=who)
    moment = at(2026, 11, 24, 9)  # start-review and decision clocks of both missed
    with time_machine.travel(moment, tick=False):
        assert declarations_process_deadlines(now=moment, limit=3) == 3
        assert declarations_process_deadlines(now=moment, limit=3) == 1
        assert declarations_process_deadlines(now=moment, limit=3) == 0
    assert AuditEvent.objects.filter(action=AuditAction.DEADLINE_MISSED).count() == 4
