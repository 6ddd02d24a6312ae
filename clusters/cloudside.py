"""Cloud-side work: what runs next to a cloud's API, in a portal worker or in a gateway agent.

Database-free (SPEC §7): a message carries everything needed — a cloud reference, instance specs
with their rendered user-data and tags — and the outcome goes back as a message to a portal-side
task that records it (`clusters.record_*`). The credentials never travel: the worker that takes
the message resolves the cloud reference with its own `resolver` (the portal's database, or the
agent's local agent.toml).

Exactly once: a node is created only after looking it up by its instance tag, under a per-instance
Redis lock, and EC2 also gets a ClientToken. A re-delivered or repeated task finds the node the
first attempt made instead of creating a second one.
"""

from __future__ import annotations

import logging
import random
import threading
from collections.abc import Callable
from contextlib import contextmanager, suppress
from dataclasses import asdict

import redis
from celery import current_app, shared_task
from cryptography.fernet import Fernet, InvalidToken
from redis.exceptions import LockError

from clusters.limits import CloudSemaphore
from clusters.providers import CloudConfig, CloudError, NodeInfo, NodeSpec, get_provider

log = logging.getLogger(__name__)

PORTAL_TAG, CLUSTER_TAG, INSTANCE_TAG = "context-portal", "context-portal-cluster", "context-portal-instance"
# The portal's id of the Cloud a node was made through: two clouds on one account (a user's own and a
# site-wide one on the same endpoint) list each other's nodes, and each must only ever judge its own.
CLOUD_TAG = "context-portal-cloud"
MAX_RETRIES = 8
# How long an instance's create lock outlives a holder that died (a live holder keeps renewing it).
LOCK_LEASE = 15.0

# Set by the Celery app that loads this module: cloud reference -> CloudConfig.
resolver: Callable[[dict], CloudConfig] | None = None


def config_for(cloud_ref: dict) -> CloudConfig:
    if resolver is None:
        raise CloudError("this worker has no way to look clouds up", permanent=True)
    return resolver(cloud_ref)


def provider_for(cloud_ref: dict):
    return get_provider(config_for(cloud_ref))


def seal_user_data(user_data: bytes, key: str) -> str:
    """User-data as a create message carries it: readable only with the cloud's message key, so the
    broker (and whoever reads it) never holds passwords or instance tokens in clear."""
    return Fernet(key.encode()).encrypt(user_data).decode()


def open_user_data(sealed: str, config: CloudConfig, cloud_ref: dict) -> bytes:
    try:
        return Fernet(config.message_key.encode()).decrypt(sealed.encode())
    except (InvalidToken, ValueError):
        raise CloudError(
            f"this worker cannot open the create message: its message key for cloud {cloud_ref['id']} is not "
            "the portal's (see the cloud's page for the agent's message_key)",
            permanent=True,
        ) from None


def _redis() -> redis.Redis:
    return redis.Redis.from_url(current_app.conf.broker_url)


def _semaphore(cloud_ref: dict) -> CloudSemaphore:
    return CloudSemaphore(f"cloud-{cloud_ref['key']}", int(cloud_ref.get("concurrency", 10)), client=_redis())


def node_dict(node: NodeInfo) -> dict:
    return asdict(node)


def create_node_once(provider, spec: NodeSpec, semaphore: CloudSemaphore, lock) -> NodeInfo:
    """The node of `spec`: the one an earlier attempt made, or a new one. Never two."""
    with lock:
        with semaphore.slot():
            found = provider.find_nodes({INSTANCE_TAG: spec.tags[INSTANCE_TAG]})
        if found:
            log.info(
                "instance %s already has node %s: not creating another", spec.tags[INSTANCE_TAG], found[0].id
            )
            return found[0]
        with semaphore.slot():
            return provider.create_node(spec)


@contextmanager
def instance_lock(client: redis.Redis, token: str):
    """Held by the one attempt that looks an instance's node up and creates it.

    The lease is short and a thread renews it while the holder lives, so a worker killed in the
    middle of a create frees the instance within LOCK_LEASE seconds and the re-delivered message
    goes on; a fixed long timeout would hold it up for that long. Busy beyond a lease: transient."""
    lock = client.lock(f"context-portal:create:{token}", timeout=LOCK_LEASE, thread_local=False)
    if not lock.acquire(blocking_timeout=LOCK_LEASE + 5):
        raise CloudError("another attempt is still creating this instance's node", permanent=False)
    done = threading.Event()

    def renew():
        while not done.wait(LOCK_LEASE / 3):
            try:
                lock.reacquire()
            except LockError:  # lost (Redis was away longer than a lease): nothing left to renew
                return

    renewer = threading.Thread(target=renew, name=f"lock-{token}", daemon=True)
    renewer.start()
    try:
        yield
    finally:
        done.set()
        renewer.join()
        with suppress(LockError):
            lock.release()


def _report(task_name: str, *args) -> None:
    queue = current_app.conf.get("portal_results_queue") or "default"
    current_app.send_task(task_name, args=list(args), queue=queue)


def _backoff(retries: int) -> float:
    """1, 2, 4 ... 60 s, jittered; `cloud_retry_delay` (CELERY_CLOUD_RETRY_DELAY) scales them."""
    unit = float(current_app.conf.get("cloud_retry_delay") or 1.0)
    return unit * min(2**retries, 60) * (0.5 + random.random() / 2)  # noqa: S311 - jitter, not crypto


@shared_task(name="clusters.cloud_create_node", bind=True, acks_late=True, max_retries=MAX_RETRIES)
def cloud_create_node(self, cloud_ref: dict, instance_id: int, spec: dict) -> None:
    fields = {k: v for k, v in spec.items() if k != "user_data_sealed"}
    lock = instance_lock(_redis(), spec["tags"][INSTANCE_TAG])
    try:
        config = config_for(cloud_ref)
        node_spec = NodeSpec(**fields, user_data=open_user_data(spec["user_data_sealed"], config, cloud_ref))
        node = create_node_once(get_provider(config), node_spec, _semaphore(cloud_ref), lock)
    except CloudError as exc:
        if not exc.permanent and self.request.retries < MAX_RETRIES:
            _report("clusters.record_retry", instance_id, exc.message, self.request.retries + 1)
            raise self.retry(countdown=_backoff(self.request.retries), exc=exc) from None
        _report("clusters.record_create_failed", instance_id, exc.message, exc.permanent)
        return
    _report("clusters.record_node_created", instance_id, node_dict(node))


@shared_task(name="clusters.cloud_destroy_nodes", bind=True, acks_late=True, max_retries=MAX_RETRIES)
def cloud_destroy_nodes(self, cloud_ref: dict, nodes: list[list]) -> None:
    """Destroy [instance id, node id] pairs; report each one that is gone."""
    provider, semaphore = provider_for(cloud_ref), _semaphore(cloud_ref)
    left = []
    for instance_id, node_id in nodes:
        try:
            with semaphore.slot():
                provider.destroy_node(node_id)
            _report("clusters.record_node_destroyed", instance_id, node_id, "")
        except CloudError as exc:
            if exc.permanent or self.request.retries >= MAX_RETRIES:
                _report("clusters.record_node_destroyed", instance_id, node_id, exc.message)
            else:
                left.append([instance_id, node_id])
    if left:
        raise self.retry(args=[cloud_ref, left], countdown=_backoff(self.request.retries))


@shared_task(name="clusters.cloud_list_nodes", acks_late=True)
def cloud_list_nodes(cloud_ref: dict, cycle: str) -> None:
    """One list call for the whole cloud (SPEC §6 monitoring); the portal matches nodes by tag."""
    try:
        with _semaphore(cloud_ref).slot():
            nodes = provider_for(cloud_ref).find_nodes({PORTAL_TAG: cloud_ref.get("portal", "1")})
    except CloudError as exc:
        _report("clusters.record_node_list", cloud_ref["id"], cycle, None, exc.message)
        return
    _report("clusters.record_node_list", cloud_ref["id"], cycle, [node_dict(n) for n in nodes], "")
