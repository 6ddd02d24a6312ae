"""Per-cloud Celery queues (docs/gateway-agents.md): every task about a cloud goes to the queue its Cloud names,
where a portal worker or a gateway agent inside the provider's network serves it."""

from __future__ import annotations

import logging

from kombu.exceptions import OperationalError

from clusters.models import DEFAULT_QUEUE, Cloud
from portal.celery import app

logger = logging.getLogger(__name__)

INSPECT_TIMEOUT = 1.0


def send_to_cloud_queue(task, cloud: Cloud, *args):
    """Queue `task(*args)` on the cloud's queue. Arguments are ids, never credentials (docs/security.md)."""
    return task.apply_async(args=args, queue=cloud.queue)


def queues_in_use(clouds=None) -> list[str]:
    """The queues named by `clouds` (all clouds by default), and "default", sorted."""
    clouds = Cloud.objects.all() if clouds is None else clouds
    return sorted({DEFAULT_QUEUE, *clouds.values_list("queue", flat=True)})


def queue_status(queues, timeout: float = INSPECT_TIMEOUT) -> dict[str, list[str]]:
    """{queue: names of the live workers consuming it}; an empty list when nobody serves it.

    One broadcast to every worker (Celery's inspect), so the cost is `timeout` at most whatever the
    number of queues. An unreachable broker reads as "nobody serves", which is what it means for
    the tasks."""
    status: dict[str, list[str]] = {queue: [] for queue in queues}
    try:
        replies = app.control.inspect(timeout=timeout).active_queues() or {}
    except OperationalError as exc:
        logger.warning("cannot ask the workers for their queues: %s", exc)
        return status
    for worker, consumed in sorted(replies.items()):
        for queue in consumed or ():
            if queue.get("name") in status:
                status[queue["name"]].append(worker)
    return status


def unserved_queues(clouds) -> list[str]:
    """The queues of `clouds` that no live worker or agent consumes now (a launch there waits)."""
    queues = {cloud.queue for cloud in clouds}
    return sorted(queue for queue, workers in queue_status(queues).items() if not workers)
