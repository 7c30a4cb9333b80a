"""Test settings: the project's settings with fast hashing and in-memory mail."""

from __future__ import annotations

import os
import tempfile

os.environ.setdefault("DJANGO_SECRET_KEY", "tests-only-secret-key-not-for-deployment-0123456789")

from coi.settings import *  # noqa: F403
from coi.settings import DATABASES

PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
COI_SEND_NOTIFICATIONS_INLINE = False
LOGGING = {"version": 1, "disable_existing_loggers": False}

if (
    DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3"
    and "DATABASE_URL" not in os.environ
):
    DATABASES["default"]["NAME"] = ":memory:"
    DATABASES["default"]["OPTIONS"] = {}

# Uploaded files go to a throw-away folder per test process, never into the work tree.
MEDIA_ROOT = tempfile.mkdtemp(prefix="coi-test-media-")

# Tests read English unless they ask for another language (the deployment's default is Russian).
LANGUAGE_CODE = "en"

# Tasks are queued but not run unless a test runs them: most tests are about the workflow, and
# rendering a PDF per transition would make the suite ten times slower. Record tests switch the
# backend (tests/records.py).
TASKS = {
    "default": {
        "BACKEND": "django_tasks.backends.dummy.DummyBackend",
        "QUEUES": ["default", "records", "exports"],
    }
}
# A development seal per test process, outside the work tree.
COI_SEAL_PKCS12 = ""
COI_SEAL_ALLOW_DEVELOPMENT = True
COI_DEV_SEAL_DIR = tempfile.mkdtemp(prefix="coi-test-seal-")
COI_PUBLIC_URL = "https://coi.example.kz"
# Records in English unless a test asks for another language (the default is kk-ru).
COI_RECORD_LANGUAGE = "en"

# Checkpoint files of the test runs go to a throw-away folder, never into var/ (issue 14).
COI_CHECKPOINT_DIR = tempfile.mkdtemp(prefix="coi-test-checkpoints-")

# Static files without collectstatic (issue 17): the plain storage, whatever DJANGO_DEBUG says,
# and WhiteNoise (in its production mode: pytest-django runs the tests with DEBUG off) taking
# the files from the apps' static folders at start, as collectstatic would have copied them; an
# empty STATIC_ROOT of the test process's own. tests/test_production_profile.py collects and
# serves the real thing.
STORAGES = {
    **STORAGES,  # noqa: F405
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
STATIC_ROOT = tempfile.mkdtemp(prefix="coi-test-static-")
WHITENOISE_USE_FINDERS = True
