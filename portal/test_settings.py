"""Settings for the test suite: the real ones, with a Redis database of its own for Celery."""

import os

# Tests talk to a real Redis, on a database number that a running portal (db 0) does not use.
os.environ.setdefault("CELERY_BROKER_URL", "redis://127.0.0.1:6379/15")

from portal.settings import *  # noqa: E402, F403

# Fast password hashing for the many test users; production keeps Django's defaults.
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]

# A file, not memory, so that a real Celery worker process can read what a test committed; one per
# test run, so that two runs side by side do not share it.
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":  # noqa: F405
    DATABASES["default"]["TEST"] = {"NAME": str(VAR_DIR / f"test-{os.getpid()}.sqlite3")}  # noqa: F405
