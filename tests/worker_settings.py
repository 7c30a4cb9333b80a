"""Settings for the tests that run real task workers in other processes (tests/worker_script.py):
the test settings with the database queue, on the file database and folders the test gives."""

from __future__ import annotations

import os

from tests.settings import *  # noqa: F403

TASKS = {
    "default": {
        "BACKEND": "django_tasks_db.DatabaseBackend",
        "QUEUES": ["default", "records", "exports"],
    }
}
MEDIA_ROOT = os.environ["COI_MEDIA_ROOT"]
COI_DEV_SEAL_DIR = os.environ["COI_DEV_SEAL_DIR"]
