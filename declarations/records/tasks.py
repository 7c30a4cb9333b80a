"""Background tasks (DESIGN.md §7): record issuing and bulk exports, on django-tasks.

``issuing.py`` and ``exports.py`` decide *what* to do; these thin tasks are the queue's entry
points, and the after-commit effects registered here (``Effect.RECORDS_ISSUE``,
``Effect.EXPORTS_START``; the app imports this module in ``DeclarationsConfig.ready``) are how a
transaction hands work to the queue. The backend is a setting (``COI_TASK_BACKEND``): in-process
in development, the database queue (``manage.py db_worker``) embedded, another django-tasks
backend when one machine is not enough.

The database queue does not notice a worker that died mid-task: its task stays *running*
forever. ``tasks_reap_lost`` marks such tasks failed once they have run longer than any render
may (the render time limit, twice, plus a minute), so the ``issue_records`` sweep
(``records_sweep``) can queue the work again; issuing is idempotent, so a record is still issued
exactly once.

``make_checkpoint`` commits to every chain (``checkpoints.py``); ``checkpoint_sweep``, run by
``issue_records`` every minute, queues it when one is due (``COI_CHECKPOINT_MINUTES`` since the
last, and a chain moved).
"""

from __future__ import annotations

from datetime import datetime, timedelta

from django.conf import settings
from django.db.models import Q
from django_tasks import task, task_backends

from declarations.choices import CheckpointReason, ExportFailure
from declarations.models import Record
from declarations.records import checkpoints, exports, issuing
from declarations.side_effects import Effect, register_effect

RECORDS_QUEUE = "records"
EXPORTS_QUEUE = "exports"


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


def tasks_reap_lost(*, now: datetime) -> int:
    """Mark as failed the queue's tasks whose worker died while running them."""
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


def _queued_record_ids() -> set[int]:
    if not database_queue():
        return set()
    from django_tasks_db.models import DBTaskResult

    queued = DBTaskResult.objects.filter(
        Q(status="READY") | Q(status="RUNNING"), task_path=f"{__name__}.issue_record"
    ).values_list("args_kwargs", flat=True)
    return {args["args"][0] for args in queued if args.get("args")}


def _queued_export_ids() -> set[int]:
    """Export jobs with a task still waiting or running in the database queue (another
    backend cannot be asked: there, only the time since the last progress counts)."""
    if not database_queue():
        return set()
    from django_tasks_db.models import DBTaskResult

    queued = DBTaskResult.objects.filter(
        Q(status="READY") | Q(status="RUNNING"),
        task_path__in=[f"{__name__}.plan_export", f"{__name__}.render_export_chunk"],
    ).values_list("args_kwargs", flat=True)
    return {args["args"][0] for args in queued if args.get("args")}


def _checkpoint_queued() -> bool:
    if not database_queue():
        return False
    from django_tasks_db.models import DBTaskResult

    return DBTaskResult.objects.filter(
        Q(status="READY") | Q(status="RUNNING"), task_path=f"{__name__}.make_checkpoint"
    ).exists()


def checkpoint_sweep(*, now: datetime) -> bool:
    """Queue a periodic checkpoint when one is due and none is waiting; return whether queued."""
    if _checkpoint_queued() or not checkpoints.checkpoint_due(now=now):
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
    queued = _queued_record_ids()
    for record_id in issuing.records_due_for_retry(now=now):
        if record_id not in queued:
            issue_record.enqueue(record_id)
            sweep.requeued += 1
    return sweep
