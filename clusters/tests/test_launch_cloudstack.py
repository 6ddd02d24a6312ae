"""Launch and terminate clusters on CloudStack for real: a Celery worker process on Redis, the
CloudStack provider through libcloud against our CloudStack simulator (docs/testing.md), user-data read
from what the simulator received. And a cluster spanning two clouds: its master on CloudStack,
its workers on EC2 (moto), which get the master's CloudStack address."""

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

WORKERS = 8


def _cloudstack_cloud(owner, sim):
    template = next(t for t in sim.templates if t["name"] == "AlmaLinux 9")
    return cloud_with_offering(owner, sim.config(), name="cloudstack", size_id=sim.offerings[0]["id"],
                               image_id=template["id"])  # fmt: skip


def _all_running(cluster, count):
    wait_for(lambda: states(cluster).get("running", 0) == count, tick=monitor_clouds.delay,
             message=f"{count} running instances")  # fmt: skip
    cluster.refresh_from_db()
    assert cluster.state == ClusterState.RUNNING


def _terminate(cluster):
    launcher.terminate(Cluster.objects.get(pk=cluster.pk))
    wait_for(lambda: Cluster.objects.get(pk=cluster.pk).state == ClusterState.TERMINATED,
             tick=monitor_clouds.delay, message="the cluster terminated")  # fmt: skip


def test_a_master_and_workers_launch_and_terminate_on_cloudstack(
    alice, cloudstack_sim, celery_worker_process
):
    cloud = _cloudstack_cloud(alice, cloudstack_sim)
    definition = condor_definition(alice, cloud, workers=WORKERS)

    cluster = launcher.launch(definition, alice, "stack", {"master": cloud, "worker": cloud})
    _all_running(cluster, 1 + WORKERS)

    master = Instance.objects.get(cluster=cluster, role="master")
    master_address = master.private_ips[0]
    assert "hostname: stack-master-0" in cloudstack_sim.user_data[master.node_id].decode()
    workers = Instance.objects.filter(cluster=cluster, role="worker").order_by("index")
    assert [w.index for w in workers] == list(range(WORKERS))
    for worker in workers:
        data = cloudstack_sim.user_data[worker.node_id].decode()
        assert f"CONDOR_HOST = {master_address}" in data
        assert f"hostname: stack-worker-{worker.index}" in data and f"WORKER_INDEX='{worker.index}'" in data
    node_ids = {i.node_id for i in Instance.objects.filter(cluster=cluster)}
    assert len(node_ids) == 1 + WORKERS and node_ids <= set(cloudstack_sim.vms)
    assert cloudstack_sim.commands.count("deployVirtualMachine") == 1 + WORKERS  # no duplicate

    _terminate(cluster)
    assert not node_ids & set(cloudstack_sim.vms)  # every VM destroyed
    assert cloudstack_sim.commands.count("destroyVirtualMachine") == 1 + WORKERS
    assert set(states(cluster)) == {"terminated"}


def test_a_cluster_spans_cloudstack_and_ec2(alice, cloudstack_sim, moto_ec2, celery_worker_process):
    cs_cloud = _cloudstack_cloud(alice, cloudstack_sim)
    ec2_cloud = cloud_with_offering(alice, moto_ec2.config(), name="ec2")
    definition = condor_definition(alice, cs_cloud, workers=WORKERS)

    cluster = launcher.launch(definition, alice, "span", {"master": cs_cloud, "worker": ec2_cloud})
    _all_running(cluster, 1 + WORKERS)

    master = Instance.objects.get(cluster=cluster, role="master")
    assert master.cloud_id == cs_cloud.pk and master.node_id in cloudstack_sim.vms
    master_address = master.private_ips[0]
    assert cloudstack_sim.vms[master.node_id]["nic"][0]["ipaddress"] == master_address
    ec2 = moto_ec2.boto3_client()
    workers = Instance.objects.filter(cluster=cluster, role="worker")
    assert {w.cloud_id for w in workers} == {ec2_cloud.pk}
    for worker in workers:
        data = user_data_of(ec2, worker.node_id).decode()
        assert f"CONDOR_HOST = {master_address}" in data and f"WORKER_INDEX='{worker.index}'" in data
    assert len(moto_nodes(ec2, cluster)) == WORKERS
    assert len(cloudstack_sim.vms) == 1

    _terminate(cluster)
    assert cloudstack_sim.vms == {}
    assert set(moto_nodes(ec2, cluster).values()) == {"terminated"}
