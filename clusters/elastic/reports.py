"""A head's queue report arriving through the instance API (docs/elastic.md): kept as a QueueSample
for the policy and the chart; the answer names the cluster's workers the head must drain."""

from __future__ import annotations

from datetime import datetime, timedelta

from django.conf import settings
from django.utils import timezone

from clusters.elastic.decide import STALE_PERIODS
from clusters.elastic.signals import QueueSignals, WorkerSignal, parse
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
        workers=_idle_at_most_since_seen_busy(signals, cluster.queue_samples.first(), timezone.now()),
        instances=cluster.instances.filter(role__in=roles, state__in=LIVE_STATES).count(),
    )
    return sample, draining(cluster)


def _idle_at_most_since_seen_busy(signals, previous: QueueSample | None, now) -> list[dict]:
    """The workers as stored: a worker is idle at most since the last report that showed it not
    idle. A batch system may date idleness from an older change (an HTCondor partitionable slot
    stays Unclaimed while its dynamic slots come and go), and draining a worker that has just
    finished a job is what the idle time is there to prevent."""
    before = {w["name"]: w for w in previous.workers} if previous else {}
    gap = int((now - previous.created).total_seconds()) if previous else None
    workers = []
    for worker in signals.workers:
        idle, seen = worker.idle_seconds, before.get(worker.name)
        if idle is not None and worker.state == "idle" and seen is not None:
            if seen["state"] != "idle":
                idle = min(idle, gap)
            elif seen.get("idle_seconds") is not None:
                idle = min(idle, seen["idle_seconds"] + gap)
        workers.append({"name": worker.name, "state": worker.state, "idle_seconds": idle})
    return workers


def draining(cluster: Cluster) -> list[str]:
    """The names of the cluster's workers told to drain whose nodes still run."""
    return list(
        cluster.instances.filter(drain_requested_at__isnull=False, state__in=UP_STATES)
        .order_by("pk")
        .values_list("name", flat=True)
    )


def latest_signals(cluster: Cluster) -> tuple[QueueSignals | None, datetime | None]:
    sample = cluster.queue_samples.order_by("-created", "-id").first()
    if sample is None:
        return None, None
    workers = tuple(WorkerSignal(w["name"], w["state"], w.get("idle_seconds")) for w in sample.workers)
    return QueueSignals(sample.system, sample.idle_jobs, sample.running_jobs, workers), sample.created


def queued_workers(cluster: Cluster) -> dict[str, str]:
    """The workers the cluster's head reports in a fresh report, name -> state; {} when it has no
    queue (no report, or a stale one)."""
    signals, signals_at = latest_signals(cluster)
    stale = timedelta(seconds=STALE_PERIODS * settings.ELASTIC_REPORT_SECONDS)
    if signals is None or timezone.now() - signals_at > stale:
        return {}
    return {w.name.lower(): w.state for w in signals.workers}
