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
