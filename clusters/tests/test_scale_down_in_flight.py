"""No VM outlives its instance (issue: scale-down met instances still being created, marked them
terminating and relied on their "node created" records to destroy the nodes; the records were lost,
the monitor left alive nodes of terminating instances alone, and the cluster never finished
terminating).

Deterministic: the cloud side runs in this process against moto's EC2 server, and the records are
lost by never running them."""

import pytest

from clusters import launcher
from clusters.models import Cluster, ClusterState, Instance
from clusters.tests.fault_helpers import Queues, monitor_cycle, one_role_definition, run_here, take_messages
from clusters.tests.launch_helpers import cloud_with_offering, moto_nodes

pytestmark = pytest.mark.django_db


def live_nodes(ec2, cluster) -> set[str]:
    return {node for node, state in moto_nodes(ec2, cluster).items() if state in ("pending", "running")}


def test_nodes_created_after_a_scale_down_whose_records_were_lost_are_destroyed_by_the_monitor(
    alice, moto_ec2, django_capture_on_commit_callbacks
):
    ec2, queues = moto_ec2.boto3_client(), Queues()
    cloud = cloud_with_offering(alice, moto_ec2.config(), queue=queues.cloud)
    with django_capture_on_commit_callbacks(execute=True):
        cluster = launcher.launch(one_role_definition(alice, cloud, 3), alice, "race", {"node": cloud})
    assert set(Instance.objects.filter(cluster=cluster).values_list("state", flat=True)) == {"launching"}

    with django_capture_on_commit_callbacks(execute=True):
        launcher.scale(Cluster.objects.get(pk=cluster.pk), "node", 0)  # the creates are in flight
    run_here(queues, 3)  # the cloud makes the three nodes...
    take_messages(queues.results, 3)  # ...and their "node created" records are lost
    assert len(live_nodes(ec2, cluster)) == 3

    with django_capture_on_commit_callbacks(execute=True):
        launcher.terminate(Cluster.objects.get(pk=cluster.pk))
    for _cycle in range(2):
        monitor_cycle(cloud, queues, django_capture_on_commit_callbacks)

    assert live_nodes(ec2, cluster) == set()
    assert set(Instance.objects.filter(cluster=cluster).values_list("state", flat=True)) == {"terminated"}
    assert Cluster.objects.get(pk=cluster.pk).state == ClusterState.TERMINATED


def test_a_terminated_cluster_ends_even_with_instances_that_failed_or_wait(
    alice, moto_ec2, django_capture_on_commit_callbacks
):
    """Terminate covers every state that is not final: waiting, launching, running and failed ones."""
    ec2, queues = moto_ec2.boto3_client(), Queues()
    cloud = cloud_with_offering(alice, moto_ec2.config(), queue=queues.cloud)
    with django_capture_on_commit_callbacks(execute=True):
        cluster = launcher.launch(one_role_definition(alice, cloud, 4), alice, "mixed", {"node": cloud})
    run_here(queues, 4)
    reports = take_messages(queues.results, 4)
    first, second, third, fourth = Instance.objects.filter(cluster=cluster).order_by("index")
    node_of = {
        outcome["instance"]: outcome["node"]["id"] for _task, (outcomes,) in reports for outcome in outcomes
    }
    # A failed instance whose node exists (its create gave up after the node was made), one waiting,
    # one running, one whose record is still on its way.
    Instance.objects.filter(pk=first.pk).update(
        state="failed", node_id=node_of[first.pk], last_error="gave up"
    )
    Instance.objects.filter(pk=second.pk).update(state="requested")
    Instance.objects.filter(pk=third.pk).update(state="running", node_id=node_of[third.pk])

    with django_capture_on_commit_callbacks(execute=True):
        launcher.terminate(Cluster.objects.get(pk=cluster.pk))
    for _cycle in range(2):
        monitor_cycle(cloud, queues, django_capture_on_commit_callbacks)

    assert live_nodes(ec2, cluster) == set()
    assert set(Instance.objects.filter(cluster=cluster).values_list("state", flat=True)) == {"terminated"}
    assert Cluster.objects.get(pk=cluster.pk).state == ClusterState.TERMINATED
    assert fourth.pk in node_of


def test_a_lost_node_record_is_adopted_by_the_monitor(alice, moto_ec2, django_capture_on_commit_callbacks):
    ec2, queues = moto_ec2.boto3_client(), Queues()
    cloud = cloud_with_offering(alice, moto_ec2.config(), queue=queues.cloud)
    with django_capture_on_commit_callbacks(execute=True):
        cluster = launcher.launch(one_role_definition(alice, cloud, 2), alice, "adopt", {"node": cloud})
    run_here(queues, 2)
    take_messages(queues.results, 2)  # lost

    monitor_cycle(cloud, queues, django_capture_on_commit_callbacks)

    instances = Instance.objects.filter(cluster=cluster)
    assert {i.node_id for i in instances} == live_nodes(ec2, cluster)
    assert {i.state for i in instances} == {"running"}
