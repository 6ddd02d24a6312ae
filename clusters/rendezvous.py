"""The rendezvous store (docs/launches.md): instances of one cluster publish facts and wait for each other's,
e.g. the master puts its address and the workers block until it is there, so all roles can be
launched at once. An instance token reaches only its own cluster's keys.

Waiting (docs/instance-api.md) holds no server worker and no database connection: a waiter
sleeps in the event loop of the ASGI server. A write announces itself on a Redis channel once
committed; each server process keeps one subscription to that channel while it has waiters and
wakes those waiting for the key written. The message only says "look again": a woken waiter
reads the database, and every wait ends with a read of its own at its deadline, so a late,
doubled or lost message costs a read or a delay, never a wrong or a lost value. When Redis cannot
be reached, waiters look again every RETRY_SECONDS instead.
"""

from __future__ import annotations

import asyncio
import contextlib
import contextvars
import functools
import logging
import re
from collections.abc import Awaitable, Callable
from typing import TypeVar

import redis
import redis.asyncio
from django.conf import settings
from django.db import transaction

from clusters.models import Cluster, Instance, RendezvousEntry
from clusters.models.rendezvous import KEY_PATTERN, MAX_VALUE_BYTES
from portal.redis_keys import redis_key

MAX_WAIT_SECONDS = 30
MAX_KEYS_PER_CLUSTER = 1000
# Without Redis, how often waiters look again; also how long to wait before connecting again.
RETRY_SECONDS = 5
# Looks of woken waiters at once, per process: one write can wake hundreds of waiters (and waits
# that began together end together); each look holds a database connection while it reads.
LOOKS_AT_ONCE = 4
_KEY = re.compile(KEY_PATTERN)
_Answer = TypeVar("_Answer")
logger = logging.getLogger(__name__)


class RendezvousError(ValueError):
    """Bad input; the message is one line for the caller."""


class ValueTooLarge(RendezvousError):
    pass


def check_key(key: str) -> None:
    if not _KEY.match(key):
        raise RendezvousError("a key is 1 to 128 of the characters A-Z a-z 0-9 _ . - (and not . or ..)")


def storable_text(text: str, what: str) -> str:
    """`text`, if a database can store it: no NUL and no lone surrogate (JSON allows both)."""
    if "\x00" in text:
        raise RendezvousError(f"{what} contains a NUL character")
    try:
        text.encode()
    except UnicodeEncodeError:
        raise RendezvousError(f"{what} is not valid Unicode text") from None
    return text


def read(cluster: Cluster, key: str) -> RendezvousEntry | None:
    return RendezvousEntry.objects.filter(cluster=cluster, key=key).select_related("written_by").first()


def write(instance: Instance, key: str, value: str) -> tuple[RendezvousEntry, bool]:
    """Set `key` in the instance's cluster; True when the key is new."""
    check_key(key)
    size = len(storable_text(value, "the value").encode())
    if size > MAX_VALUE_BYTES:
        raise ValueTooLarge(f"the value is {size:,} bytes; the limit is {MAX_VALUE_BYTES:,}")
    cluster = instance.cluster
    entries = RendezvousEntry.objects.filter(cluster=cluster)
    if not entries.filter(key=key).exists() and entries.count() >= MAX_KEYS_PER_CLUSTER:
        raise RendezvousError(f"the cluster already has {MAX_KEYS_PER_CLUSTER:,} keys, the limit")
    entry, created = RendezvousEntry.objects.update_or_create(
        cluster=cluster, key=key, defaults={"value": value, "written_by": instance}
    )
    transaction.on_commit(functools.partial(_announce, cluster.pk, key))
    return entry, created


async def wait_for(
    cluster: Cluster, key: str, seconds: float, look: Callable[[bool], Awaitable[_Answer | None]]
) -> _Answer | None:
    """What `look` answers once `key` of the cluster is there, or its answer at the deadline,
    `seconds` from now (at most MAX_WAIT_SECONDS).

    `look(final)` reads the key and answers; it answers None while the key is absent, unless
    `final`. It runs once this process listens for writes (what was written before is then in
    the database), each time the key may have been written, and at the deadline.
    """
    loop = asyncio.get_running_loop()
    deadline = loop.time() + min(seconds, MAX_WAIT_SECONDS)
    async with _listening(cluster.pk, key) as (written, looks):
        while True:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(written.wait(), deadline - loop.time())
            written.clear()  # before reading: a write during the look wakes the next wait
            final = loop.time() >= deadline
            async with looks:
                answer = await look(final)
            if answer is not None or final:
                return answer


def _channel() -> str:
    """The Redis channel of writes; the broker's key prefix keeps test runs and portals sharing a
    Redis apart (pub/sub channels are the same in every Redis database)."""
    return redis_key("rendezvous")


@functools.cache
def _publisher() -> redis.Redis:
    return redis.Redis.from_url(settings.CELERY_BROKER_URL, socket_timeout=2, socket_connect_timeout=2)


def _announce(cluster_id: int, key: str) -> None:
    try:
        _publisher().publish(_channel(), f"{cluster_id}:{key}")
    except (redis.RedisError, ValueError) as exc:  # ValueError: the broker is not a Redis
        # The write stands: waiters find it at their next look, at the latest at their deadline.
        logger.warning("Could not announce rendezvous key %s of cluster %s: %s", key, cluster_id, exc)


class _Listener:
    """The subscription of one event loop (of a server process) to the writes, and its waiters."""

    def __init__(self):
        self.waiters: dict[tuple[int, str], set[asyncio.Event]] = {}
        self.subscribed = False
        self.looks = asyncio.Semaphore(LOOKS_AT_ONCE)
        # A context of its own: the task outlives the request whose waiter started it.
        self.task = asyncio.get_running_loop().create_task(self._listen(), context=contextvars.Context())

    def add(self, cluster_id: int, key: str) -> asyncio.Event:
        """An event for the waiter, set at once if we listen already: the key may have been
        written since the waiter last read it. If not, we set it when we start listening."""
        written = asyncio.Event()
        if self.subscribed:
            written.set()
        self.waiters.setdefault((cluster_id, key), set()).add(written)
        return written

    def remove(self, cluster_id: int, key: str, written: asyncio.Event) -> None:
        events = self.waiters[cluster_id, key]
        events.discard(written)
        if not events:
            del self.waiters[cluster_id, key]

    def wake(self, message: str) -> None:
        cluster_id, _, key = message.partition(":")
        if cluster_id.isdigit():
            for written in self.waiters.get((int(cluster_id), key), ()):
                written.set()

    def wake_all(self) -> None:
        for events in self.waiters.values():
            for written in events:
                written.set()

    async def _listen(self) -> None:
        failing = False
        while True:
            try:
                client = redis.asyncio.Redis.from_url(
                    settings.CELERY_BROKER_URL, decode_responses=True, socket_connect_timeout=RETRY_SECONDS
                )
                async with client, client.pubsub(ignore_subscribe_messages=False) as pubsub:
                    await pubsub.subscribe(_channel())
                    async for message in pubsub.listen():
                        if message["type"] == "subscribe":  # also after a reconnection
                            # From now on every write reaches us; the ones before are in the database.
                            self.subscribed, failing = True, False
                            self.wake_all()
                        elif message["type"] == "message":
                            self.wake(message["data"])
            except (redis.RedisError, OSError, ValueError) as exc:  # ValueError: not a Redis URL
                if not failing:
                    logger.warning(
                        "Rendezvous waits cannot listen to Redis; they look every %s s: %s",
                        RETRY_SECONDS,
                        exc,
                    )
                failing = True
            self.subscribed = False
            self.wake_all()
            await asyncio.sleep(RETRY_SECONDS)

    async def close(self) -> None:
        self.task.cancel()
        await asyncio.wait([self.task])


_listeners: dict[asyncio.AbstractEventLoop, _Listener] = {}


@contextlib.asynccontextmanager
async def _listening(cluster_id: int, key: str):
    """(an event set when the key may have been written, the looks semaphore) while in the block.

    The listener lives while its loop has waiters: under the ASGI server that is one per process;
    under WSGI (tests, a live test server) each request runs its own loop and listener."""
    loop = asyncio.get_running_loop()
    listener = _listeners.get(loop)
    if listener is None:
        listener = _listeners[loop] = _Listener()
    written = listener.add(cluster_id, key)
    try:
        yield written, listener.looks
    finally:
        listener.remove(cluster_id, key, written)
        if not listener.waiters and _listeners.get(loop) is listener:
            del _listeners[loop]
            await listener.close()
