"""A cloud's API-concurrency limit, across every worker process (docs/launches.md): a counting semaphore
in Redis. Each holder takes a slot with a lease; a worker killed while holding one does not
block the cloud for ever: its slot frees itself when the lease runs out."""

from __future__ import annotations

import time
import uuid
from contextlib import contextmanager

import redis
from django.conf import settings

from portal.redis_keys import redis_key

# KEYS[1] = the semaphore; ARGV = limit, now, lease expiry, holder id.
_ACQUIRE = """
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', ARGV[2])
if redis.call('ZCARD', KEYS[1]) < tonumber(ARGV[1]) then
  redis.call('ZADD', KEYS[1], ARGV[3], ARGV[4])
  redis.call('EXPIRE', KEYS[1], math.ceil(ARGV[3] - ARGV[2]) + 60)
  return 1
end
return 0
"""


class SlotTimeout(Exception):
    pass


def _client() -> redis.Redis:
    return redis.Redis.from_url(settings.CELERY_BROKER_URL)


class CloudSemaphore:
    def __init__(self, name: str, limit: int, *, lease: float = 120.0, client: redis.Redis | None = None):
        self.key = redis_key("api-slots", name)
        self.limit = max(1, limit)
        self.lease = lease
        self.redis = client or _client()
        self._acquire = self.redis.register_script(_ACQUIRE)

    def try_acquire(self) -> str | None:
        holder = uuid.uuid4().hex
        now = time.time()
        if self._acquire(keys=[self.key], args=[self.limit, now, now + self.lease, holder]):
            return holder
        return None

    def release(self, holder: str) -> None:
        self.redis.zrem(self.key, holder)

    def in_use(self) -> int:
        self.redis.zremrangebyscore(self.key, "-inf", time.time())
        return self.redis.zcard(self.key)

    @contextmanager
    def slot(self, timeout: float = 300.0):
        """Hold one of the cloud's API slots for the duration of the block."""
        deadline = time.monotonic() + timeout
        delay = 0.01
        while (holder := self.try_acquire()) is None:
            if time.monotonic() > deadline:
                raise SlotTimeout(f"no free API slot on {self.key} within {timeout:g} s")
            time.sleep(delay)
            delay = min(delay * 2, 0.2)
        try:
            yield
        finally:
            self.release(holder)
