"""The portal's own settings, isolated for one run of bench/launch_bench.py (bench/stack.py sets the
environment).

Everything else comes from the environment as for `make run`: the run's database (DATABASE_URL), a
Redis database of the launch benchmark's own (CELERY_BROKER_URL), keys and a PORTAL_ID of the run's
own. The one addition is a Redis key prefix per run, which portal/settings.py takes from nowhere,
so that two runs side by side, `make run` or the tests never share a queue or a key.
"""

import os

from portal.settings import *  # noqa: F403

_prefix = {"global_keyprefix": f"bench-{os.environ['PORTAL_BENCH_RUN']}:"}
CELERY_BROKER_TRANSPORT_OPTIONS = {**CELERY_BROKER_TRANSPORT_OPTIONS, **_prefix}  # noqa: F405
CELERY_RESULT_BACKEND_TRANSPORT_OPTIONS = _prefix
