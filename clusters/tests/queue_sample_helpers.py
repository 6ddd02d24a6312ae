"""Clusters with an elastic worker role and the queue samples their head reported, made directly in
the database, for the tests of the queue chart."""

from datetime import timedelta

from django.utils import timezone

from clusters.models import Cluster, ClusterState, QueueSample

POLICY = {"jobs_per_worker": 10, "idle_seconds": 600, "cooldown_seconds": 60, "drain_deadline_seconds": 3600}


def elastic_cluster(owner, name="demo", *, elastic=True) -> Cluster:
    """A running cluster: a head and a worker role, elastic (min 0, max 20) unless told otherwise."""
    role = {
        "min": 0,
        "max": None,
        "depends_on": [],
        "offering": "small",
        "size_id": "t2.micro",
        "image": "cernvm",
    }
    roles = [
        {**role, "name": "master", "count": 1, "elastic": None},
        {**role, "name": "worker", "count": 0, "max": 20, "elastic": POLICY if elastic else None},
    ]
    return Cluster.objects.create(
        owner=owner,
        name=name,
        snapshot={"roles": roles},
        elastic=elastic,
        secret="not-used",
        state=ClusterState.RUNNING,
    )


def add_sample(cluster, *, ago=timedelta(0), idle_jobs=0, running_jobs=0, instances=0) -> QueueSample:
    """A sample reported `ago` before now (`created` is set on insert, so it is moved after)."""
    sample = QueueSample.objects.create(
        cluster=cluster, system="condor", idle_jobs=idle_jobs, running_jobs=running_jobs, instances=instances
    )
    QueueSample.objects.filter(pk=sample.pk).update(created=timezone.now() - ago)
    return sample
