"""Launch, grow, shrink and terminate a cluster for real: a Celery worker process on Redis, the
EC2 provider through libcloud against moto's EC2 server, user-data read back with boto3."""

import hashlib
import re

import pytest

from clusters import launcher
from clusters.models import Cluster, ClusterState, Instance
from clusters.tasks import monitor_clouds
from clusters.tests.launch_helpers import (
    cloud_with_offering,
    condor_definition,
    moto_nodes,
    states,
    user_data_of,
)  # fmt: skip
from portal.testing.waits import wait_for

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]


def _monitor():
    monitor_clouds.delay()


def _running(cluster, count):
    return lambda: states(cluster).get("running", 0) == count


def test_a_master_and_twenty_workers_launch_scale_and_terminate(alice, moto_ec2, celery_worker_process):
    ec2 = moto_ec2.boto3_client()
    cloud = cloud_with_offering(alice, moto_ec2.config())
    definition = condor_definition(alice, cloud, workers=20)

    cluster = launcher.launch(definition, alice, "demo", {"master": cloud, "worker": cloud})
    wait_for(_running(cluster, 21), tick=_monitor, message="21 running instances")
    # The list that records the nodes refreshes the cluster's state just after its own transaction.
    wait_for(
        lambda: Cluster.objects.get(pk=cluster.pk).state == ClusterState.RUNNING, message="cluster running"
    )

    master = Instance.objects.get(cluster=cluster, role="master")
    master_address = master.private_ips[0]
    workers = Instance.objects.filter(cluster=cluster, role="worker").order_by("index")
    assert [w.index for w in workers] == list(range(20))
    for worker in workers:
        data = user_data_of(ec2, worker.node_id).decode()
        assert f"CONDOR_HOST = {master_address}" in data
        assert f"hostname: demo-worker-{worker.index}" in data
        assert f"WORKER_INDEX='{worker.index}'" in data
        token = re.search(r"PORTAL_TOKEN='([^']+)'", data).group(1)
        assert hashlib.sha256(token.encode()).hexdigest() == worker.checkin_token_hash
    assert len(set(moto_nodes(ec2, cluster))) == 21

    launcher.scale(cluster, "worker", 30)
    wait_for(_running(cluster, 31), tick=_monitor, message="31 running instances")
    assert len(moto_nodes(ec2, cluster)) == 31

    launcher.scale(cluster, "worker", 5)
    wait_for(lambda: states(cluster).get("terminated", 0) == 25, tick=_monitor, message="25 terminated")
    live = Instance.objects.filter(cluster=cluster, role="worker", state="running")
    assert sorted(i.index for i in live) == [0, 1, 2, 3, 4]  # the newest went first
    nodes = moto_nodes(ec2, cluster)
    assert sum(1 for s in nodes.values() if s == "running") == 6

    launcher.terminate(Cluster.objects.get(pk=cluster.pk))
    wait_for(lambda: Cluster.objects.get(pk=cluster.pk).state == ClusterState.TERMINATED, tick=_monitor,
             message="the cluster terminated")  # fmt: skip
    assert set(moto_nodes(ec2, cluster).values()) == {"terminated"}
    assert len(moto_nodes(ec2, cluster)) == 31  # no duplicate was ever made
