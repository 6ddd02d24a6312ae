"""What the portal does with the cloud side's reports: record nodes, failures and node lists,
then move the cluster on (SPEC §6). Also the monitor: one list call per cloud per cycle."""

from __future__ import annotations

import uuid
from datetime import timedelta

import redis
from django.conf import settings
from django.db import transaction
from django.utils import timezone

from clusters import cloudside, launcher
from clusters.models import Cloud, Cluster, Instance, InstanceState
from clusters.models.launches import LIVE_STATES
from clusters.providers import RUNNING, TERMINATED

S = InstanceState
WATCHED = (S.LAUNCHING, S.RUNNING, S.READY, S.TERMINATING)


def _apply_node(instance: Instance, node: dict) -> None:
    instance.node_id = node["id"] or instance.node_id
    instance.public_ips = list(node.get("public_ips") or [])
    instance.private_ips = list(node.get("private_ips") or [])
    if node["state"] == RUNNING and instance.state == S.LAUNCHING:
        instance.state = S.RUNNING
    elif node["state"] == TERMINATED and instance.state in LIVE_STATES:
        instance.state, instance.last_error = S.FAILED, "the node was terminated outside the portal"


def node_created(instance_id: int, node: dict) -> None:
    with transaction.atomic():
        instance = (
            Instance.objects.select_for_update().select_related("cluster").filter(pk=instance_id).first()
        )
        if instance is None:
            return
        if instance.state in (S.TERMINATING, S.TERMINATED):
            # Stopped while its node was being made: the node must not outlive it.
            instance.node_id = node["id"]
            instance.state = S.TERMINATING
            instance.save(update_fields=["node_id", "state", "updated"])
            launcher.send_to_cloud(cloudside.cloud_destroy_nodes, instance.cloud, [[instance.pk, node["id"]]])
            return
        _apply_node(instance, node)
        instance.last_error = ""
        instance.save(
            update_fields=["node_id", "public_ips", "private_ips", "state", "last_error", "updated"]
        )
    transaction.on_commit(lambda: launcher.advance(instance.cluster_id))


def create_failed(instance_id: int, message: str, permanent: bool) -> None:
    instance = Instance.objects.select_related("cluster").filter(pk=instance_id).first()
    if instance is None or instance.state not in (S.LAUNCHING, S.REQUESTED):
        return
    Instance.objects.filter(pk=instance_id).update(state=S.FAILED, last_error=message)
    kind = "permanent error" if permanent else "gave up after retries"
    launcher.event(instance.cluster, f"{instance.name} failed ({kind}): {message}", "error")
    launcher.advance(instance.cluster_id)


def retry_noted(instance_id: int, message: str, attempt: int) -> None:
    instance = Instance.objects.select_related("cluster").filter(pk=instance_id).first()
    if instance is None:
        return
    Instance.objects.filter(pk=instance_id).update(last_error=f"retry {attempt}: {message}")
    launcher.event(instance.cluster, f"{instance.name}: retry {attempt} after: {message}", "warning")


def node_destroyed(instance_id: int, node_id: str, error: str) -> None:
    instance = Instance.objects.select_related("cluster", "cloud").filter(pk=instance_id).first()
    if instance is None:
        return
    if error:
        Instance.objects.filter(pk=instance_id).update(last_error=error)
        launcher.event(instance.cluster, f"{instance.name}: cannot destroy node {node_id}: {error}", "error")
        return
    # Verified by the next node list, which no longer shows the node: ask for one soon — one for
    # all the nodes destroyed in the next seconds, not one per node.
    monitor_cloud_soon(instance.cloud)


def _stale(instance: Instance, now) -> bool:
    limit = timedelta(seconds=settings.LAUNCH_STALE_AFTER)
    return instance.launched_at is not None and now - instance.launched_at > limit


def monitor_cloud_soon(cloud: Cloud, delay: float = 2.0) -> None:
    client = redis.Redis.from_url(settings.CELERY_BROKER_URL)
    if client.set(
        f"context-portal:{settings.PORTAL_ID}:list-soon:{cloud.pk}", 1, nx=True, px=int(delay * 1000)
    ):
        ref = launcher.cloud_ref(cloud)
        transaction.on_commit(
            lambda: cloudside.cloud_list_nodes.apply_async(
                args=[ref, uuid.uuid4().hex], queue=cloud.queue, countdown=delay
            )
        )


def monitor_cloud(cloud: Cloud) -> None:
    launcher.send_to_cloud(cloudside.cloud_list_nodes, cloud, uuid.uuid4().hex)


def monitor_clouds() -> int:
    """One monitoring cycle: one list task per cloud that has instances to watch."""
    clouds = Cloud.objects.filter(instances__state__in=WATCHED).distinct()
    count = 0
    for cloud in clouds:
        monitor_cloud(cloud)
        count += 1
    return count


def node_list(cloud_id: int, nodes: list[dict] | None, error: str) -> dict:
    """Bring every watched instance on the cloud in line with the cloud's own list, in bulk;
    destroy tagged nodes that belong to no live instance (orphans)."""
    if nodes is None:
        return {"error": error}
    nodes = nodes_of_cloud(cloud_id, nodes)
    by_token = {n["tags"].get(cloudside.INSTANCE_TAG): n for n in nodes}
    instances = list(Instance.objects.filter(cloud_id=cloud_id, state__in=WATCHED))
    known_tokens = {str(i.idempotency_token) for i in instances}
    changed, touched_clusters, now = [], set(), timezone.now()
    for instance in instances:
        node = by_token.get(str(instance.idempotency_token))
        before = (instance.state, instance.node_id, instance.public_ips, instance.private_ips)
        if node is not None and node["state"] not in (TERMINATED,):
            if instance.state != S.TERMINATING:
                _apply_node(instance, node)
        elif instance.state == S.TERMINATING:
            instance.state, instance.terminated_at = S.TERMINATED, now
        elif instance.node_id and instance.state in (S.RUNNING, S.READY):
            instance.state, instance.last_error = S.FAILED, "the node disappeared from the cloud"
        elif instance.state == S.LAUNCHING and not instance.node_id and _stale(instance, now):
            # Its create message was lost (a broker restart without persistence, a task that died
            # outside a cloud call): send it again. The idempotency token is unchanged, so a node
            # made meanwhile is found, never duplicated.
            instance.state, instance.last_error = S.REQUESTED, "no answer from the cloud side: sent again"
        if (instance.state, instance.node_id, instance.public_ips, instance.private_ips) != before:
            changed.append(instance)
            touched_clusters.add(instance.cluster_id)
    if changed:
        Instance.objects.bulk_update(
            changed, ["state", "node_id", "public_ips", "private_ips", "last_error", "terminated_at"]
        )
    orphans = _orphans(cloud_id, _tagged_for(cloud_id, by_token), known_tokens)
    for cluster_id in touched_clusters:
        launcher.advance(cluster_id)
    return {"changed": len(changed), "orphans": len(orphans)}


def nodes_of_cloud(cloud_id: int, nodes: list[dict]) -> list[dict]:
    """The listed nodes that may be this cloud's: tagged with its id, or with no cloud id at all
    (made before nodes carried one). Another cloud's nodes on the same account are not ours to judge."""
    mine = str(cloud_id)
    return [n for n in nodes if n["tags"].get(cloudside.CLOUD_TAG, mine) == mine]


def _tagged_for(cloud_id: int, by_token: dict) -> dict:
    """Only nodes tagged with this cloud's id can be its orphans: a node without the tag may be
    another cloud's on the same account, so it is matched to instances but never destroyed."""
    return {t: n for t, n in by_token.items() if n["tags"].get(cloudside.CLOUD_TAG) == str(cloud_id)}


def _orphans(cloud_id: int, by_token: dict, known_tokens: set) -> list[dict]:
    """Tagged nodes of this portal whose instance is gone or not live: destroy them, say so."""
    candidates = {token: n for token, n in by_token.items() if token and token not in known_tokens}
    if not candidates:
        return []
    live_tokens = Instance.objects.filter(
        idempotency_token__in=[t for t in candidates if _is_uuid(t)], state__in=(S.REQUESTED, S.LAUNCHING)
    ).values_list("idempotency_token", flat=True)
    alive = {str(t) for t in live_tokens}
    orphans = [n for token, n in candidates.items() if token not in alive]
    if orphans:
        cloud = Cloud.objects.get(pk=cloud_id)
        launcher.send_to_cloud(cloudside.cloud_destroy_nodes, cloud, [[None, n["id"]] for n in orphans])
        for node in orphans:
            cluster = Cluster.objects.filter(pk=_int(node["tags"].get(cloudside.CLUSTER_TAG))).first()
            if cluster:
                launcher.event(
                    cluster, f"orphan node {node['id']} ({node['name']}) found and destroyed", "warning"
                )
    return orphans


def _is_uuid(value: str) -> bool:
    try:
        uuid.UUID(value)
    except (TypeError, ValueError, AttributeError):
        return False
    return True


def _int(value) -> int | None:
    try:
        return int(value)
    except (TypeError, ValueError):
        return None
