"""Each instance's provider id, addresses and MAC, as the cloud reports them, are kept as a
history: an address seen at a time is traced to one instance and one person, also after the
instance has ended, its row has changed and its cluster is gone."""

import csv
import io
from datetime import timedelta

import pytest
from django.utils import timezone

from audit.models import InstanceAddress
from clusters import cloudside, launcher, recording
from clusters.models import Cluster, Instance, InstanceState
from clusters.providers import NodeSpec, get_provider
from clusters.tests.fault_helpers import one_role_definition
from clusters.tests.instance_helpers import make_cluster, make_instance
from clusters.tests.launch_helpers import cloud_with_offering

pytestmark = pytest.mark.django_db


def _tags(instance) -> dict:
    return {cloudside.PORTAL_TAG: launcher.portal_id(), cloudside.CLOUD_TAG: str(instance.cloud_id),
            cloudside.CLUSTER_TAG: str(instance.cluster_id),
            cloudside.INSTANCE_TAG: str(instance.idempotency_token)}  # fmt: skip


def _list_and_record(provider, cloud, capture):
    """One monitoring cycle's list, as the cloud side sends it, recorded by the portal."""
    nodes = [
        cloudside.node_dict(n) for n in provider.find_nodes({cloudside.PORTAL_TAG: launcher.portal_id()})
    ]
    with capture(execute=True):
        recording.node_list(cloud.pk, nodes, "", timezone.now() + timedelta(minutes=1))
    return nodes


def test_an_instances_addresses_and_mac_from_ec2_outlive_the_instance(
    alice, alice_client, bob_client, moto_ec2, django_capture_on_commit_callbacks
):
    cloud = cloud_with_offering(alice, moto_ec2.config())
    cluster = launcher.launch(one_role_definition(alice, cloud, 1), alice, "traced", {"node": cloud})
    instance = cluster.instances.get()
    provider = get_provider(cloud.config())
    made = provider.create_node(NodeSpec(name=instance.name, size_id="t2.micro", image_id="ami-1e749f67",
                                         tags=_tags(instance)))  # fmt: skip
    with django_capture_on_commit_callbacks(execute=True):
        recording.outcomes([{"instance": instance.pk, "node": cloudside.node_dict(made)}])
    [node] = _list_and_record(provider, cloud, django_capture_on_commit_callbacks)
    assert node["macs"] and node["private_ips"], node  # moto reports both, as EC2 does

    [held] = InstanceAddress.objects.filter(address=node["private_ips"][0])
    assert (held.node_id, held.mac, held.kind, held.instance_name, held.owner_username, held.seen_until) == (
        made.id, node["macs"][0], "private", "traced-node-0", "alice", None
    )  # fmt: skip
    instance.refresh_from_db()
    assert instance.mac == node["macs"][0]
    while_running = timezone.now()

    alice_client.post(f"/clusters/{cluster.pk}/terminate/")
    provider.destroy_node(made.id)
    _list_and_record(provider, cloud, django_capture_on_commit_callbacks)
    assert Instance.objects.get(pk=instance.pk).state == InstanceState.TERMINATED
    held.refresh_from_db()
    assert held.seen_until is not None

    Cluster.objects.filter(pk=cluster.pk).delete()  # the instance's row is gone too
    [traced] = InstanceAddress.objects.filter(address=node["private_ips"][0]).held_at(while_running)
    assert (traced.instance_id, traced.instance_name, traced.owner_username, traced.mac) == (
        None, "traced-node-0", "alice", node["macs"][0]
    )  # fmt: skip
    assert not InstanceAddress.objects.filter(address=node["private_ips"][0]).held_at(timezone.now()).exists()

    page = alice_client.get("/audit/addresses/", {"address": node["private_ips"][0]}).content.decode()
    assert "traced-node-0" in page and node["macs"][0] in page
    assert "traced-node-0" not in bob_client.get("/audit/addresses/").content.decode()


def _node(node_id, address, state="running"):
    return {"id": node_id, "name": node_id, "state": state, "public_ips": [], "private_ips": [address],
            "tags": {}, "macs": ["02:00:00:00:00:01"]}  # fmt: skip


def test_an_address_given_to_another_instance_is_traced_to_each_in_its_time(
    alice, bob, root_client, django_capture_on_commit_callbacks
):
    alices, _ = make_instance(make_cluster(alice, "alices"), state=InstanceState.LAUNCHING)
    bobs, _ = make_instance(make_cluster(bob, "bobs"), state=InstanceState.LAUNCHING)
    Instance.objects.filter(pk=bobs.pk).update(cloud=alices.cloud)  # one cloud, one address space
    with django_capture_on_commit_callbacks(execute=True):
        recording.outcomes([{"instance": alices.pk, "node": _node("vm-1", "10.1.0.9")}])
    alices_time = timezone.now()
    # The cloud reused the address for bob's machine (alice's end was never seen: a lost record).
    with django_capture_on_commit_callbacks(execute=True):
        recording.outcomes([{"instance": bobs.pk, "node": _node("vm-2", "10.1.0.9")}])
    bobs_time = timezone.now()

    rows = InstanceAddress.objects.filter(address="10.1.0.9")
    assert [r.owner_username for r in rows.held_at(alices_time)] == ["alice"]
    assert [r.owner_username for r in rows.held_at(bobs_time)] == ["bob"]

    export = b"".join(
        root_client.get("/audit/addresses.csv", {"address": "10.1.0.9"}).streaming_content
    ).decode()
    table = list(csv.DictReader(io.StringIO(export)))
    assert [(row["owner"], row["node id"], bool(row["seen until"])) for row in table] == [
        ("bob", "vm-2", False), ("alice", "vm-1", True)
    ]  # fmt: skip


def test_a_record_delivered_twice_opens_one_row(alice, django_capture_on_commit_callbacks):
    instance, _ = make_instance(make_cluster(alice), state=InstanceState.LAUNCHING)
    for _attempt in range(2):
        with django_capture_on_commit_callbacks(execute=True):
            recording.outcomes([{"instance": instance.pk, "node": _node("vm-1", "10.1.0.9")}])
    assert InstanceAddress.objects.filter(address="10.1.0.9").count() == 1


def test_the_cloudstack_simulator_reports_each_nodes_mac(cloudstack_sim):
    provider = get_provider(cloudstack_sim.config())
    spec = NodeSpec(name="mac", size_id=provider.list_sizes()[0].id, image_id=provider.list_images()[0].id)
    made = provider.create_node(spec)
    [listed] = [n for n in provider.list_nodes() if n.id == made.id]
    assert listed.macs and listed.macs[0].count(":") == 5
