"""Test settings: the project's settings with fast hashing and in-memory mail."""

from __future__ import annotations

import os

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
