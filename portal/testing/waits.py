"""Waiting in tests (docs/testing.md): for a condition, never for a fixed time, with a deadline that
fits a loaded machine.

On a CI machine whose load is several times its cores, moto, a Celery worker, Redis or a started
server answer seconds late; deadlines of a few seconds failed there. A long deadline costs nothing
when the condition comes early.
"""

from __future__ import annotations

import subprocess
import time
import urllib.request
from collections.abc import Callable
from pathlib import Path

# For anything that involves another process or thread: moto, Celery workers, Redis, a server.
DEADLINE = 60.0
# For a process a test starts (Python, Django and the program's own start) to be ready.
STARTING = 120.0


def wait_for(
    predicate: Callable,
    *,
    timeout: float = 120.0,
    tick: Callable | None = None,
    message: str = "condition",
    every: float = 0.5,
):
    """Poll until predicate() is true and return its value; `tick()` runs each round (e.g. a
    monitoring cycle). AssertionError naming `message` once `timeout` seconds went by."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {message} ({timeout:g} s)")
        if tick:
            tick()
        time.sleep(every)


def wait_until_started(
    process: subprocess.Popen,
    ready: Callable[[], bool],
    *,
    what: str,
    log: Path,
    timeout: float = STARTING,
    every: float = 0.2,
) -> None:
    """Wait until a process a test started is `ready()`; RuntimeError with the end of its `log` if
    it exits first or is not ready within `timeout` seconds (the caller stops it)."""
    deadline = time.monotonic() + timeout
    while not ready():
        if process.poll() is not None or time.monotonic() > deadline:
            state = (
                f"exited with {process.returncode}"
                if process.poll() is not None
                else f"not ready in {timeout:g} s"
            )
            raise RuntimeError(f"{what} did not start ({state}):\n{log.read_text(errors='replace')[-3000:]}")
        time.sleep(every)


def serves(url: str) -> Callable[[], bool]:
    """A `ready` for wait_until_started: whether a GET of `url` succeeds (a 2xx answer)."""

    def answered() -> bool:
        try:
            urllib.request.urlopen(url, timeout=10).close()  # noqa: S310 - a server the test started
        except OSError:  # refused, reset, timed out, or an HTTP error status
            return False
        return True

    return answered


def wait_until_worker_answers(
    process: subprocess.Popen,
    name: str,
    *,
    log: Path,
    what: str = "the Celery worker",
    timeout: float = STARTING,
) -> None:
    """wait_until_started for a `celery worker --hostname name`: ready once it answers a ping."""
    from portal.celery import app

    def answers() -> bool:
        return bool(app.control.ping(destination=[name], timeout=1.0))  # returns on the answer

    wait_until_started(process, answers, what=what, log=log, timeout=timeout, every=0)


def stop(process: subprocess.Popen, grace: float = 15.0) -> None:
    """Stop a process a test started: SIGTERM, then SIGKILL if it is still there after `grace`
    seconds (a worker finishing its task, a server its requests)."""
    if process.poll() is not None:
        return
    process.terminate()
    try:
        process.wait(timeout=grace)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()
