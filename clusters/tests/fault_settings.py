"""Settings of the Celery worker processes the fault tests start and kill (fault_helpers.py): the
test settings, on the same run's database and Redis prefix, tuned so faults play out in seconds.

A message whose worker was killed stays "unacked" in Redis until a worker's restore sweep finds it
older than `visibility_timeout` (kombu's default is an hour) and puts it back in its queue; the
sweep runs every `unacked_restore_interval` seconds but scans only on every
`unacked_restore_throttle`-th run (10 × 10 s by default in kombu 5.7), so both come down too; and a
worker killed in the middle of a sweep leaves its sweep mutex behind for `unacked_mutex_expire`
(5 minutes by default).
Retries back off in twentieths of the production delays (a 60 s countdown would also outlive
the visibility timeout and run twice); FAULT_CLOUD_RETRY_DELAY changes that unit (1 s in production).
"""

import os

from portal.testing.settings import *  # noqa: F403

CELERY_BROKER_TRANSPORT_OPTIONS = {
    **CELERY_BROKER_TRANSPORT_OPTIONS,  # noqa: F405
    "visibility_timeout": 5,
    "unacked_restore_interval": 1,
    "unacked_restore_throttle": 1,
    "unacked_mutex_expire": 5,
}
CELERY_CLOUD_RETRY_DELAY = float(os.environ.get("FAULT_CLOUD_RETRY_DELAY") or 0.05)
# Where the cloud side sends its reports: each test names a queue of its own.
CELERY_PORTAL_RESULTS_QUEUE = os.environ.get("PORTAL_RESULTS_QUEUE", "default")

# A test that holds SQLite's write lock to cause a transient database error (test_convergence.py) gives
# its workers a short busy timeout, so that their writes fail within a second, not the portal's 30 s.
if os.environ.get("FAULT_SQLITE_TIMEOUT") and DATABASES["default"]["ENGINE"].endswith("sqlite3"):  # noqa: F405
    DATABASES["default"]["OPTIONS"] = {  # noqa: F405
        **DATABASES["default"].get("OPTIONS", {}),  # noqa: F405
        "timeout": float(os.environ["FAULT_SQLITE_TIMEOUT"]),
    }
