"""Settings for the tests that run RQ workers in other processes (tests/test_rq_backend.py): the
worker settings, with the task queue that the project's own settings make of the environment
the test gives (COI_TASK_BACKEND=rq, COI_REDIS_URL of the Redis server it started)."""

from __future__ import annotations

from coi.settings import TASKS as _PROJECT_TASKS
from tests.worker_settings import *  # noqa: F403

TASKS = _PROJECT_TASKS
