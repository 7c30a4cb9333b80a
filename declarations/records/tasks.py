"""Background tasks (DESIGN.md §7): record issuing and bulk exports, on django-tasks.

``issuing.py`` and ``exports.py`` decide *what* to do; these thin tasks are the queue's entry
points, and the after-commit effects registered here (``Effect.RECORDS_ISSUE``,
``Effect.EXPORTS_START``; the app imports this module in ``DeclarationsConfig.ready``) are how a
transaction hands work to the queue. The backend is a setting (``COI_TASK_BACKEND``): in-process
in development, the database queue embedded, RQ over one Redis when several machines work
(docs/DEPLOY.md); ``manage.py run_worker`` works whichever queue is set.

The ``issue_records`` sweep (``records_sweep``) queues again the records whose issuing was lost,
and asks the queue first what is still waiting or running (``_waiting_args``), so that a record
behind a long queue is not queued twice a minute:

- the database queue answers from its rows, but does not notice a worker that died mid-task:
  its task stays *running* forever. ``tasks_reap_lost`` marks such tasks failed once they have
  run longer than any render may (the render time limit, twice, plus a minute);
- RQ answers from the queue, the jobs its workers took and its started registry. A worker keeps
  its job's entry there alive with heartbeats; a killed one stops, and once the entry expires
  RQ's own clean-up (run by its workers every ten minutes, and by ``tasks_reap_lost`` at every
  sweep) fails the job as abandoned;
- another backend cannot be asked: the time since a record's last attempt alone decides.

Either way issuing is idempotent, so a record queued twice is still issued exactly once.

``make_checkpoint`` commits to every chain (``checkpoints.py``); ``checkpoint_sweep``, run by
``issue_records`` every minute, queues it when one is due (``COI_CHECKPOINT_MINUTES`` since the
last, and a chain moved).
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, timedelta
from typing import Any

import django_rq
from django.conf import settings
from django.db import close_old_connections
from django.db.models import Q
from django_tasks import DEFAULT_TASK_QUEUE_NAME, task, task_backends
from django_tasks.base import Task
from django_tasks_rq import Job as RQJob
from django_tasks_rq import RQBackend
from rq import Queue, SimpleWorker
from rq.job import JobStatus
from rq.registry import StartedJobRegistry
from rq.timeouts import BaseDeathPenalty

from declarations.choices import CheckpointReason, ExportFailure
from declarations.models import Record
from declarations.records import checkpoints, exports, issuing
from declarations.side_effects import Effect, register_effect

RECORDS_QUEUE = "records"
EXPORTS_QUEUE = "exports"
#: The order an RQ worker takes its queues in: a servant waits for the record of the step they
#: took, a bulk export can wait behind it. Every queue named in ``settings.TASKS``.
WORKER_QUEUES = [RECORDS_QUEUE, EXPORTS_QUEUE, DEFAULT_TASK_QUEUE_NAME]


class WorkerLost(Exception):
    """The worker running a task stopped before it finished. ``tasks_reap_lost`` names it as the
    reaped task's exception, so that the queue's result points to a class that exists."""


@task(queue_name=RECORDS_QUEUE)
def issue_record(record_id: int) -> str:
    outcome = issuing.record_issue(record_id=record_id)
    export_id = Record.objects.filter(pk=record_id).values_list("export_id", flat=True).first()
    if export_id is not None:  # a dossier of an export retried by the sweep: count it in
        exports.export_progress(export_id=export_id)
    return outcome


@task(queue_name=EXPORTS_QUEUE)
def plan_export(export_id: int) -> str:
    """Plan the job and hand its chunks to the workers; a job that cannot be planned fails
    with its reason (it must never stay queued; ``exports_fail_stalled`` is the backstop)."""
    try:
        chunks = exports.export_plan(export_id=export_id)
        for chunk in chunks:
            render_export_chunk.enqueue(export_id, chunk)
    except Exception as exc:
        exports.export_fail(export_id=export_id, failure=ExportFailure.PLANNING, detail=repr(exc))
        raise
    if not chunks:
        exports.export_assemble(export_id=export_id)
    return f"{len(chunks)} chunks"


@task(queue_name=EXPORTS_QUEUE)
def render_export_chunk(export_id: int, record_ids: list[int]) -> str:
    exports.export_render_chunk(export_id=export_id, record_ids=record_ids)
    return "done"


@task(queue_name=RECORDS_QUEUE)
def make_checkpoint(reason: str) -> str:
    """A checkpoint; a periodic one only if a chain moved since the last."""
    if reason == CheckpointReason.PERIODIC:
        checkpoint = checkpoints.checkpoint_if_changed(reason=CheckpointReason.PERIODIC)
    else:
        checkpoint = checkpoints.checkpoint_make(reason=CheckpointReason(reason))
    return checkpoint.file_name if checkpoint is not None else "nothing changed"


@register_effect(Effect.RECORDS_ISSUE)
def _enqueue_records(record_ids: list[int]) -> None:
    for record_id in record_ids:
        issue_record.enqueue(record_id)


@register_effect(Effect.EXPORTS_START)
def _enqueue_export(export_id: int) -> None:
    plan_export.enqueue(export_id)


def database_queue() -> bool:
    return type(task_backends["default"]).__module__.startswith("django_tasks_db")


def rq_queue() -> bool:
    return isinstance(task_backends["default"], RQBackend)


def tasks_reap_lost(*, now: datetime) -> int:
    """Mark as failed the queue's tasks whose worker died while running them."""
    if rq_queue():
        return _rq_reap_lost(now=now)
    if not database_queue():
        return 0
    from django_tasks_db.models import DBTaskResult  # only with the database queue installed

    limit = timedelta(seconds=2 * settings.COI_RENDER_TIME_LIMIT + 60)
    return DBTaskResult.objects.filter(status="RUNNING", started_at__lt=now - limit).update(
        status="FAILED",
        finished_at=now,
        exception_class_path=f"{WorkerLost.__module__}.{WorkerLost.__qualname__}",
        traceback="The worker running this task stopped before it finished (reaped).",
    )


def _waiting_args(*tasks: Task[Any, Any]) -> list[list[Any]]:
    """The arguments of every call of ``tasks`` still waiting in the queue or running (none
    with a backend that cannot be asked)."""
    if rq_queue():
        return _rq_waiting_args(tasks)
    if not database_queue():
        return []
    from django_tasks_db.models import DBTaskResult

    queued = DBTaskResult.objects.filter(
        Q(status="READY") | Q(status="RUNNING"), task_path__in=[t.module_path for t in tasks]
    ).values_list("args_kwargs", flat=True)
    return [args.get("args") or [] for args in queued]


def _queued_record_ids() -> set[int]:
    """Records with a task still waiting or running: their own, or their export's chunk (a
    dossier behind a long export is not late)."""
    chunks = _waiting_args(render_export_chunk)
    return {args[0] for args in _waiting_args(issue_record) if args} | {
        record_id for args in chunks if len(args) > 1 for record_id in args[1]
    }


def _queued_export_ids() -> set[int]:
    """Export jobs with a task still waiting or running (with a backend that cannot be asked,
    only the time since the last progress counts)."""
    return {args[0] for args in _waiting_args(plan_export, render_export_chunk) if args}


def _checkpoint_queued() -> bool:
    return bool(_waiting_args(make_checkpoint))


# ---- RQ ------------------------------------------------------------------------------------


class _CallbackInPlace(BaseDeathPenalty):
    """No time limit on the failure callback of an abandoned job when the sweep fails it:
    django-tasks-rq's only records the failure, and RQ's default limit is an alarm, which the
    scheduler's thread (where the sweep runs) cannot set."""

    def setup_death_penalty(self) -> None:
        pass

    def cancel_death_penalty(self) -> None:
        pass


def _rq(name: str) -> Queue:
    return django_rq.get_queue(name, job_class=RQJob)


def _rq_started(queue: Queue) -> StartedJobRegistry:
    return StartedJobRegistry(queue=queue, job_class=RQJob, death_penalty_class=_CallbackInPlace)


def _rq_reap_lost(*, now: datetime) -> int:
    """What RQ's workers do every ten minutes, at every sweep and as of ``now``: fail the
    started jobs whose worker stopped renewing their entry (killed, or its machine lost)."""
    reaped = 0
    for name in WORKER_QUEUES:
        queue = _rq(name)
        registry = _rq_started(queue)
        expired = registry.get_expired_job_ids(now.timestamp())
        reaped += sum(
            1
            for job in RQJob.fetch_many(expired, connection=queue.connection)
            if job is not None and job.get_status(refresh=False) == JobStatus.STARTED
        )
        registry.cleanup(now.timestamp())
    return reaped


def _rq_waiting_args(tasks: Iterable[Task[Any, Any]]) -> list[list[Any]]:
    """Read in the order a job moves (queued, taken by a worker, started), so that one moving
    meanwhile is still seen. Each waiting job is read from Redis, in batches: the sweep reads
    the records queue only while a record seems overdue or a checkpoint is due."""
    paths = {t.module_path for t in tasks}
    found: list[list[Any]] = []
    for name in sorted({t.queue_name for t in tasks}):
        queue = _rq(name)
        ids = [
            *queue.get_job_ids(),
            *queue.intermediate_queue.get_job_ids(),
            *_rq_started(queue).get_job_ids(cleanup=False),
            *queue.scheduled_job_registry.get_job_ids(cleanup=False),
        ]
        for start in range(0, len(ids), 1000):
            for job in RQJob.fetch_many(ids[start : start + 1000], connection=queue.connection):
                if job is not None and job.func_name in paths:
                    found.append(list(job.args))
    return found


class RQWorker(SimpleWorker):
    """An RQ worker that runs each task in its own main thread, as the database queue's worker
    does: ``run_worker`` keeps the scheduler in a thread beside it, and forking a process that
    has other threads is unsafe; the render's time limit needs the main thread too. Django's
    database connections are checked between tasks, as between requests. (``manage.py
    rqworker``, on machines without a scheduler, forks a process per task instead.)"""

    def execute_job(self, job: Any, queue: Queue) -> None:
        close_old_connections()
        try:
            super().execute_job(job, queue)
        finally:
            close_old_connections()


def rq_worker() -> RQWorker:
    """A worker on every queue of ours, in ``WORKER_QUEUES`` order."""
    queues = [_rq(name) for name in WORKER_QUEUES]
    return RQWorker(queues, connection=queues[0].connection, job_class=RQJob)


def checkpoint_sweep(*, now: datetime) -> bool:
    """Queue a periodic checkpoint when one is due and none is waiting; return whether queued."""
    if not checkpoints.checkpoint_due(now=now) or _checkpoint_queued():
        return False
    make_checkpoint.enqueue(CheckpointReason.PERIODIC.value)
    return True


def records_sweep(*, now: datetime, retry_failed: bool = False) -> issuing.Sweep:
    """Reap lost tasks, queue again every record whose issuing was lost or failed, and fail
    the export jobs that stalled."""
    sweep = issuing.Sweep(reaped=tasks_reap_lost(now=now))
    sweep.exports_failed = exports.exports_fail_stalled(now=now, waiting=_queued_export_ids())
    if retry_failed:
        issuing.records_reset_failed()
    due = issuing.records_due_for_retry(now=now)
    queued = _queued_record_ids() if due else set()
    for record_id in due:
        if record_id not in queued:
            issue_record.enqueue(record_id)
            sweep.requeued += 1
    return sweep
