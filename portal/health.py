"""Liveness of the portal's parts, as the status page shows them."""

from celery.exceptions import TimeoutError as CeleryTimeout
from django.db import connection
from kombu.exceptions import OperationalError

from portal.tasks import ping

WORKER_TIMEOUT = 5.0


def database_status() -> tuple[bool, str]:
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
        return True, "ok"
    except Exception as exc:  # any driver error means "down"; the message says why
        return False, f"down ({exc.__class__.__name__})"


def worker_status(timeout: float = WORKER_TIMEOUT) -> tuple[bool, str, str]:
    """(ok, short status, explanation): sends a real task through the broker and waits for it."""
    try:
        result = ping.apply_async(retry=False)
    except OperationalError as exc:
        return False, "broker unreachable", f"Cannot reach the Celery broker: {exc}"
    try:
        answer = result.get(timeout=timeout)
    except CeleryTimeout:
        result.forget()
        return False, "no answer", f"No Celery worker answered a ping task within {timeout:g} s."
    except OperationalError as exc:
        return False, "result backend unreachable", f"Cannot read the task result: {exc}"
    return (answer == "pong"), ("ok" if answer == "pong" else "wrong answer"), ""
