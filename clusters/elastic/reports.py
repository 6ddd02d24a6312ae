"""A head's queue report arriving through the instance API (docs/elastic.md): kept as a QueueSample
for the policy and the chart; the answer names the cluster's workers the head must drain."""

from __future__ import annotations

from clusters.elastic.signals import parse
from clusters.models import Cluster, Instance, QueueSample
from clusters.models.launches import LIVE_STATES, UP_STATES


def elastic_roles(cluster: Cluster) -> list[dict]:
    return [role for role in cluster.snapshot["roles"] if role.get("elastic")]


def record(instance: Instance, text: str) -> tuple[QueueSample, list[str]]:
    """The report `text` of `instance`'s cluster stored; and the workers to drain. Raises
    signals.SignalError on a report that cannot be read."""
    signals = parse(text)
    cluster = instance.cluster
    roles = [role["name"] for role in elastic_roles(cluster)]
    sample = QueueSample.objects.create(
        cluster=cluster,
        system=signals.system,
        idle_jobs=signals.idle_jobs,
        running_jobs=signals.running_jobs,
        workers=[{"name": w.name, "state": w.state, "idle_seconds": w.idle_seconds} for w in signals.workers],
        instances=cluster.instances.filter(role__in=roles, state__in=LIVE_STATES).count(),
    )
    return sample, draining(cluster)


def draining(cluster: Cluster) -> list[str]:
    """The names of the cluster's workers told to drain whose nodes still run."""
    return list(
        cluster.instances.filter(drain_requested_at__isnull=False, state__in=UP_STATES)
        .order_by("pk")
        .values_list("name", flat=True)
    )
