"""``/healthz`` and ``/readyz``: what a monitor and a deploy ask of a running instance (issue 17).

``/healthz`` — is this instance able to do its work: the database answers, the task queue is
not falling behind (the oldest ready task's age, with the database queue), the record store
takes a write, the seal opens. ``/readyz`` — may this instance take traffic: the database
answers, every migration is applied, and (with the manifest storage) the static files were
collected. Both answer JSON, 200 when every check passes and 503 naming the one that failed;
neither needs a sign-in nor says anything secret (no paths, no addresses, no error messages:
those go to the log, under the request's id).

``HealthMiddleware`` answers them ahead of ``SecurityMiddleware``: a load balancer probing
over plain HTTP, at the machine's own address, gets the answer rather than a redirect to
HTTPS or a 400 for a Host not in ``ALLOWED_HOSTS``; and no session, CSRF, axes or throttle is
involved. Each costs a handful of queries (pinned by the tests).
"""

from __future__ import annotations

import datetime as dt
import logging
import time
import uuid
from collections.abc import Callable
from typing import Any

from django.conf import settings
from django.contrib.staticfiles.storage import ManifestFilesMixin, staticfiles_storage
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.db import DatabaseError, connection
from django.db.migrations.executor import MigrationExecutor
from django.db.models import Count, Min, Q
from django.db.models.functions import Greatest
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.utils import timezone
from django_tasks import task_backends
from django_tasks_db.models import DBTaskResult, get_date_max

from declarations.records.signing import seal_problem
from declarations.records.tasks import database_queue

log = logging.getLogger(__name__)

Check = dict[str, Any]


def _failed(check: str, error: BaseException) -> Check:
    # the class name is enough to act on; the message (a host, a user name, a path) is logged
    log.error("health check %s failed: %s", check, error, exc_info=error)
    return {"ok": False, "error": type(error).__name__}


def check_database() -> Check:
    started = time.monotonic()
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
    except DatabaseError as error:
        return _failed("database", error)
    return {"ok": True, "ms": round((time.monotonic() - started) * 1000, 1)}


def check_task_queue() -> Check:
    """The task queue's lag: how long its oldest ready task has been waiting, per queue.

    With the database queue a task is ready from when it was queued, or from its ``run_after``
    when it has one; with RQ, a queue holds only ready jobs (RQ keeps scheduled ones apart), so
    its head's ``enqueued_at`` is the lag. Another backend reports its name only.
    """
    backend = type(task_backends["default"]).__name__
    if backend == "RQBackend":
        return _lag_report(backend, _rq_queues)
    if not database_queue():
        return {"ok": True, "backend": backend}
    return _lag_report(backend, _database_queues)


def _lag_report(backend: str, queues_of: Callable[[dt.datetime], dict[str, Check]]) -> Check:
    try:
        queues = queues_of(timezone.now())
    # the database's errors, or whatever the Redis client raises (not DatabaseErrors)
    except Exception as error:  # noqa: BLE001
        return _failed("task_queue", error)
    lag = max((queue["lag_seconds"] for queue in queues.values()), default=0)
    return {
        "ok": lag <= settings.COI_HEALTH_MAX_QUEUE_LAG_SECONDS,
        "backend": backend,
        "lag_seconds": lag,
        "max_lag_seconds": settings.COI_HEALTH_MAX_QUEUE_LAG_SECONDS,
        "queues": queues,
    }


def _rq_queues(now: dt.datetime) -> dict[str, Check]:
    import django_rq  # only with RQ: it reads RQ_QUEUES at import

    queues = {}
    for name in settings.TASKS["default"]["QUEUES"]:
        queue = django_rq.get_queue(name)
        head = queue.get_jobs(0, 1)  # the oldest job still waiting (FIFO)
        ready = queue.count
        if not ready:
            continue
        since = head[0].enqueued_at if head and head[0].enqueued_at else now
        if timezone.is_naive(since):  # RQ writes UTC; older releases without a zone
            since = since.replace(tzinfo=dt.UTC)
        queues[name] = {"ready": ready, "lag_seconds": max(0, round((now - since).total_seconds()))}
    return queues


def _database_queues(now: dt.datetime) -> dict[str, Check]:
    # ready since it was queued, or since its run_after (``get_date_max()`` when it has none)
    unscheduled = Q(run_after=get_date_max())
    rows = (
        DBTaskResult.objects.ready()
        .values("queue_name")
        .annotate(
            ready=Count("id"),
            oldest_queued=Min("enqueued_at", filter=unscheduled),
            oldest_scheduled=Min(Greatest("enqueued_at", "run_after"), filter=~unscheduled),
        )
        .order_by()
    )
    return {
        row["queue_name"]: {"ready": row["ready"], "lag_seconds": _waited(row, now)} for row in rows
    }


def _waited(row: dict[str, Any], now: dt.datetime) -> int:
    since = min(t for t in (row["oldest_queued"], row["oldest_scheduled"]) if t is not None)
    return max(0, round((now - since).total_seconds()))


def check_record_store() -> Check:
    """Write a small file where records go, and remove it."""
    name = f"healthz/{uuid.uuid4().hex}.probe"
    try:
        saved = default_storage.save(name, ContentFile(b"ok"))
        default_storage.delete(saved)
    # Any backend's failure means "cannot store a record": OSError from the filesystem, and
    # whatever an object store's client raises (botocore's errors are not OSErrors).
    except Exception as error:  # noqa: BLE001
        return _failed("record_store", error)
    return {"ok": True}


def check_seal() -> Check:
    problem = seal_problem()
    if problem is not None:
        return {"ok": False, "error": str(problem)}
    return {"ok": True, "development": not settings.COI_SEAL_PKCS12}


def check_migrations() -> Check:
    try:
        executor = MigrationExecutor(connection)
        plan = executor.migration_plan(executor.loader.graph.leaf_nodes())
    except DatabaseError as error:
        return _failed("migrations", error)
    unapplied = [f"{migration.app_label}.{migration.name}" for migration, _ in plan]
    return {"ok": not unapplied, "unapplied": unapplied}


def check_static_files() -> Check:
    """With the manifest storage, pages name static files by the manifest collectstatic wrote;
    an instance started without it would fail every page."""
    if not isinstance(staticfiles_storage, ManifestFilesMixin):
        return {"ok": True, "manifest": False}
    return {"ok": bool(staticfiles_storage.hashed_files), "manifest": True}


HEALTH: dict[str, Callable[[], Check]] = {
    "database": check_database,
    "task_queue": check_task_queue,
    "record_store": check_record_store,
    "seal": check_seal,
}
READY: dict[str, Callable[[], Check]] = {
    "database": check_database,
    "migrations": check_migrations,
    "static_files": check_static_files,
}
PATHS: dict[str, dict[str, Callable[[], Check]]] = {"/healthz": HEALTH, "/readyz": READY}


def report(checks: dict[str, Callable[[], Check]]) -> HttpResponse:
    results = {name: check() for name, check in checks.items()}
    ok = all(result["ok"] for result in results.values())
    response = JsonResponse(
        {
            "ok": ok,
            "failed": [name for name, result in results.items() if not result["ok"]],
            "checks": results,
        },
        status=200 if ok else 503,
    )
    response["Cache-Control"] = "no-store"
    response["X-Content-Type-Options"] = "nosniff"
    return response


class HealthMiddleware:
    """Answers ``/healthz`` and ``/readyz`` before the rest of the stack sees them."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        checks = PATHS.get(request.path_info)
        if checks is None:
            return self.get_response(request)
        if request.method not in ("GET", "HEAD"):
            response = HttpResponse(status=405)
            response["Allow"] = "GET, HEAD"
            return response
        response = report(checks)
        if request.method == "HEAD":
            response.content = b""  # the status says it; a body would be dropped, with a warning
        return response
