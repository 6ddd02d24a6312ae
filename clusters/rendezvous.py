"""The rendezvous store (SPEC §6): instances of one cluster publish facts and wait for each other's,
e.g. the master puts its address and the workers block until it is there, so all roles can be
launched at once. An instance token reaches only its own cluster's keys."""

from __future__ import annotations

import re
import time

from clusters.models import Cluster, Instance, RendezvousEntry
from clusters.models.rendezvous import KEY_PATTERN, MAX_VALUE_BYTES

MAX_WAIT_SECONDS = 30
POLL_SECONDS = 0.25
MAX_KEYS_PER_CLUSTER = 1000
_KEY = re.compile(KEY_PATTERN)


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


def wait_for(cluster: Cluster, key: str, seconds: float) -> RendezvousEntry | None:
    """The entry as soon as it exists, or None after `seconds` (at most MAX_WAIT_SECONDS).

    Polling the database four times a second is acceptable for now: it is one indexed lookup per
    waiting instance, each wait is bounded (clients ask again), and waits are short-lived (workers
    wait for a master that boots at the same time). What it costs is a server thread per waiting
    instance, so the portal runs threaded workers; a push (PostgreSQL LISTEN/NOTIFY or Redis
    pub/sub) can replace this loop without changing the API. Each query runs in autocommit, so it
    sees rows committed since the previous one.
    """
    deadline = time.monotonic() + min(seconds, MAX_WAIT_SECONDS)
    while True:
        entry = read(cluster, key)
        if entry is not None or time.monotonic() >= deadline:
            return entry
        time.sleep(min(POLL_SECONDS, max(deadline - time.monotonic(), 0)))


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
    return RendezvousEntry.objects.update_or_create(
        cluster=cluster, key=key, defaults={"value": value, "written_by": instance}
    )
