"""Two clouds on one account (a user's own EC2 cloud and the site-wide demo cloud on the same
endpoint) each see the other's nodes in their node list; the monitor of one must never take the
other's nodes for orphans (issue: one cloud's monitor destroyed another cloud's nodes).

The cloud side runs in this process on real moto: the list call, the portal's record of it, and
every destroy the record sends, so what a worker would do to the nodes really happens."""

import pytest

from clusters import cloudside, dispatch, launcher
from clusters.models import Instance
from clusters.tests.cloud_helpers import cloud_from_config
from clusters.tests.fault_helpers import Queues, monitor_cycle, one_role_definition, take_messages
from clusters.tests.launch_helpers import cloud_with_offering
from clusters.tests.test_monitor import node_state, run_nodes
from portal.celery import app

pytestmark = pytest.mark.django_db


def _launched(owner, cloud, queue, count, django_capture_on_commit_callbacks, name):
    """A cluster whose nodes exist on the cloud as the portal makes them (tags and all)."""
    with django_capture_on_commit_callbacks(execute=True):
        cluster = launcher.launch(one_role_definition(owner, cloud, count), owner, name, {"node": cloud})
    with app.connection_for_write() as broker:
        broker.default_channel.queue_purge(queue)  # the creates: made below, directly
    instances = list(Instance.objects.filter(cluster=cluster).order_by("index"))
    node_ids = run_nodes(cloud_ec2(cloud), [dispatch.node_tags(cluster, i) for i in instances])
    for instance, node_id in zip(instances, node_ids, strict=True):
        instance.node_id, instance.state, instance.private_ips = node_id, "running", ["10.0.0.1"]
    Instance.objects.bulk_update(instances, ["node_id", "state", "private_ips"])
    return cluster, node_ids


def cloud_ec2(cloud):
    import boto3

    return boto3.client("ec2", region_name=cloud.region, endpoint_url=f"http://{cloud.host}:{cloud.port}",
                        aws_access_key_id="k", aws_secret_access_key="s")  # fmt: skip


def test_a_clouds_monitor_leaves_the_nodes_of_another_cloud_on_the_same_account_alone(
    alice, bob, moto_ec2, django_capture_on_commit_callbacks
):
    mine, site = Queues(), Queues()
    own_cloud = cloud_with_offering(alice, moto_ec2.config(), name="alice's EC2", queue=mine.cloud)
    demo = cloud_from_config(None, moto_ec2.config(), name="demo cloud", queue=site.cloud)
    demo.images.create(name="AlmaLinux 9", provider_id="ami-1e749f67")
    demo.size_mappings.create(offering=own_cloud.size_mappings.get().offering, size_id="t2.micro")
    _alices, alice_nodes = _launched(alice, own_cloud, mine.cloud, 3, django_capture_on_commit_callbacks, "a")
    _bobs, bob_nodes = _launched(bob, demo, site.cloud, 2, django_capture_on_commit_callbacks, "b")
    ec2 = moto_ec2.boto3_client()

    for _ in range(2):
        assert monitor_cycle(own_cloud, mine, django_capture_on_commit_callbacks)["orphans"] == 0
        assert monitor_cycle(demo, site, django_capture_on_commit_callbacks)["orphans"] == 0

    assert {node_state(ec2, n) for n in alice_nodes + bob_nodes} == {"running"}
    assert set(Instance.objects.values_list("state", flat=True)) == {"running"}


def test_every_node_carries_the_id_of_its_cloud(alice, moto_ec2, django_capture_on_commit_callbacks):
    queues = Queues()
    cloud = cloud_with_offering(alice, moto_ec2.config(), queue=queues.cloud)
    with django_capture_on_commit_callbacks(execute=True):
        cluster = launcher.launch(one_role_definition(alice, cloud, 1), alice, "tagged", {"node": cloud})
    [(task, (_ref, [[_instance_id, spec]]))] = take_messages(queues.cloud, 1)
    assert task == "clusters.cloud_create_nodes"
    assert spec["tags"][cloudside.CLOUD_TAG] == str(cloud.pk)
    assert spec["tags"][cloudside.CLUSTER_TAG] == str(cluster.pk)


def test_a_tagged_node_of_this_cloud_whose_instance_is_being_created_is_no_orphan(
    alice, moto_ec2, django_capture_on_commit_callbacks
):
    """Its create answered the cloud but its record has not arrived yet: the node is listed while
    the instance has no node id. It must be adopted, not destroyed."""
    queues = Queues()
    cloud = cloud_with_offering(alice, moto_ec2.config(), queue=queues.cloud)
    with django_capture_on_commit_callbacks(execute=True):
        cluster = launcher.launch(one_role_definition(alice, cloud, 1), alice, "inflight", {"node": cloud})
    take_messages(queues.cloud, 1)
    instance = Instance.objects.get(cluster=cluster)
    assert instance.state == "launching" and not instance.node_id
    [node_id] = run_nodes(moto_ec2.boto3_client(), [dispatch.node_tags(cluster, instance)])

    assert monitor_cycle(cloud, queues, django_capture_on_commit_callbacks)["orphans"] == 0
    assert node_state(moto_ec2.boto3_client(), node_id) == "running"
    instance.refresh_from_db()
    assert instance.node_id == node_id


def test_a_node_of_this_portal_without_a_cloud_id_is_never_destroyed(
    alice, moto_ec2, django_capture_on_commit_callbacks
):
    """Nodes made before nodes carried their cloud's id may be any cloud's: left alone."""
    queues = Queues()
    cloud = cloud_with_offering(alice, moto_ec2.config(), queue=queues.cloud)
    cluster, _nodes = _launched(alice, cloud, queues.cloud, 1, django_capture_on_commit_callbacks, "old")
    tags = {cloudside.PORTAL_TAG: launcher.portal_id(), cloudside.CLUSTER_TAG: str(cluster.pk),
            cloudside.INSTANCE_TAG: "4f1d6c36-0000-4000-8000-000000000000"}  # fmt: skip
    [old_node] = run_nodes(moto_ec2.boto3_client(), [tags])

    assert monitor_cycle(cloud, queues, django_capture_on_commit_callbacks)["orphans"] == 0
    assert node_state(moto_ec2.boto3_client(), old_node) == "running"
