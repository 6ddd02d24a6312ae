"""When to send a node's destroy again: the monitor re-sends it while the cloud still lists the
node (a destroy message may be lost, a cloud may ignore a call), backing off — 10 s after a send,
then 20 s, 40 s ... at most every 10 minutes — so a slow cloud is not flooded.

Kept in Redis, shared by every process: a gate key per node that lives for the current wait, and a
count of sends that lives a day. Losing them (Redis restarted) only makes the next send sooner.
"""

from __future__ import annotations

import redis
from django.conf import settings

from portal.redis_keys import redis_key

FIRST_WAIT, LONGEST_WAIT = 10.0, 600.0
_COUNT_LIFETIME = 24 * 3600


def _client() -> redis.Redis:
    return redis.Redis.from_url(settings.CELERY_BROKER_URL)


def _key(cloud_id: int, node_id: str, kind: str) -> str:
    return redis_key(settings.PORTAL_ID, f"destroy-{kind}", cloud_id, node_id)


def wait_after(sends: int) -> float:
    return min(FIRST_WAIT * 2 ** max(sends - 1, 0), LONGEST_WAIT)


def sent(cloud_id: int, node_ids: list[str]) -> None:
    """Note that the destroys of `node_ids` were just sent."""
    if not node_ids:
        return
    client = _client()
    with client.pipeline() as pipe:
        for node_id in node_ids:
            pipe.incr(_key(cloud_id, node_id, "count"))
            pipe.expire(_key(cloud_id, node_id, "count"), _COUNT_LIFETIME)
        counts = pipe.execute()[::2]
    with client.pipeline() as pipe:
        for node_id, count in zip(node_ids, counts, strict=True):
            pipe.set(_key(cloud_id, node_id, "gate"), 1, px=int(wait_after(count) * 1000))
        pipe.execute()


def due(cloud_id: int, node_ids: list[str]) -> list[str]:
    """Those of `node_ids` whose destroy may be sent (again) now."""
    if not node_ids:
        return []
    with _client().pipeline() as pipe:
        for node_id in node_ids:
            pipe.exists(_key(cloud_id, node_id, "gate"))
        waiting = pipe.execute()
    return [node_id for node_id, wait in zip(node_ids, waiting, strict=True) if not wait]
