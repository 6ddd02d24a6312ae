"""Spot capacity (docs/elastic.md "Spot capacity"): cheaper instances the cloud may take back.

A role asks for it (`Role.spot`, the snapshot's `spot`); a cloud whose driver offers it
(`CloudProvider.supports_spot`) launches the role's instances as spot, any other cloud launches
them on demand, and the launch says so (`notice`). When the node of a spot instance ends without
the portal ending it, the monitor (clusters.recording.node_list) leaves the instance to
`record_reclaims`: it ends as "reclaimed by the cloud" — not failed — and a fixed role gets a
replacement at once, while an elastic role counts one live worker fewer, so its policy adds one on
its next decision if the queue still needs it.
"""

from __future__ import annotations

from collections import defaultdict

from django.db import transaction
from django.utils import timezone

from audit import record
from clusters import launcher
from clusters.models import Cloud, Cluster, Instance, InstanceState
from clusters.providers import provider_class

RECLAIMED = "reclaimed by the cloud"


def offered(driver: str) -> bool:
    return provider_class(driver).supports_spot


def wanted(role: dict, driver: str) -> bool:
    """Whether a snapshot role's instances are made as spot on a cloud of `driver`."""
    return bool(role.get("spot")) and offered(driver)


def notice(role_name: str, spot: bool, cloud: Cloud | None) -> str | None:
    """What a launch says when a role asks for spot capacity its cloud does not offer; never a failure."""
    if not spot or cloud is None or offered(cloud.driver):
        return None
    return (
        f"role {role_name}: spot capacity is not offered on cloud {cloud.name}; "
        "on-demand instances are launched"
    )


class SpotInstances:
    """Whether an instance of a node list runs on spot capacity: its role asked for it and its cloud
    offers it. Asked only about an instance whose node is gone, so the cloud and the clusters'
    snapshots are read on the first question, and most lists read nothing."""

    def __init__(self, cloud_id: int, cluster_ids):
        self.cloud_id, self.cluster_ids = cloud_id, set(cluster_ids)
        self._roles: set | None = None

    def __call__(self, instance: Instance) -> bool:
        if self._roles is None:
            self._roles = self._spot_roles()
        return (instance.cluster_id, instance.role) in self._roles

    def _spot_roles(self) -> set:
        driver = Cloud.objects.values_list("driver", flat=True).get(pk=self.cloud_id)
        if not offered(driver):
            return set()
        snapshots = Cluster.objects.filter(pk__in=self.cluster_ids).values_list("pk", "snapshot")
        return {
            (cluster_id, role["name"])
            for cluster_id, snapshot in snapshots
            for role in snapshot["roles"]
            if role.get("spot") and role["cloud"] == self.cloud_id
        }


def record_reclaims(reclaimed: list[tuple[Instance, str]]) -> None:
    """End the instances a node list found reclaimed — (the instance as the list read it, the node
    id that ended) — and replace those of fixed roles: in one transaction per cluster, so that a
    reclaim is recorded with its replacement or not at all (then the next list finds it again)."""
    by_cluster = defaultdict(dict)
    for instance, node_id in reclaimed:
        by_cluster[instance.cluster_id][instance.pk] = (instance, node_id)
    for cluster_id in sorted(by_cluster):
        _end_and_replace(cluster_id, by_cluster[cluster_id])


@transaction.atomic
def _end_and_replace(cluster_id: int, judged: dict[int, tuple[Instance, str]]) -> None:
    # The cluster's row lock first, then the instances' by id, as scale, retry and terminate take
    # them: a scale or terminate meanwhile is waited for, and adding instances is theirs to order.
    cluster = Cluster.objects.select_for_update().filter(pk=cluster_id).first()
    if cluster is None or cluster.is_ending:
        return  # its terminate ends every instance
    rows = Instance.objects.select_for_update().filter(cluster=cluster, pk__in=judged).order_by("pk")
    # Only from the state the list read: a change since (scaled down, terminated, another node) wins.
    ended = [row for row in rows if (row.state, row.node_id) == _as_read(judged[row.pk][0])]
    if not ended:
        return
    now = timezone.now()
    for instance in ended:
        instance.node_id = judged[instance.pk][1]
        instance.state, instance.terminated_at, instance.end_reason = InstanceState.TERMINATED, now, RECLAIMED
    Instance.objects.bulk_update(ended, ["node_id", "state", "terminated_at", "end_reason"])
    record.instance_addresses(ended)
    replaced = False
    for instance in ended:
        role = cluster.role(instance.role)
        if role.get("elastic"):  # its policy decides whether the queue needs another worker
            launcher.event(cluster, f"{instance.name} {RECLAIMED}")
            continue
        [replacement] = launcher.add_instances(cluster, role, 1)
        launcher.event(cluster, f"{instance.name} {RECLAIMED}: {replacement.name} replaces it")
        replaced = True
    if replaced:
        transaction.on_commit(lambda: launcher.advance_later(cluster.pk))


def _as_read(instance: Instance) -> tuple:
    return instance.state, instance.node_id
