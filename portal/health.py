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


def worker_status(timeout: float = WORKER_TIMEOUT, queue: str = "default") -> tuple[bool, str, str]:
    """(ok, short status, explanation): sends a real task through the broker and waits for it.

    The ping expires with the wait, so pings nobody answered do not pile up in a dead queue.
    """
    try:
        with ping.app.connection_for_write() as connection:
            connection.ensure_connection(max_retries=1, timeout=timeout)
        result = ping.apply_async(queue=queue, expires=timeout, retry=False)
    except OperationalError as exc:
        return False, "broker unreachable", f"Cannot reach the Celery broker: {exc}"
    try:
        answer = result.get(timeout=timeout)
    except CeleryTimeout:
        result.forget()
        return (
            False,
            "no answer",
            f"No Celery worker on queue {queue!r} answered a ping within {timeout:g} s.",
        )
    except OperationalError as exc:
        return False, "result backend unreachable", f"Cannot read the task result: {exc}"
    return (answer == "pong"), ("ok" if answer == "pong" else "wrong answer"), ""
