"""Settings for the test suite: the real ones, isolated per test run.

A run (and every process it starts, such as the Celery worker) shares one run id, so two test
runs side by side — or a test run beside `make run` — never share a database, a queue or a
result: Redis keys carry the run id as a prefix, on a Redis database of the tests' own.
"""

import os

RUN_ID = os.environ.setdefault("PORTAL_TEST_RUN", str(os.getpid()))
os.environ.setdefault("CELERY_BROKER_URL", "redis://127.0.0.1:6379/15")
# Cloud API calls may wait 60 s for an answer, not the portal's 6, and lists 600 s, not 60
# (clusters/providers/_libcloud.py): on a loaded CI machine moto answers late (at load ~11 on 2 cores,
# its first DescribeImages after a reset took 33 s). Set here for this process and every one the
# tests start (workers, agents). A test about those timeouts gives its own (test_cloud_check_e2e.py,
# test_provider_ec2.py).
os.environ.setdefault("CLOUD_API_TIMEOUT", "60")

from portal.settings import *  # noqa: E402, F403

# Fast password hashing for the many test users; production keeps Django's defaults.
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]

_prefix = {"global_keyprefix": f"test-{RUN_ID}:"}
CELERY_BROKER_TRANSPORT_OPTIONS = {**CELERY_BROKER_TRANSPORT_OPTIONS, **_prefix}  # noqa: F405
CELERY_RESULT_BACKEND_TRANSPORT_OPTIONS = _prefix

# A file, not memory, so that a real Celery worker process can read what a test committed.
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":  # noqa: F405
    DATABASES["default"]["TEST"] = {"NAME": str(VAR_DIR / f"test-{RUN_ID}.sqlite3")}  # noqa: F405
else:  # a test database of this run's own, whatever database the URL names
    DATABASES["default"]["TEST"] = {"NAME": f"test_portal_{RUN_ID}"}  # noqa: F405

# Tests dispatch launches in their own process, where they can watch every message;
# clusters/tests/test_launch_dispatch.py checks the worker path production uses.
LAUNCH_DISPATCH_INLINE = True
