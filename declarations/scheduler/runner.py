"""Running the declared jobs under a lease (issue 16).

A tick takes each due job with one conditional UPDATE (``next_run_at`` passed, no live lease):
of two schedulers ticking at the same moment exactly one takes it, on SQLite and PostgreSQL
alike, and the other moves on. The holder runs the job, then frees it with its next time. A
scheduler that dies mid-job leaves a lease that runs out after ``COI_JOB_LEASE_SECONDS``. A job
that fails is logged with its error on its row (the admin shows it) and tried at its next time;
it never stops the others.
"""

from __future__ import annotations

import logging
import socket
import threading
import traceback
from datetime import datetime, timedelta

from django.conf import settings
from django.db import close_old_connections
from django.db.models import F, Q
from django.utils import timezone
from django.utils.crypto import get_random_string

from declarations.models import ScheduledJob
from declarations.scheduler.jobs import Job, declared_jobs

logger = logging.getLogger(__name__)


def scheduler_id() -> str:
    return f"{socket.gethostname()}:{get_random_string(8)}"


def _ensure_rows(jobs: tuple[Job, ...], now: datetime) -> None:
    known = set(ScheduledJob.objects.values_list("name", flat=True))
    missing = [
        ScheduledJob(name=j.name, next_run_at=j.first_at(now)) for j in jobs if j.name not in known
    ]
    if missing:
        ScheduledJob.objects.bulk_create(missing, ignore_conflicts=True)


def _take(job: Job, owner: str, now: datetime) -> bool:
    lease = timedelta(seconds=settings.COI_JOB_LEASE_SECONDS)
    return bool(
        ScheduledJob.objects.filter(name=job.name, next_run_at__lte=now)
        .filter(Q(lease_until__isnull=True) | Q(lease_until__lt=now))
        .update(lease_owner=owner, lease_until=now + lease, last_started_at=timezone.now())
    )


def tick(*, owner: str, now: datetime | None = None) -> list[str]:
    """Run every job that is due and not held by another scheduler; returns the names run."""
    now = now or timezone.now()
    jobs = declared_jobs()
    _ensure_rows(jobs, now)
    ran = []
    for job in jobs:
        if not _take(job, owner, now):
            continue
        result, error = "", ""
        try:
            result = job.run(now)
        except Exception:
            logger.exception("scheduled job %s failed", job.name)
            error = traceback.format_exc()
        ScheduledJob.objects.filter(name=job.name, lease_owner=owner).update(
            lease_owner="",
            lease_until=None,
            next_run_at=job.next_after(now),
            last_finished_at=timezone.now(),
            last_result=result[:255],
            last_error=error,
            runs=F("runs") + 1,
        )
        ran.append(job.name)
    return ran


def run_forever(*, owner: str, stop: threading.Event, tick_seconds: float | None = None) -> None:
    """Tick until ``stop`` is set (the worker's signal handler, or a test)."""
    seconds = tick_seconds if tick_seconds is not None else settings.COI_SCHEDULER_TICK_SECONDS
    logger.info("scheduler %s started, ticking every %s s", owner, seconds)
    while not stop.is_set():
        close_old_connections()
        try:
            tick(owner=owner)
        except Exception:  # the database away for a moment: try again at the next tick
            logger.exception("scheduler tick failed")
        stop.wait(seconds)
    close_old_connections()
    logger.info("scheduler %s stopped", owner)
