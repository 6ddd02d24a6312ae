"""What the portal does with the cloud side's reports: record nodes, failures and node lists,
then move the cluster on (docs/launches.md). Also the monitor: one list call per cloud per cycle.

The monitor keeps one rule, per cloud, every cycle, so that the cloud and the portal always
converge whatever was lost on the way (a record, a destroy, a worker):
- every node tagged with this portal and this cloud belongs to an instance that should be alive
  (its node id is adopted if its record was lost) or is destroyed — the destroy sent again, backing
  off (clusters.destroys), while the node is still listed;
- an instance whose creation is in flight (requested, launching) keeps its node;
- every instance in a transitional state is resolved against the list: terminating ends when its
  node is gone; launching with no node past LAUNCH_STALE_AFTER is sent again with the same token,
  LAUNCH_ATTEMPTS sends at most, then fails;
- whatever the clouds answer (a hung cloud answers no list), the monitor's tick fails a launching
  instance still without a node LAUNCH_GIVE_UP_AFTER seconds after its create was sent;
- a node counts as gone only when a list asked after the portal recorded it does not show it (a
  list may be answered before a create it overlaps ends); a running instance fails for it only
  when the list was asked NODE_LIST_LAG seconds after the record (a cloud's list may lag);
- a failed instance that had a node, or whose create gave up (the cloud may have made the node
  all the same), keeps its cloud listed until a list asked after that shows no live node of it.

Records are idempotent: the record tasks (clusters.tasks) retry on transient database errors.
"""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta

import redis
from django.conf import settings
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from audit import record
from clusters import cloudside, destroys, launcher, spot
from clusters.models import Cloud, Cluster, ClusterEvent, Instance, InstanceState
from clusters.models.launches import (
    ENDING_STATES,
    IN_FLIGHT_STATES,
    LIVE_STATES,
    UNSETTLED_CLUSTER_STATES,
    UP_STATES,
    WATCHED_STATES,
)
from clusters.providers import RUNNING, TERMINATED
from portal.redis_keys import redis_key

S = InstanceState
# A cloud is listed each cycle while one of its instances is watched and sent (not only waiting to
# be), or failed with a node not yet seen gone.
LISTED_FOR = tuple(state for state in WATCHED_STATES if state != S.REQUESTED)


def _apply_node(instance: Instance, node: dict) -> None:
    if node["id"] and node["id"] != instance.node_id:
        instance.node_id, instance.node_seen_at = node["id"], timezone.now()
    instance.public_ips = list(node.get("public_ips") or [])
    instance.private_ips = list(node.get("private_ips") or [])
    instance.mac = (node.get("macs") or [instance.mac])[0][:32]  # the primary interface's
    if node["state"] == RUNNING and instance.state == S.LAUNCHING:
        instance.state = S.RUNNING
    elif node["state"] == TERMINATED and instance.state in LIVE_STATES:
        instance.state, instance.last_error = S.FAILED, "the node was terminated outside the portal"


def outcomes(items: list[dict]) -> None:
    """Record a batch of create outcomes — {"instance", "node"} made, {"instance", "failed",
    "permanent"} given up, {"instance", "retry", "attempt"} to be tried again — in one transaction
    over the batch's rows, then advance each cluster once."""
    by_instance = {item["instance"]: item for item in items}
    clusters: set[int] = set()
    with transaction.atomic():
        instances = (
            Instance.objects.select_for_update()
            .select_related("cloud")
            .filter(pk__in=by_instance)
            .order_by("pk")
        )
        changed, events, destroys_by_cloud = [], [], {}
        for instance in instances:
            item = by_instance[instance.pk]
            clusters.add(instance.cluster_id)
            if "node" in item:
                if _record_node(instance, item["node"], destroys_by_cloud):
                    changed.append(instance)
            elif "failed" in item and instance.state in IN_FLIGHT_STATES:
                kind = "permanent error" if item["permanent"] else "gave up after retries"
                instance.state, instance.last_error = S.FAILED, item["failed"]
                instance.node_seen_at = timezone.now()  # a node its create made shows in lists asked from now
                changed.append(instance)
                events.append(_event(instance, "error", f"{instance.name} failed ({kind}): {item['failed']}"))
            elif "retry" in item and instance.state == S.LAUNCHING:
                instance.last_error = f"retry {item['attempt']}: {item['retry']}"
                changed.append(instance)
                events.append(
                    _event(
                        instance,
                        "warning",
                        f"{instance.name}: retry {item['attempt']} after: {item['retry']}",
                    )
                )
        Instance.objects.bulk_update(
            changed, ["node_id", "node_seen_at", "public_ips", "private_ips", "mac", "state", "last_error"]
        )
        ClusterEvent.objects.bulk_create(events)
        record.instance_addresses(changed)
        for cloud, pairs in destroys_by_cloud.values():
            launcher.destroy_nodes(cloud, pairs)
    transaction.on_commit(lambda: _advance_all(clusters))


def _event(instance: Instance, level: str, message: str) -> ClusterEvent:
    return ClusterEvent(cluster_id=instance.cluster_id, level=level, message=message)


def _advance_all(cluster_ids) -> None:
    for cluster_id in sorted(cluster_ids):
        launcher.advance(cluster_id)


def _record_node(instance: Instance, node: dict, destroys_by_cloud: dict) -> bool:
    """A node made for `instance` (idempotent); True when the row changed."""
    before = (
        instance.state,
        instance.node_id,
        instance.public_ips,
        instance.private_ips,
        instance.mac,
        instance.last_error,
    )
    if instance.state in ENDING_STATES:
        # Stopped while its node was being made: the node must not outlive it.
        instance.node_id, instance.node_seen_at, instance.state = node["id"], timezone.now(), S.TERMINATING
        destroys_by_cloud.setdefault(instance.cloud_id, (instance.cloud, []))[1].append(
            [instance.pk, node["id"]]
        )
    elif instance.state in LIVE_STATES:
        if instance.state == S.REQUESTED:  # sent again as stale, and the first create answered after all
            instance.state = S.LAUNCHING
        _apply_node(instance, node)
        instance.last_error = ""
    return (
        instance.state,
        instance.node_id,
        instance.public_ips,
        instance.private_ips,
        instance.mac,
        instance.last_error,
    ) != before


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


def _give_up(instance: Instance, now, reason: str) -> None:
    """Fail an in-flight instance that has no node. Its create may still make one (an answer lost,
    a message still queued): node_seen_at makes the lists watch for that node, an orphan then."""
    instance.state, instance.last_error, instance.node_seen_at = S.FAILED, reason, now


def give_up_silent_launches(now=None) -> int:
    """The watchdog (docs/launches.md): launching instances still without a node LAUNCH_GIVE_UP_AFTER
    seconds after their create was sent fail, with an event saying why. It needs no answer from any
    cloud — a cloud that hangs answers no list either, so node_list's rules never run for it — and
    runs every monitor tick; the number of instances it failed."""
    now = now or timezone.now()
    limit = now - timedelta(seconds=settings.LAUNCH_GIVE_UP_AFTER)
    reason = f"no node {settings.LAUNCH_GIVE_UP_AFTER} s after its create was sent: the cloud did not answer"
    silent_now = Instance.objects.filter(state=S.LAUNCHING, node_id="", launched_at__lt=limit)
    candidates = list(silent_now.values_list("pk", flat=True))  # one query a tick when all is well
    if not candidates:
        return 0
    with transaction.atomic():  # under their row locks, in the order every writer takes them
        silent = list(silent_now.select_for_update().filter(pk__in=candidates).order_by("pk"))
        for instance in silent:
            _give_up(instance, now, reason)
        Instance.objects.bulk_update(silent, ["state", "last_error", "node_seen_at"])
        ClusterEvent.objects.bulk_create(
            [
                _event(i, "error", f"{i.name} failed (watchdog): {reason}; retry it when the cloud answers")
                for i in silent
            ]
        )
    _advance_all({instance.cluster_id for instance in silent})
    return len(silent)


def _stale(instance: Instance, now) -> bool:
    limit = timedelta(seconds=settings.LAUNCH_STALE_AFTER)
    return instance.launched_at is not None and now - instance.launched_at > limit


def monitor_cloud_soon(cloud: Cloud, delay: float = 2.0) -> None:
    client = redis.Redis.from_url(settings.CELERY_BROKER_URL)
    if client.set(redis_key(settings.PORTAL_ID, "list-soon", cloud.pk), 1, nx=True, px=int(delay * 1000)):
        ref = launcher.cloud_ref(cloud)
        asked_at = timezone.now().isoformat()  # it runs later, never earlier: a safe bound
        transaction.on_commit(
            lambda: cloudside.cloud_list_nodes.apply_async(
                args=[ref, asked_at], queue=cloud.queue, countdown=delay
            )
        )


def monitor_cloud(cloud: Cloud) -> None:
    """Ask for the cloud's list; the time it was asked travels with it (node_list's `asked_at`)."""
    launcher.send_to_cloud(cloudside.cloud_list_nodes, cloud, timezone.now().isoformat())


def monitor_clouds() -> int:
    """One monitoring cycle: one list task per cloud that has instances to watch — unless the cloud's
    last list has not been recorded yet (a slow cloud, a long queue): cycles never pile up. A list
    that was lost (its report dropped, its worker killed) holds its cloud back for
    MONITOR_CYCLE_TIMEOUT seconds at most. The watchdog runs first, whatever the clouds answer."""
    give_up_silent_launches()
    clouds = Cloud.objects.filter(
        Q(instances__state__in=LISTED_FOR) | _failed_with_node("instances__")
    ).distinct()
    client = redis.Redis.from_url(settings.CELERY_BROKER_URL)
    count = 0
    for cloud in clouds:
        if client.set(_cycle_key(cloud.pk), 1, nx=True, ex=settings.MONITOR_CYCLE_TIMEOUT):
            monitor_cloud(cloud)
            count += 1
    # A list refreshes the unsettled clusters it watches; one left unsettled with no instance to
    # watch (its last ones ended by a list whose worker died before the refresh) is refreshed here.
    stranded = Cluster.objects.filter(state__in=UNSETTLED_CLUSTER_STATES).exclude(
        instances__state__in=WATCHED_STATES
    )
    _advance_all(stranded.values_list("pk", flat=True))
    return count


def _cycle_key(cloud_id: int) -> str:
    return redis_key(settings.PORTAL_ID, "cycle", cloud_id)


def node_list(cloud_id: int, nodes: list[dict] | None, error: str, asked_at=None) -> dict:
    """Bring every watched instance on the cloud in line with the cloud's own list, in bulk; destroy
    the nodes no instance should have (the module's docstring has the rule). `asked_at`: when the
    list was asked for (a datetime or its ISO form; now when not told)."""
    redis.Redis.from_url(settings.CELERY_BROKER_URL).delete(_cycle_key(cloud_id))  # the next cycle may list
    if nodes is None:
        return {"error": error}
    nodes = nodes_of_cloud(cloud_id, nodes)
    by_token = {n["tags"].get(cloudside.INSTANCE_TAG): n for n in nodes}
    # Under the rows' locks, taken in the order every writer takes them (by id): a terminate, scale
    # or record made meanwhile waits, and is never written over by what was read before it.
    with transaction.atomic():
        instances = list(
            Instance.objects.select_for_update()
            .filter(Q(state__in=WATCHED_STATES) | _failed_with_node(), cloud_id=cloud_id)
            .order_by("pk")
        )
        known_tokens = {str(i.idempotency_token) for i in instances if i.state != S.FAILED}
        on_spot = spot.SpotInstances(cloud_id, {instance.cluster_id for instance in instances})
        changed, to_destroy, reclaimed = _bring_in_line(
            instances, by_token, _as_time(asked_at or timezone.now()), on_spot
        )
        if changed:
            Instance.objects.bulk_update(changed, LIST_WRITES)
            record.instance_addresses(changed)
    orphans = _orphans(_tagged_for(cloud_id, by_token), known_tokens)
    to_destroy += [[None, n["id"]] for n in orphans]
    # Only the destroys whose backoff allows it now (clusters.destroys), orphans said once a send.
    due = set(destroys.due(cloud_id, [node for _instance, node in to_destroy]))
    to_destroy = [pair for pair in to_destroy if pair[1] in due]
    if to_destroy:
        _report_orphans([n for n in orphans if n["id"] in due])
        launcher.destroy_nodes(Cloud.objects.get(pk=cloud_id), to_destroy)
    # Each in a transaction of its cluster's, after the list's: ending them and asking for their
    # replacements take the cluster's row lock, which is taken before any instance's (clusters.spot).
    spot.record_reclaims(reclaimed)
    # The clusters it changed, and any still unsettled: a worker that died between a list's write and
    # this refresh (or a refresh that failed) would leave a cluster's state behind for ever, since the
    # next lists change nothing. One query, over the clusters of the instances watched here.
    unsettled = Cluster.objects.filter(
        pk__in={instance.cluster_id for instance in instances}, state__in=UNSETTLED_CLUSTER_STATES
    ).values_list("pk", flat=True)
    _advance_all({instance.cluster_id for instance in changed} | set(unsettled))
    return {"changed": len(changed), "orphans": len(orphans), "destroys": len(to_destroy)}


def _bring_in_line(instances: list[Instance], by_token: dict, asked, on_spot) -> tuple[list, list, list]:
    """Change `instances` (in memory) as the list asked at `asked` says; the changed ones, the
    [instance id, node id] pairs whose node must be destroyed, and the spot instances (`on_spot`)
    whose node the cloud took back, as (instance, node id), left unchanged for clusters.spot."""
    changed, to_destroy, reclaimed, now = [], [], [], timezone.now()
    # A node the portal recorded after the list was asked may be missing from it without being gone;
    # a running instance's node is judged gone only past NODE_LIST_LAG (a cloud's list may lag).
    lagged = asked - timedelta(seconds=settings.NODE_LIST_LAG)
    for instance in instances:
        node = by_token.get(str(instance.idempotency_token))
        alive = node is not None and node["state"] != TERMINATED
        gone = not alive and (node is not None or _recorded_before(instance, asked))
        before = _tracked(instance)
        if instance.state == S.FAILED:  # its node, when alive, is an orphan (node_list)
            if gone:
                instance.terminated_at = now
        elif instance.state == S.TERMINATING:
            if alive:  # its destroy was lost, or its record: destroy the node (again)
                instance.node_id = instance.node_id or node["id"]
                to_destroy.append([instance.pk, node["id"]])
            elif gone:
                instance.state, instance.terminated_at = S.TERMINATED, now
        elif alive:
            if instance.state == S.REQUESTED:  # sent again as stale, yet its node exists: adopt it
                instance.state = S.LAUNCHING
            _apply_node(instance, node)
        elif instance.state == S.REQUESTED:
            pass  # not sent yet, or sent again: its dispatch will tell
        elif node is not None:  # listed as terminated
            if on_spot(instance):
                reclaimed.append((instance, node["id"]))
            else:
                _apply_node(instance, node)
        elif instance.node_id and instance.state in UP_STATES and _recorded_before(instance, lagged):
            if on_spot(instance):
                reclaimed.append((instance, instance.node_id))
            else:
                instance.state, instance.last_error = S.FAILED, "the node disappeared from the cloud"
        elif instance.state == S.LAUNCHING and not instance.node_id and _stale(instance, now):
            if instance.attempts >= settings.LAUNCH_ATTEMPTS:  # resending for ever is no state
                _give_up(instance, now, f"no node after {instance.attempts} sends: gave up")
            else:
                # Its create message was lost (a broker restart without persistence, a task that died
                # outside a cloud call): send it again. The idempotency token is unchanged, so a node
                # made meanwhile is found, never duplicated.
                instance.state, instance.last_error = S.REQUESTED, "no answer from the cloud side: sent again"
        if _tracked(instance) != before:
            changed.append(instance)
    return changed, to_destroy, reclaimed


# The fields a list writes (node_seen_at moves with node_id, last_error with state).
LIST_WRITES = [
    "state", "node_id", "node_seen_at", "public_ips", "private_ips", "mac", "last_error", "terminated_at"
]  # fmt: skip


def _tracked(instance: Instance) -> tuple:
    """What a list may change in an instance's row (node_seen_at moves only with node_id)."""
    return (
        instance.state,
        instance.node_id,
        instance.public_ips,
        instance.private_ips,
        instance.mac,
        instance.terminated_at,
    )


def _recorded_before(instance: Instance, moment) -> bool:
    return instance.node_seen_at is None or instance.node_seen_at < moment


def _as_time(moment):
    return datetime.fromisoformat(moment) if isinstance(moment, str) else moment


def _failed_with_node(prefix: str = "") -> Q:
    """Failed instances that have or may have a node (a create that gave up may have made one) not
    yet seen gone (`prefix`: the path from a query's model)."""
    may_have_node = Q(**{f"{prefix}node_id__gt": ""}) | Q(**{f"{prefix}node_seen_at__isnull": False})
    return Q(**{f"{prefix}state": S.FAILED, f"{prefix}terminated_at__isnull": True}) & may_have_node


def nodes_of_cloud(cloud_id: int, nodes: list[dict]) -> list[dict]:
    """The listed nodes that may be this cloud's: tagged with its id, or with no cloud id at all
    (made before nodes carried one). Another cloud's nodes on the same account are not ours to judge."""
    mine = str(cloud_id)
    return [n for n in nodes if n["tags"].get(cloudside.CLOUD_TAG, mine) == mine]


def _tagged_for(cloud_id: int, by_token: dict) -> dict:
    """Only nodes tagged with this cloud's id can be its orphans: a node without the tag may be
    another cloud's on the same account, so it is matched to instances but never destroyed."""
    return {t: n for t, n in by_token.items() if n["tags"].get(cloudside.CLOUD_TAG) == str(cloud_id)}


def _orphans(by_token: dict, known_tokens: set) -> list[dict]:
    """Alive nodes of this portal and cloud that no instance should have: its instance is gone or
    ended (creation in flight keeps a node)."""
    candidates = {
        token: n for token, n in by_token.items() if token not in known_tokens and n["state"] != TERMINATED
    }
    if not candidates:
        return []
    in_flight = Instance.objects.filter(
        idempotency_token__in=[t for t in candidates if _is_uuid(t)], state__in=IN_FLIGHT_STATES
    ).values_list("idempotency_token", flat=True)
    alive = {str(t) for t in in_flight}
    return [n for token, n in candidates.items() if token not in alive]


def _report_orphans(orphans: list[dict]) -> None:
    """An event in each orphan's cluster (one query for all of them)."""
    cluster_of = {node["id"]: _int(node["tags"].get(cloudside.CLUSTER_TAG)) for node in orphans}
    clusters = Cluster.objects.in_bulk([pk for pk in cluster_of.values() if pk is not None])
    for node in orphans:
        cluster = clusters.get(cluster_of[node["id"]])
        if cluster:
            launcher.event(
                cluster, f"orphan node {node['id']} ({node['name']}) found and destroyed", "warning"
            )


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
