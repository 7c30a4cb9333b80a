"""Deadline sweep benchmark (issue 16): time and query count of the scheduler's sweeps over the
large generated org, whose open cases have running clocks (``seeding/large_org.py``).

Run (builds the org once per size in ``--var``/cases-N on SQLite, about 4 minutes for 200,000
cases, and reuses it afterwards):

    python -m bench.deadlines --cases 20000 200000

Each size runs in its own process on its own database; the figures are printed side by side.
On PostgreSQL give one size and the database (migrated and seeded if empty):

    DATABASE_URL=postgres://... python -m bench.deadlines --database postgres --cases 200000

The generated clocks keep the times the product gave them when they started (the first reminder
and escalation of ``schedule_new``), spread over the two years of the generated history. The
sweeps run at ``T0``, a minute before the earliest stored reminder or escalation, so that at
``T0`` nothing is due; "K due" makes K running clocks due at ``T0`` at once (their ``remind_at``
or ``escalate_at`` set to ``T0``, as at 09:00 Almaty, when a day's reminders all fall due).
Every measurement runs in a transaction that is rolled back, so the database is left as it
was; timings are medians of ``--rounds``, query counts from ``CaptureQueriesContext`` (the
savepoints of the services' transactions included).

1. a tick with nothing due: the whole scheduler tick (escalate, remind, records, send; the
   weekly digest not due), and each job alone — target < 1 s, queries independent of the size;
   the tick again when the last checkpoint is older than ``COI_CHECKPOINT_MINUTES`` and nothing
   changed since (the records job asks the audit trail's high-water mark, not the Merkle tree);
2. the reminder sweep with K clocks due — queries independent of the size, one more set per
   batch of ``reminders.BATCH`` due rows;
3. the escalation sweep with K clocks due — queries per escalated clock (one audited step each);
4. the weekly digest of the generated body at the present time (every generated open clock is
   overdue then: the digest's worst case);
5. the query plans of the two due-row queries (and the outbox's), to show that the partial
   indexes ``deadline_remind_at``, ``deadline_escalate_at`` (and ``notification_to_send``) are
   used (each checked to be the SQL the sweep ran).
"""

from __future__ import annotations

import argparse
import json
import os
import secrets
import statistics
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

DEFAULT_VAR = "/tmp/coi-bench-deadlines"  # noqa: S108 - a benchmark's scratch folder
REMIND_KS = (0, 1, 100, 500, 501, 1000, 2000)
ESCALATE_KS = (0, 1, 10, 50)


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cases", type=int, nargs="+", default=[200_000])
    parser.add_argument("--database", choices=["sqlite", "postgres"], default="sqlite")
    parser.add_argument("--var", default=os.environ.get("COI_VAR_DIR", DEFAULT_VAR))
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--json", action="store_true", help=argparse.SUPPRESS)  # a child's output
    args = parser.parse_args(argv)
    if args.database == "postgres" and (len(args.cases) > 1 or not os.environ.get("DATABASE_URL")):
        parser.error("--database postgres takes DATABASE_URL and one --cases (one org a database)")
    return args


# -- the parent: one child process per size --------------------------------------------------


def main() -> None:
    args = parse_args()
    if len(args.cases) == 1:
        results = [measure_here(args)]
    else:
        results = []
        for cases in args.cases:
            command = [sys.executable, "-m", "bench.deadlines", "--json"]
            command += ["--cases", str(cases), "--var", args.var, "--rounds", str(args.rounds)]
            done = subprocess.run(command, check=True, stdout=subprocess.PIPE, text=True)  # noqa: S603
            results.append(json.loads(done.stdout.strip().splitlines()[-1]))
    if args.json:
        print(json.dumps(results[0]))
    else:
        report(results)


def measure_here(args: argparse.Namespace) -> dict[str, Any]:
    cases = args.cases[0]
    if args.database == "sqlite":
        var = Path(args.var) / f"cases-{cases}"
        var.mkdir(parents=True, exist_ok=True)
        os.environ["COI_VAR_DIR"] = str(var)
        os.environ.pop("DATABASE_URL", None)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "bench.settings")
    import django

    django.setup()
    return measure(cases=cases, rounds=args.rounds)


# -- the child: one database, one size -------------------------------------------------------


def log(text: str) -> None:
    print(text, file=sys.stderr, flush=True)


class _Rollback(Exception):
    pass


@contextmanager
def rolled_back() -> Iterator[None]:
    """Everything inside is undone (notifications, audit events, job rows, moved clocks)."""
    from django.db import transaction

    try:
        with transaction.atomic():
            yield
            raise _Rollback
    except _Rollback:
        pass


def measured(
    rounds: int, prepare: Callable[[], None], run: Callable[[], Any]
) -> tuple[float, int, Any, list[str]]:
    """(median ms, queries, the last result, the queries' SQL) of ``run`` after ``prepare``,
    each round in a rolled-back transaction."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    times: list[float] = []
    queries: list[str] = []
    result: Any = None
    for _ in range(rounds):
        with rolled_back():
            prepare()
            with CaptureQueriesContext(connection) as captured:
                start = time.perf_counter()
                result = run()
                times.append(time.perf_counter() - start)
            queries = [q["sql"] for q in captured.captured_queries]
    return statistics.median(times) * 1000, len(queries), result, queries


def measure(*, cases: int, rounds: int) -> dict[str, Any]:
    from django.conf import settings
    from django.core.management import call_command
    from django.db import connection, transaction
    from django.db.models import Min
    from django.utils import timezone

    from declarations.choices import OPEN_STATES, CheckpointReason, DeadlineOutcome
    from declarations.delivery.emails import RELATED
    from declarations.models import (
        Checkpoint,
        Deadline,
        Declaration,
        Notification,
        ScheduledJob,
        StateBody,
    )
    from declarations.records import checkpoints
    from declarations.scheduler.jobs import declared_jobs
    from declarations.scheduler.runner import tick
    from declarations.seeding.large_org import BENCH_SLUG, seed_large
    from declarations.services import reminders
    from declarations.services.digests import digest_content, digests_send
    from declarations.services.escalation import declarations_process_deadlines
    from declarations.services.notifications import notifications_claimable
    from declarations.services.reminders import reminders_send_due

    call_command("migrate", verbosity=0)
    seeded_s = None
    body = StateBody.objects.filter(slug=BENCH_SLUG).first()
    if body is None:
        log(f"seeding {cases:,} cases on {connection.vendor} ...")
        start = time.perf_counter()
        servants = max(cases // 2, 50)
        seed_large(servants=servants, declarations=cases, password=secrets.token_urlsafe())
        seeded_s = time.perf_counter() - start
        body = StateBody.objects.get(slug=BENCH_SLUG)
        if connection.vendor == "postgresql":  # the planner's statistics of the fresh tables
            with connection.cursor() as cursor:
                cursor.execute("ANALYZE")
    stored = Declaration.objects.filter(body=body).count()
    running = Deadline.objects.filter(outcome=DeadlineOutcome.RUNNING)
    if stored != cases:
        sys.exit(f"the database holds an org of {stored:,} cases, not {cases:,}: another --var")
    if not running.exists():
        sys.exit("the org has no stored clocks (generated before they were): drop the database")
    clocks = running.count()
    first = running.aggregate(r=Min("remind_at"), e=Min("escalate_at"))
    t0 = min(first["r"], first["e"]) - timedelta(minutes=1)
    log(
        f"{connection.vendor}: {stored:,} cases, {clocks:,} running clocks; "
        f"T0 = {t0:%Y-%m-%d %H:%M}"
    )

    def due_at_t0(field: str, k: int, order: str) -> Callable[[], None]:
        """Make ``k`` running clocks due at T0 (only those not yet past their due time)."""

        def prepare() -> None:
            pks = list(
                running.filter(due_at__gt=t0).order_by(order).values_list("pk", flat=True)[:k]
            )
            Deadline.objects.filter(pk__in=pks).update(**{field: t0})

        return prepare

    def quiet_scheduler(
        now: datetime, checkpoint_age: int = 1, root: str = ""
    ) -> Callable[[], None]:
        """Each minute job due at ``now``, the digest next week, and the last checkpoint
        ``checkpoint_age`` minutes old (of the tree with ``root``)."""

        def prepare() -> None:
            for job in declared_jobs():
                due = now if job.every is not None else job.next_after(now)
                ScheduledJob.objects.update_or_create(
                    name=job.name,
                    defaults={"next_run_at": due, "lease_owner": "", "lease_until": None},
                )
            fresh_checkpoint(now - timedelta(minutes=checkpoint_age), root=root)

        return prepare

    def fresh_checkpoint(at: datetime, root: str) -> None:
        Checkpoint.objects.create(
            created_at=at,
            reason=CheckpointReason.PERIODIC,
            tree_size=0,
            root_hash=root,
            statement=b"",
            signature=b"",
        )

    figures: dict[str, Any] = {
        "vendor": connection.vendor,
        "cases": stored,
        "open": Declaration.objects.filter(body=body, state__in=list(OPEN_STATES)).count(),
        "clocks": clocks,
        "seeded_s": seeded_s,
        "batch": reminders.BATCH,
    }

    # 1. nothing due: the whole tick, then each job alone
    log("1. a tick with nothing due ...")
    ms, n, ran, _sql = measured(rounds, quiet_scheduler(t0), lambda: tick(owner="bench", now=t0))
    figures["tick"] = {"ms": ms, "queries": n, "ran": ran}
    # the same, the last checkpoint older than COI_CHECKPOINT_MINUTES and no chain moved since
    root = checkpoints.tree_of(checkpoints.current_leaves()).get_root().hex()
    stale = quiet_scheduler(t0, settings.COI_CHECKPOINT_MINUTES + 1, root)
    ms, n, ran, _sql = measured(rounds, stale, lambda: tick(owner="bench", now=t0))
    figures["tick_stale_checkpoint"] = {"ms": ms, "queries": n, "ran": ran}
    jobs = {}
    send_sql: list[str] = []
    for job in declared_jobs():
        if job.every is None:
            continue  # the digest is not due at T0
        ms, n, result, sql = measured(rounds, quiet_scheduler(t0), lambda job=job: job.run(t0))
        jobs[job.name] = {"ms": ms, "queries": n, "result": result}
        if job.name == "notifications.send":
            send_sql = sql
    figures["jobs"] = jobs

    # 2. reminders: K due at once
    log("2. reminders ...")
    remind = {}
    sweep_sql: list[str] = []
    for k in REMIND_KS:
        ms, n, queued, sql = measured(
            rounds,
            due_at_t0("remind_at", k, "-pk"),
            lambda: reminders_send_due(now=t0),
        )
        remind[str(k)] = {"ms": ms, "queries": n, "queued": queued}
        if k == REMIND_KS[-1]:
            sweep_sql = sql
    figures["remind"] = remind

    # 3. escalations: K due at once, each an audited step
    log("3. escalations ...")
    escalate = {}
    escalate_sql: list[str] = []
    for k in ESCALATE_KS:
        ms, n, done, sql = measured(
            rounds,
            due_at_t0("escalate_at", k, "due_at"),
            lambda: declarations_process_deadlines(now=t0),
        )
        escalate[str(k)] = {"ms": ms, "queries": n, "escalated": done}
        if k == 0:
            escalate_sql = sql
    figures["escalate"] = escalate

    # 4. the digest, now
    log("4. the digest ...")
    now = timezone.now()
    ms, n, content, _sql = measured(
        rounds, lambda: None, lambda: digest_content(body_id=body.pk, now=now)
    )
    figures["digest_content"] = {
        "ms": ms,
        "queries": n,
        "overdue": content["overdue_count"],
        "due_this_week": content["due_this_week_count"],
        "open": content["open"],
    }
    ms, n, queued, _sql = measured(rounds, lambda: None, lambda: digests_send(now=now))
    figures["digests_send"] = {"ms": ms, "queries": n, "queued": queued}

    # 5. query plans of the due-row queries, checked to be the SQL the sweeps ran
    log("5. query plans ...")
    remind_qs = (
        Deadline.objects.select_for_update(skip_locked=True, of=("self",))
        .filter(outcome=DeadlineOutcome.RUNNING, remind_at__lte=t0)
        .select_related("declaration__body", "measure")
        .order_by("remind_at", "pk")[: reminders.BATCH]
    )
    escalate_qs = (
        Deadline.objects.filter(outcome=DeadlineOutcome.RUNNING, escalate_at__lte=t0)
        .order_by("escalate_at", "pk")
        .values_list("pk", flat=True)[: settings.COI_ESCALATIONS_PER_RUN]
    )
    # the sender's own query (its lease threshold is "now", so only its shape can match)
    send_qs = (
        Notification.objects.filter(notifications_claimable(t0))
        .select_related(*RELATED)
        .order_by("next_attempt_at", "pk")[:500]
    )
    plans = {}
    with transaction.atomic():
        for name, qs, ran_sql in (
            ("reminders due", remind_qs, sweep_sql),
            ("escalations due", escalate_qs, escalate_sql),
            ("notifications to send", send_qs, send_sql),
        ):
            sql = sql_of(qs)
            if qs is not send_qs:
                assert sql in ran_sql, f"{name}: not the query the sweep ran"
            plans[name] = qs.explain()
    figures["plans"] = plans
    return figures


def sql_of(qs: Any) -> str:
    """The SQL a queryset runs, as ``CaptureQueriesContext`` shows it."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as captured:
        list(qs)
    return str(captured.captured_queries[-1]["sql"])


# -- the report ------------------------------------------------------------------------------


def report(results: list[dict[str, Any]]) -> None:
    head = results[0]
    sizes = [f"{r['cases']:,} cases" for r in results]
    width = 30

    def row(label: str, cells: list[str]) -> None:
        print(f"  {label:<34}" + "".join(f"{c:>{width}}" for c in cells))

    print(f"database: {head['vendor']}; reminder batch {head['batch']} rows")
    row("", sizes)
    row("open cases / running clocks", [f"{r['open']:,} / {r['clocks']:,}" for r in results])
    row(
        "seeded in",
        [f"{r['seeded_s']:.0f} s" if r["seeded_s"] else "(reused)" for r in results],
    )
    print("1. a tick with nothing due (ms, queries) — target < 1 s, flat")
    row("whole tick", [f"{r['tick']['ms']:.1f} ms, {r['tick']['queries']} q" for r in results])
    row(
        "  the same, checkpoint stale (*)",
        [
            f"{r['tick_stale_checkpoint']['ms']:.1f} ms, {r['tick_stale_checkpoint']['queries']} q"
            for r in results
        ],
    )
    for name in head["jobs"]:
        row(
            f"  {name} alone",
            [f"{r['jobs'][name]['ms']:.1f} ms, {r['jobs'][name]['queries']} q" for r in results],
        )
    verdict = "yes" if all(r["tick"]["ms"] < 1000 for r in results) else "NO"
    flat = len({r["tick"]["queries"] for r in results}) == 1
    print(
        "  (*) the last checkpoint older than COI_CHECKPOINT_MINUTES, no chain moved since:\n"
        "      one indexed MAX tells the records job so (it rebuilt the whole tree before)"
    )
    print(
        f"  -> under 1 s (checkpoint fresh): {verdict}"
        + (f"; same queries at every size: {flat}" * (len(results) > 1))
    )
    print("2. reminders, K clocks due at once (ms, queries, reminders queued)")
    for k in head["remind"]:
        row(
            f"K = {k}",
            [
                f"{r['remind'][k]['ms']:.0f} ms, {r['remind'][k]['queries']} q, "
                f"{r['remind'][k]['queued']}"
                for r in results
            ],
        )
    print("3. escalations, K clocks due at once (ms, queries, queries per escalated clock)")
    for k in head["escalate"]:
        cells = []
        for r in results:
            e, zero = r["escalate"][k], r["escalate"]["0"]
            per = (e["queries"] - zero["queries"]) / e["escalated"] if e["escalated"] else 0
            cells.append(f"{e['ms']:.0f} ms, {e['queries']} q, {per:.1f}/clock")
        row(f"K = {k}", cells)
    print("4. the weekly digest of the generated body, now (ms, queries)")
    row(
        "digest_content",
        [
            f"{r['digest_content']['ms']:.0f} ms, {r['digest_content']['queries']} q"
            for r in results
        ],
    )
    row(
        "  overdue / due this week",
        [
            f"{r['digest_content']['overdue']:,} / {r['digest_content']['due_this_week']:,}"
            for r in results
        ],
    )
    row(
        "digests_send (all bodies)",
        [f"{r['digests_send']['ms']:.0f} ms, {r['digests_send']['queries']} q" for r in results],
    )
    for r in results:
        print(f"query plans at {r['cases']:,} cases:")
        for name, plan in r["plans"].items():
            print(f"  {name}:")
            for line in plan.splitlines():
                print(f"    {line}")


if __name__ == "__main__":
    main()
