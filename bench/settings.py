"""The portal's settings for bench/web_bench.py: the same, plus the no-database view of bench/urls.py
(the ceiling the check-in is measured beside)."""

from portal.settings import *  # noqa: F403

ROOT_URLCONF = "bench.urls"
