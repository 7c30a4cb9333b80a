"""Settings for the benchmarks: the project's production-like settings (DEBUG off), with the
plain comparison views mounted, no throttling and quiet logs."""

from __future__ import annotations

import os

os.environ.setdefault("DJANGO_DEBUG", "false")
os.environ.setdefault("DJANGO_SECRET_KEY", "bench-only-secret-key-0123456789-abcdefghijklmnop")
os.environ.setdefault("DJANGO_SECURE_SSL_REDIRECT", "false")

from coi.settings import *  # noqa: F403
from coi.settings import REST_FRAMEWORK, STORAGES

ROOT_URLCONF = "bench.urls"
ALLOWED_HOSTS = ["testserver", "127.0.0.1", "localhost"]  # the load test's gunicorn: loopback
# The load comes from one address: throttling off, except for the sign-in storm of bench/load.py
# (COI_BENCH_THROTTLES=on), which shows the production limits let an office sign in.
if os.environ.get("COI_BENCH_THROTTLES") != "on":
    REST_FRAMEWORK = {**REST_FRAMEWORK, "DEFAULT_THROTTLE_CLASSES": []}
LOGGING = {"version": 1, "disable_existing_loggers": False}

# The benches serve no pages that need collectstatic's manifest: the plain storage (the load
# test is about the API; WhiteNoise and its hashed files are tested in tests/).
STORAGES["staticfiles"] = {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"}
