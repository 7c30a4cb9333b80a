"""gunicorn's settings for the production profile (issue 17; docs/DEPLOY.md).

gunicorn reads this file when started from the project root (``gunicorn coi.wsgi``, or plain
``gunicorn``); everything comes from the environment, with defaults for one machine behind a
reverse proxy that terminates TLS. Anything else gunicorn knows can still be given in
``GUNICORN_CMD_ARGS``.

Before any worker starts, the master runs Django's system checks (with ``--deploy``'s when
DEBUG is off) and refuses to start on an error, printing it: a missing seal or a wrong
passphrase (coi.E022) stops the start instead of failing the first record.
"""

from __future__ import annotations

import os
from typing import Any

import django
from django.conf import settings
from django.core.management import call_command
from django.core.management.base import SystemCheckError
from django.db import connections


def _int(name: str, default: int) -> int:
    raw = os.environ.get(name)
    if raw is None or raw == "":
        return default
    try:
        return int(raw)
    except ValueError:
        raise SystemExit(f"{name} must be an integer, got {raw!r}.") from None


wsgi_app = "coi.wsgi:application"
bind = os.environ.get("COI_WEB_BIND", "127.0.0.1:8000").split(",")
# gunicorn's advice: (2 x cores) + 1 synchronous workers; a worker is one process with its own
# connection pool. More threads per worker (the gthread worker) serve more slow clients with
# less memory; each thread needs a connection (COI_DB_POOL_MAX_SIZE).
workers = _int("COI_WEB_WORKERS", 2 * (os.cpu_count() or 1) + 1)
threads = _int("COI_WEB_THREADS", 1)
# A request still running after this is killed and its worker restarted. A dossier is rendered
# and sealed in the request that downloads it: a few seconds for a long one.
timeout = _int("COI_WEB_TIMEOUT", 60)
graceful_timeout = _int("COI_WEB_GRACEFUL_TIMEOUT", 30)
keepalive = 5
# Workers are replaced now and then (WeasyPrint's caches grow with what was rendered).
max_requests = _int("COI_WEB_MAX_REQUESTS", 1000)
max_requests_jitter = max_requests // 10
# Heartbeats in memory, not on a disk that may be slow (gunicorn's advice for containers).
worker_tmp_dir = "/dev/shm" if os.path.isdir("/dev/shm") else None  # noqa: S108

# The access log is Django's own line per request (logger "coi.requests": JSON, with the request
# id), so gunicorn's is kept to its warnings; gunicorn's messages go to Django's handler, in the
# same format, once Django is set up (the line saying it starts comes before, as plain text).
logconfig_dict = {
    "version": 1,
    "disable_existing_loggers": False,
    "loggers": {
        "gunicorn.error": {"level": "INFO", "handlers": [], "propagate": True},
        "gunicorn.access": {"level": "WARNING", "handlers": [], "propagate": True},
    },
}
# gunicorn 26+ opens a control socket in the home folder, one path for every instance of the
# user's; this deployment is run with signals (docs/DEPLOY.md), so none.
control_socket_disable = True


def on_starting(server: Any) -> None:
    """Set Django up in the master and run the system checks; an error stops the start.

    No database is touched here (the checks need none), and the master holds no connection
    when it forks its workers.
    """
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "coi.settings")
    django.setup()
    try:
        call_command("check", deploy=not settings.DEBUG)
    except SystemCheckError as error:
        # gunicorn prints a RuntimeError as "Error: ..." and exits with status 1
        raise RuntimeError(f"Django's system checks stopped the start.\n{error}") from None
    finally:
        connections.close_all()
