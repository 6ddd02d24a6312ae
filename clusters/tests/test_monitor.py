"""The monitor (docs/launches.md, docs/performance.md): one list call per cloud per cycle, a bounded number of queries
whatever the number of instances, orphans destroyed, nodes that vanished reported."""

import dataclasses
import math
import time
import uuid
from concurrent.futures import ThreadPoolExecutor

import pytest
from django.db import connection

from clusters import cloudside, dispatch, launcher, recording
from clusters.models import ClusterState, Instance
from clusters.testing.fault_proxy import FaultProxy
from clusters.tests.fault_helpers import (
    Queues,
    Workers,
    every,
    one_role_definition,
    reports_to,
    tagged_nodes,
    take_messages,
)
from clusters.tests.launch_helpers import cloud_with_offering, states
from portal.celery import app
from portal.testing.waits import wait_for

AMI = "ami-1e749f67"


@pytest.fixture
def workers(transactional_db, tmp_path):
    started = Workers(tmp_path)
    yield started
    started.stop_all()  # before the test database is emptied


def run_nodes(ec2, tag_sets: list[dict]) -> list[str]:
    """One node per tag set, each its own reservation as the portal makes them; two at a time."""

    def run(tags):
        answer = ec2.run_instances(ImageId=AMI, MinCount=1, MaxCount=1, TagSpecifications=[
            {"ResourceType": "instance", "Tags": [{"Key": k, "Value": v} for k, v in tags.items()]}])  # fmt: skip
        return answer["Instances"][0]["InstanceId"]

    with ThreadPoolExecutor(2) as pool:
        return list(pool.map(run, tag_sets))


def one_cycle(queues, cloud):
    """A monitoring cycle's cloud side, run here: the list task the monitor queued, and its report."""
    [(task, args)] = take_messages(queues.cloud, 1)
    assert task == "clusters.cloud_list_nodes"
    with reports_to(queues.results):
        cloudside.cloud_list_nodes.apply(args=args).get()
    [(task, (cloud_id, _cycle, nodes, error))] = take_messages(queues.results, 1)
    assert (task, cloud_id, error) == ("clusters.record_node_list", cloud.pk, "")
    return nodes


def is_bulk_update(sql: str) -> bool:
    return sql.startswith('UPDATE "clusters_instance" SET "state" = ') and "CASE WHEN" in sql[:60]


@pytest.mark.slow
@pytest.mark.django_db
def test_a_cycle_over_1000_instances_costs_two_cloud_calls_and_ten_queries_plus_the_bulk_update(
    alice, moto_ec2, django_assert_max_num_queries, django_capture_on_commit_callbacks
):
    ec2, queues = moto_ec2.boto3_client(), Queues()
    with FaultProxy(moto_ec2.url) as proxy:
        cloud = cloud_with_offering(alice, dataclasses.replace(moto_ec2.config(), port=proxy.port),
                                    queue=queues.cloud)  # fmt: skip
        with django_capture_on_commit_callbacks(execute=True):
            cluster = launcher.launch(one_role_definition(alice, cloud, 1000), alice, "big", {"node": cloud})
        with app.connection_for_write() as broker:
            broker.default_channel.queue_purge(queues.cloud)  # the creates: made below, directly
        instances = list(Instance.objects.filter(cluster=cluster).order_by("index"))
        assert {i.state for i in instances} == {"launching"}
        started = time.monotonic()
        node_ids = run_nodes(ec2, [dispatch.node_tags(cluster, i) for i in instances])
        made = time.monotonic() - started
        for instance, node_id in zip(instances, node_ids, strict=True):
            instance.node_id = node_id  # as the create reports recorded them: pending, not running yet
        Instance.objects.bulk_update(instances, ["node_id"])

        with (
            django_capture_on_commit_callbacks(execute=True),
            django_assert_max_num_queries(3),
        ):  # the watchdog's launches with no news (docs/launches.md), clouds, stranded clusters
            assert recording.monitor_clouds() == 1
        proxy.reset_counts()
        nodes = one_cycle(queues, cloud)
        calls = dict(proxy.calls)

    assert len(nodes) == 1000
    assert sum(calls.values()) <= 2, calls
    batches = math.ceil(
        1000 / connection.ops.bulk_batch_size(["pk", "pk", *recording.LIST_WRITES], instances)
    )
    with django_assert_max_num_queries(10 + batches) as captured:
        recording.node_list(cloud.pk, nodes, "")
    queries = [q["sql"] for q in captured.captured_queries]
    others = [sql for sql in queries if not is_bulk_update(sql)]
    assert len(queries) - len(others) == batches  # one statement on PostgreSQL, batches on SQLite
    assert len(others) <= 10, others
    assert states(cluster) == {"running": 1000}
    assert cluster.events.filter(message="cluster running").exists()

    with django_assert_max_num_queries(10) as steady:  # the next cycle: nothing changed, nothing written
        recording.node_list(cloud.pk, nodes, "")
    assert not [q for q in steady.captured_queries if q["sql"].startswith("UPDATE")]
    print(f"\n1,000 nodes made in moto in {made:.1f} s; one cycle: cloud calls {calls}, "
          f"{len(others)} queries + {batches} bulk-update statements; steady cycle: "
          f"{len(steady.captured_queries)} queries")  # fmt: skip


def node_state(ec2, node_id: str) -> str:
    answer = ec2.describe_instances(InstanceIds=[node_id])
    return answer["Reservations"][0]["Instances"][0]["State"]["Name"]


def _running_cluster(alice, moto_ec2, workers, count=3):
    queues = Queues()
    cloud = cloud_with_offering(alice, moto_ec2.config(), queue=queues.cloud)
    workers.start(queues)
    cluster = launcher.launch(one_role_definition(alice, cloud, count), alice, "watched", {"node": cloud})
    wait_for(lambda: states(cluster) == {"running": count}, timeout=60, tick=every(1.0, recording.monitor_clouds),
             message=f"{count} running")  # fmt: skip
    return cluster


@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
def test_the_monitor_destroys_a_node_of_the_portals_whose_instance_is_gone_and_says_so(
    alice, moto_ec2, workers
):
    ec2 = moto_ec2.boto3_client()
    cluster = _running_cluster(alice, moto_ec2, workers)
    gone = Instance.objects.filter(cluster=cluster).first()
    gone_node = gone.node_id
    gone.delete()
    [stray] = run_nodes(ec2, [{"Name": "stray", cloudside.PORTAL_TAG: launcher.portal_id(),
                               cloudside.CLOUD_TAG: str(gone.cloud_id), cloudside.CLUSTER_TAG: str(cluster.pk),
                               cloudside.INSTANCE_TAG: "not-an-instance"}])  # fmt: skip

    wait_for(lambda: cluster.events.filter(message__startswith="orphan node").count() == 2, timeout=60,
             tick=every(1.0, recording.monitor_clouds), message="two orphans found")  # fmt: skip
    wait_for(lambda: {node_state(ec2, n) for n in (gone_node, stray)} == {"terminated"}, timeout=60,
             message="both orphans terminated")  # fmt: skip

    orphans = set(cluster.events.filter(level="warning").values_list("message", flat=True))
    assert f"orphan node {stray} (stray) found and destroyed" in orphans
    assert f"orphan node {gone_node} (watched-node-{gone.index}) found and destroyed" in orphans
    live = {node_id for node_id in tagged_nodes(ec2, cluster) if node_state(ec2, node_id) == "running"}
    assert live == set(Instance.objects.filter(cluster=cluster).values_list("node_id", flat=True))


@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
def test_a_node_terminated_outside_the_portal_fails_its_instance(alice, moto_ec2, workers):
    ec2 = moto_ec2.boto3_client()
    cluster = _running_cluster(alice, moto_ec2, workers)
    victim = Instance.objects.filter(cluster=cluster).order_by("index").last()

    ec2.terminate_instances(InstanceIds=[victim.node_id])
    wait_for(lambda: states(cluster) == {"running": 2, "failed": 1}, timeout=60,
             tick=every(1.0, recording.monitor_clouds), message="one failed")  # fmt: skip

    victim.refresh_from_db()
    assert victim.state == "failed"
    assert victim.last_error == "the node disappeared from the cloud"
    cluster.refresh_from_db()
    assert cluster.state == ClusterState.DEGRADED
    assert cluster.events.filter(message="cluster degraded").exists()


@pytest.mark.django_db
def test_a_launch_whose_create_message_was_lost_is_sent_again_with_the_same_token(alice, settings):
    from datetime import timedelta

    from django.utils import timezone

    from clusters import recording
    from clusters.launcher import launch
    from clusters.models import Instance
    from clusters.providers import CloudConfig
    from clusters.tests.launch_helpers import cloud_with_offering, condor_definition

    config = CloudConfig(
        driver="ec2", credentials={"key": "k", "secret": "s"}, host="127.0.0.1", port=1, secure=False
    )
    cloud = cloud_with_offering(alice, config)
    cluster = launch(
        condor_definition(alice, cloud, workers=1), alice, "lost", {"master": cloud, "worker": cloud}
    )
    master = Instance.objects.get(cluster=cluster, role="master")
    long_ago = timezone.now() - timedelta(seconds=settings.LAUNCH_STALE_AFTER + 60)
    Instance.objects.filter(pk=master.pk).update(state="launching", launched_at=long_ago, attempts=1)
    recording.node_list(cloud.pk, [], "")
    again = Instance.objects.get(pk=master.pk)
    assert again.state == "launching" and again.attempts == 2 and again.launched_at > long_ago
    assert again.idempotency_token == master.idempotency_token
    recent = Instance.objects.filter(pk=master.pk)
    recent.update(launched_at=timezone.now())
    recording.node_list(cloud.pk, [], "")
    assert Instance.objects.get(pk=master.pk).attempts == 2  # a recent launch is left alone


@pytest.mark.django_db
def test_monitor_cycles_never_pile_up_behind_a_list_not_yet_recorded(
    alice, moto_ec2, django_capture_on_commit_callbacks
):
    queues = Queues()
    cloud = cloud_with_offering(alice, moto_ec2.config(), queue=queues.cloud)
    launcher.launch(one_role_definition(alice, cloud, 1), alice, "slow", {"node": cloud})
    Instance.objects.update(state="running", node_id="i-0")

    with django_capture_on_commit_callbacks(execute=True):
        ticks = [recording.monitor_clouds() for _tick in range(3)]  # the cloud answers slowly
    assert ticks == [1, 0, 0]
    [(task, _args)] = take_messages(queues.cloud, 1)
    assert task == "clusters.cloud_list_nodes"
    recording.node_list(cloud.pk, [], "")  # its list is recorded: the next cycle lists again
    Instance.objects.update(state="running")  # (the list said its node was gone)
    with django_capture_on_commit_callbacks(execute=True):
        assert recording.monitor_clouds() == 1


def listed(instance, node_id: str, state: str = "running") -> dict:
    """A node as a list reports it: the node of `instance`, tagged as the portal tags it."""
    tags = {cloudside.PORTAL_TAG: "1", cloudside.CLOUD_TAG: str(instance.cloud_id),
            cloudside.CLUSTER_TAG: str(instance.cluster_id), cloudside.INSTANCE_TAG: str(instance.idempotency_token)}  # fmt: skip
    return {
        "id": node_id,
        "name": instance.name,
        "state": state,
        "public_ips": [],
        "private_ips": [],
        "tags": tags,
    }


@pytest.mark.django_db
def test_a_list_asked_before_a_node_was_recorded_neither_fails_nor_ends_its_instance(
    alice, moto_ec2, settings
):
    """The list of a cycle may be answered before a create it overlaps: its silence about a node
    recorded after it was asked says nothing. (Seen for real: a scale up recorded its seven nodes
    between a list's call and its record, and the seven instances were failed as vanished.)"""
    from datetime import timedelta

    from django.utils import timezone

    cloud = cloud_with_offering(alice, moto_ec2.config())
    cluster = launcher.launch(one_role_definition(alice, cloud, 2), alice, "race", {"node": cloud})
    running, stopping = cluster.instances.order_by("index")
    cluster.instances.update(state="launching", launched_at=timezone.now())
    Instance.objects.filter(pk=stopping.pk).update(state="terminating")

    asked = timezone.now()  # a list is asked for, and answered before both creates end
    recording.outcomes([{"instance": running.pk, "node": listed(running, "i-1")},
                        {"instance": stopping.pk, "node": listed(stopping, "i-2")}])  # fmt: skip
    recording.node_list(cloud.pk, [], "", asked_at=asked)
    assert states(cluster) == {"running": 1, "terminating": 1}

    later = timezone.now() + timedelta(seconds=settings.NODE_LIST_LAG + 1)  # a cloud's list may lag a create
    recording.node_list(cloud.pk, [], "", asked_at=later)  # asked well after both were made: they are gone
    assert states(cluster) == {"failed": 1, "terminated": 1}
    assert Instance.objects.get(pk=running.pk).last_error == "the node disappeared from the cloud"


@pytest.mark.django_db
@pytest.mark.parametrize("how", ["its node vanished", "its create gave up"])
def test_a_failed_instance_keeps_its_cloud_listed_until_its_node_is_seen_gone(
    alice, moto_ec2, django_capture_on_commit_callbacks, how
):
    """A failed instance's node is an orphan; its cloud must be listed until that node is gone,
    even when no other instance of the cloud is live (else the node outlives everything). A create
    that gave up may have made its node all the same (its answers lost): the same holds."""
    queues = Queues()
    cloud = cloud_with_offering(alice, moto_ec2.config(), queue=queues.cloud)
    cluster = launcher.launch(one_role_definition(alice, cloud, 1), alice, "failed", {"node": cloud})
    instance, node_id = cluster.instances.get(), f"i-{uuid.uuid4().hex[:17]}"  # destroys' backoff is per node
    if how == "its node vanished":
        Instance.objects.filter(pk=instance.pk).update(state="failed", node_id=node_id, last_error="vanished")
    else:
        Instance.objects.filter(pk=instance.pk).update(state="launching")
        recording.outcomes([{"instance": instance.pk, "failed": "timed out", "permanent": False}])
        assert Instance.objects.get(pk=instance.pk).state == "failed"

    with django_capture_on_commit_callbacks(execute=True):
        assert recording.monitor_clouds() == 1
        outcome = recording.node_list(cloud.pk, [listed(instance, node_id)], "")  # still alive: an orphan
    assert outcome["orphans"] == 1 and outcome["destroys"] == 1
    tasks = [task for task, _args in take_messages(queues.cloud, 2)]
    assert sorted(tasks) == ["clusters.cloud_destroy_nodes", "clusters.cloud_list_nodes"]

    with django_capture_on_commit_callbacks(execute=True):
        assert recording.monitor_clouds() == 1  # not seen gone yet: listed again
        recording.node_list(cloud.pk, [listed(instance, node_id, "terminated")], "")
        assert recording.monitor_clouds() == 0  # seen gone: nothing left to watch on this cloud
    instance.refresh_from_db()
    assert instance.state == "failed" and instance.terminated_at is not None
