"""The portal's own processes started for a test as `make run` starts them (scripts/run.sh): the web
server (portal/gunicorn.conf.py) and Celery's beat, on the test database and the test run's Redis
prefix; each stopped when the test ends, however it ends."""

from __future__ import annotations

import os
import subprocess
import sys
from contextlib import contextmanager
from pathlib import Path

from django.conf import settings

from clusters.tests.conftest import free_port
from conftest import _database_url
from portal.testing.waits import serves, stop, wait_until_started

ROOT = Path(__file__).resolve().parents[2]


def environment(**changes) -> dict:
    return {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "portal.testing.settings",
        "DATABASE_URL": _database_url(settings.DATABASES["default"]),
        **changes,
    }


def server_command(port: int) -> list[str]:
    """What scripts/run.sh runs, on another port."""
    return [
        sys.executable,
        "-m",
        "gunicorn",
        "--config",
        "portal/gunicorn.conf.py",
        "--bind",
        f"127.0.0.1:{port}",
    ]


@contextmanager
def started(command: list[str], log_path: Path, env: dict):
    with open(log_path, "wb") as log:
        process = subprocess.Popen(command, cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)
    try:
        yield process
    finally:
        stop(process, grace=40)


@contextmanager
def web_server(directory: Path, **env):
    """The portal's server; its URL."""
    port = free_port()
    log_path = directory / "server.log"
    with started(server_command(port), log_path, environment(**env)) as process:
        url = f"http://127.0.0.1:{port}"
        wait_until_started(process, serves(url + "/"), what="the server", log=log_path)
        yield url


@contextmanager
def beat(directory: Path, **env):
    """Celery's beat with the portal's schedule (portal/settings.py CELERY_BEAT_SCHEDULE); `env`
    sets its intervals (MONITOR_INTERVAL, ELASTIC_INTERVAL)."""
    command = [sys.executable, "-m", "celery", "-A", "portal", "beat", "--loglevel", "INFO",
               "--schedule", str(directory / "celerybeat-schedule")]  # fmt: skip
    with started(command, directory / "beat.log", environment(**env)) as process:
        yield process
