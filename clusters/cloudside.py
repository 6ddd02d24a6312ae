"""Cloud-side work: what runs next to a cloud's API, in a portal worker or in a gateway agent.

Database-free (docs/gateway-agents.md): a message carries everything needed — a cloud reference, instance specs
with their rendered user-data and tags — and the outcome goes back as a message to a portal-side
task that records it (`clusters.record_*`). The credentials never travel: the worker that takes
the message resolves the cloud reference with its own `resolver` (the portal's database, or the
agent's local agent.toml).

Creates come in batches (one message for up to CREATE_BATCH instances of one cloud) and their
outcomes go back in one record message per batch, on the portal's own records queue.

Exactly once, without a look-up before every create: each instance's node is made under a
per-instance Redis lock, and a marker in Redis remembers it once made, so a message delivered twice
finds the node of the first delivery. A batch that is retried, or delivered again after its worker
died (when a create may have happened without its marker), first looks its nodes up with one list
call for the whole batch; so does a first attempt on a cloud whose creates are not idempotent. EC2's
creates are (the instance's token is their ClientToken), so a first attempt there calls nothing else.
"""

from __future__ import annotations

import json
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
from portal.redis_keys import redis_key

log = logging.getLogger(__name__)

PORTAL_TAG, CLUSTER_TAG, INSTANCE_TAG = "context-portal", "context-portal-cluster", "context-portal-instance"
# The portal's id of the Cloud a node was made through: two clouds on one account (a user's own and a
# site-wide one on the same endpoint) list each other's nodes, and each must only ever judge its own.
CLOUD_TAG = "context-portal-cloud"
MAX_RETRIES = 8
# How long an instance's create lock outlives a holder that died (a live holder keeps renewing it).
LOCK_LEASE = 15.0
# How long a made node is remembered by its instance's token (longer than any redelivery).
CREATED_MARKER_TTL = 24 * 3600

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


class BatchCreator:
    """Makes the nodes of one batch, each exactly once (the module's docstring says how)."""

    def __init__(
        self, provider, semaphore: CloudSemaphore, client: redis.Redis, tokens: list[str], *, look_up: bool
    ):
        self.provider, self.semaphore, self.redis = provider, semaphore, client
        self.tokens, self.look_up = tokens, look_up or not provider.idempotent_creates
        self._found: dict[str, NodeInfo] | None = None

    def found(self) -> dict[str, NodeInfo]:
        """The batch's nodes that exist already, by instance token: one list call for the batch."""
        if self._found is None:
            with self.semaphore.slot():
                nodes = self.provider.find_tagged(INSTANCE_TAG, self.tokens)
            self._found = {node.tags.get(INSTANCE_TAG): node for node in nodes}
        return self._found

    def create(self, spec: NodeSpec) -> NodeInfo:
        token = spec.tags[INSTANCE_TAG]
        with instance_lock(self.redis, token):
            made = self.redis.get(_created_key(token))
            if made is not None:
                log.info("instance %s already has a node: not creating another", token)
                return NodeInfo(**json.loads(made))
            node = self.found().get(token) if self.look_up else None
            if node is None:
                with self.semaphore.slot():
                    node = self.provider.create_node(spec)
            self.redis.set(_created_key(token), json.dumps(node_dict(node)), ex=CREATED_MARKER_TTL)
            return node


def _created_key(token: str) -> str:
    return redis_key("created", token)


@contextmanager
def instance_lock(client: redis.Redis, token: str):
    """Held by the one attempt that looks an instance's node up and creates it.

    The lease is short and a thread renews it while the holder lives, so a worker killed in the
    middle of a create frees the instance within LOCK_LEASE seconds and the re-delivered message
    goes on; a fixed long timeout would hold it up for that long. Busy beyond a lease: transient."""
    lock = client.lock(redis_key("create", token), timeout=LOCK_LEASE, thread_local=False)
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
    queue = current_app.conf.get("portal_results_queue") or "records"
    current_app.send_task(task_name, args=list(args), queue=queue)


def _backoff(retries: int) -> float:
    """1, 2, 4 ... 60 s, jittered; `cloud_retry_delay` (CELERY_CLOUD_RETRY_DELAY) scales them."""
    unit = float(current_app.conf.get("cloud_retry_delay") or 1.0)
    return unit * min(2**retries, 60) * (0.5 + random.random() / 2)  # noqa: S311 - jitter, not crypto


@shared_task(name="clusters.cloud_create_nodes", bind=True, acks_late=True, max_retries=MAX_RETRIES)
def cloud_create_nodes(self, cloud_ref: dict, batch: list[list]) -> None:
    """Create the nodes of a batch of [instance id, spec]; report every outcome in one message and
    send the instances that met a transient error again, together, after a backoff."""
    retries = self.request.retries
    again, outcomes = [], []
    try:
        config = config_for(cloud_ref)
        provider = get_provider(config)
        redelivered = bool((self.request.delivery_info or {}).get("redelivered"))
        tokens = [spec["tags"][INSTANCE_TAG] for _instance, spec in batch]
        creator = BatchCreator(
            provider, _semaphore(cloud_ref), _redis(), tokens, look_up=retries > 0 or redelivered
        )
    except CloudError as exc:  # nothing of the batch can be made here: each instance says why
        creator, problem = None, exc
    for instance_id, spec in batch:
        try:
            if creator is None:
                raise problem
            fields = {k: v for k, v in spec.items() if k != "user_data_sealed"}
            user_data = open_user_data(spec["user_data_sealed"], config, cloud_ref)
            node = creator.create(NodeSpec(**fields, user_data=user_data))
        except CloudError as exc:
            if not exc.permanent and retries < MAX_RETRIES:
                outcomes.append({"instance": instance_id, "retry": exc.message, "attempt": retries + 1})
                again.append([instance_id, spec])
            else:
                outcomes.append({"instance": instance_id, "failed": exc.message, "permanent": exc.permanent})
            continue
        outcomes.append({"instance": instance_id, "node": node_dict(node)})
    _report("clusters.record_outcomes", outcomes)
    if again:
        raise self.retry(args=[cloud_ref, again], countdown=_backoff(retries))


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
def cloud_list_nodes(cloud_ref: dict, asked_at: str) -> None:
    """One list call for the whole cloud (docs/launches.md monitoring); the portal matches nodes by tag.
    `asked_at`: when the portal asked (ISO 8601), sent back with the list."""
    try:
        with _semaphore(cloud_ref).slot():
            nodes = provider_for(cloud_ref).find_nodes({PORTAL_TAG: cloud_ref.get("portal", "1")})
    except CloudError as exc:
        _report("clusters.record_node_list", cloud_ref["id"], asked_at, None, exc.message)
        return
    _report("clusters.record_node_list", cloud_ref["id"], asked_at, [node_dict(n) for n in nodes], "")
