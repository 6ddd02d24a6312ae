"""Launches that end well despite faults (docs/security.md): a worker killed in the middle of its creates,
a create message delivered twice, a cloud answering 503 to a third of its creates, a quota.

Real processes and servers throughout: Celery workers started (and killed) by the test on queues
of its own, Redis, moto's EC2 server behind clusters.testing.fault_proxy."""

import dataclasses
import time

import pytest

from clusters import cloudside, launcher, recording
from clusters.cloudside import INSTANCE_TAG
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
    unacked_on,
)
from clusters.tests.launch_helpers import cloud_with_offering, states
from portal.testing.waits import wait_for

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]

monitor = every(2.0, recording.monitor_clouds)


@pytest.fixture
def workers(transactional_db, tmp_path):
    started = Workers(tmp_path)
    yield started
    started.stop_all()  # before the test database is emptied


@pytest.fixture
def proxy(moto_ec2):
    with FaultProxy(moto_ec2.url) as running:
        yield running


def proxied_cloud(owner, moto_ec2, proxy, queues):
    return cloud_with_offering(
        owner, dataclasses.replace(moto_ec2.config(), port=proxy.port), queue=queues.cloud
    )


def assert_one_node_per_instance(ec2, cluster, count):
    """Exactly `count` nodes carry the cluster's tag, each the node of one live instance."""
    nodes = tagged_nodes(ec2, cluster)
    instances = Instance.objects.filter(cluster=cluster, state="running")
    assert {i.node_id: str(i.idempotency_token) for i in instances} == {
        node_id: tags[INSTANCE_TAG] for node_id, tags in nodes.items()
    }
    assert len(nodes) == count


def test_a_worker_killed_in_the_middle_of_creates_leaves_no_duplicate_and_no_orphan(alice, moto_ec2, proxy,
                                                                                   workers):  # fmt: skip
    ec2, queues = moto_ec2.boto3_client(), Queues()
    cloud = proxied_cloud(alice, moto_ec2, proxy, queues)
    first = workers.start(queues)
    started = time.monotonic()
    cluster = launcher.launch(one_role_definition(alice, cloud, 200), alice, "faults", {"node": cloud})

    wait_for(lambda: len(tagged_nodes(ec2, cluster)) >= 30, timeout=60, message="30 nodes")
    made, elapsed = len(tagged_nodes(ec2, cluster)), time.monotonic() - started
    # Both pool processes in the middle of a create: the cloud made their nodes, they await the answer.
    proxy.hold_answers()
    wait_for(lambda: proxy.held == 2, timeout=60, message="two creates in flight")
    first.kill()
    proxy.release()
    assert unacked_on(queues.cloud) >= 2  # delivered, never acknowledged: Redis must deliver them again

    workers.start(queues)
    wait_for(lambda: states(cluster) == {"running": 200}, timeout=120, tick=monitor, message="200 running")

    assert_one_node_per_instance(ec2, cluster, 200)
    cluster.refresh_from_db()
    assert cluster.state == ClusterState.RUNNING
    print(f"\n{made} nodes in {elapsed:.1f} s before the kill ({made / elapsed:.1f} creates/s); "
          f"everything running {time.monotonic() - started:.1f} s after the launch")  # fmt: skip


def _create_message(queues, cloud, alice):
    """The create message the portal sends for a one-instance cluster, taken off the cloud's queue."""
    cluster = launcher.launch(one_role_definition(alice, cloud, 1), alice, "twice", {"node": cloud})
    [(task, args)] = take_messages(queues.cloud, 1)
    assert task == "clusters.cloud_create_nodes"
    return cluster, args


def _created_node_ids(reports):
    assert [task for task, _args in reports] == ["clusters.record_outcomes"] * len(reports)
    return [outcome["node"]["id"] for _task, (outcomes,) in reports for outcome in outcomes]


def test_a_create_message_delivered_twice_at_once_makes_one_node(alice, moto_ec2, proxy, workers):
    ec2, queues = moto_ec2.boto3_client(), Queues()
    cloud = proxied_cloud(alice, moto_ec2, proxy, queues)
    cluster, args = _create_message(queues, cloud, alice)
    cloudside.cloud_create_nodes.apply_async(args=args, queue=queues.cloud)
    cloudside.cloud_create_nodes.apply_async(args=args, queue=queues.cloud)
    # Slow creates, so that both deliveries are in the middle of theirs at once, were they not serialised.
    proxy.slow_actions["RunInstances"] = 0.5

    workers.start(queues, serve_results=False)  # its two pool processes take one copy each
    reports = take_messages(queues.results, 2)

    node_ids = _created_node_ids(reports)
    assert node_ids[0] == node_ids[1]
    assert list(tagged_nodes(ec2, cluster)) == [node_ids[0]]
    assert proxy.calls["RunInstances"] == 1


def test_a_create_task_run_twice_makes_one_node(alice, moto_ec2, proxy):
    ec2, queues = moto_ec2.boto3_client(), Queues()
    cloud = proxied_cloud(alice, moto_ec2, proxy, queues)
    cluster, args = _create_message(queues, cloud, alice)

    with reports_to(queues.results):
        cloudside.cloud_create_nodes.apply(args=args).get()
        cloudside.cloud_create_nodes.apply(args=args).get()
    reports = take_messages(queues.results, 2)

    node_ids = _created_node_ids(reports)
    assert node_ids[0] == node_ids[1]
    assert list(tagged_nodes(ec2, cluster)) == [node_ids[0]]


@pytest.mark.parametrize("fault", ["refuse", "lose_answer"])
def test_a_cloud_answering_503_to_a_third_of_creates_still_gets_one_node_per_instance(alice, moto_ec2, proxy,
                                                                                     workers, fault):  # fmt: skip
    # "lose_answer": the cloud made the node and the answer was lost, the harder case for a retry.
    proxy.fail_rate, proxy.fault = 0.3, fault
    ec2, queues = moto_ec2.boto3_client(), Queues()
    cloud = proxied_cloud(alice, moto_ec2, proxy, queues)
    workers.start(queues)
    cluster = launcher.launch(one_role_definition(alice, cloud, 25), alice, "flaky", {"node": cloud})

    wait_for(lambda: states(cluster) == {"running": 25}, timeout=60, tick=monitor, message="25 running")

    assert_one_node_per_instance(ec2, cluster, 25)
    refused = proxy.faults["Unavailable"]
    assert refused >= 3
    assert proxy.calls["RunInstances"] == 25 + (refused if fault == "refuse" else 0)
    retries = cluster.events.filter(level="warning", message__contains=": retry ")
    assert retries.count() == refused
    assert {e.message.split(" after: ", 1)[1] for e in retries} == {
        "Unavailable: The server is overloaded and can't handle the request."
    }
    cluster.refresh_from_db()
    assert cluster.state == ClusterState.RUNNING


def test_creates_over_the_quota_fail_with_the_providers_message_until_retried(
    alice, moto_ec2, proxy, workers
):
    proxy.quota = 6
    ec2, queues = moto_ec2.boto3_client(), Queues()
    cloud = proxied_cloud(alice, moto_ec2, proxy, queues)
    workers.start(queues)
    cluster = launcher.launch(one_role_definition(alice, cloud, 10), alice, "quota", {"node": cloud})

    wait_for(lambda: states(cluster) == {"running": 6, "failed": 4}, timeout=60, tick=monitor,
             message="6 running, 4 failed")  # fmt: skip
    cluster.refresh_from_db()
    assert cluster.state == ClusterState.DEGRADED
    failed = Instance.objects.filter(cluster=cluster, state="failed")
    assert set(failed.values_list("last_error", flat=True)) == {
        "InstanceLimitExceeded: You have requested more instances (1) than your current instance limit of 6 "
        "allows for the specified instance type. Please visit http://aws.amazon.com/contact-us/ec2-request "
        "to request an adjustment to this limit."
    }
    failures = cluster.events.filter(level="error", message__contains="(permanent error): InstanceLimit")
    assert failures.count() == 4
    assert proxy.calls["RunInstances"] == 10  # a permanent error is not retried
    assert len(tagged_nodes(ec2, cluster)) == 6

    proxy.quota = None  # the quota was raised
    assert launcher.retry_failed(cluster) == 4
    wait_for(lambda: states(cluster) == {"running": 10}, timeout=60, tick=monitor, message="10 running")

    assert_one_node_per_instance(ec2, cluster, 10)
    cluster.refresh_from_db()
    assert cluster.state == ClusterState.RUNNING


def test_a_first_create_on_ec2_calls_only_run_instances(alice, moto_ec2, proxy):
    """No look-up before a create the first time: EC2's ClientToken makes a repeat harmless, and
    the marker of a made node covers a message delivered twice (issue: the per-create look-up was
    53 % of a worker's time and timed out at 1,000 nodes)."""
    queues = Queues()
    cloud = proxied_cloud(alice, moto_ec2, proxy, queues)
    cluster = launcher.launch(one_role_definition(alice, cloud, 40), alice, "lean", {"node": cloud})
    messages = take_messages(queues.cloud, 8)  # 40 instances: 8 batches of 5

    with reports_to(queues.results):
        for _task, args in messages:
            cloudside.cloud_create_nodes.apply(args=args).get()

    assert dict(proxy.calls) == {"RunInstances": 40}
    assert len(tagged_nodes(moto_ec2.boto3_client(), cluster)) == 40


def test_a_retried_batch_looks_its_nodes_up_with_one_call(alice, moto_ec2, proxy):
    """Both creates of a batch made their nodes but their answers were lost: the retry (run at once
    here, as Celery runs a retry of a task applied in-process) finds both with one list call."""
    queues = Queues()
    cloud = proxied_cloud(alice, moto_ec2, proxy, queues)
    cluster = launcher.launch(one_role_definition(alice, cloud, 16), alice, "again", {"node": cloud})
    [(_task, args), *_rest] = take_messages(queues.cloud, 8)
    proxy.fault, proxy.fail_rate = "lose_answer", 1.0

    with reports_to(queues.results):
        cloudside.cloud_create_nodes.apply(args=args).get()

    assert dict(proxy.calls) == {"RunInstances": 2, "DescribeInstances": 1, "DescribeAddresses": 1}
    assert len(tagged_nodes(moto_ec2.boto3_client(), cluster)) == 2
    first, retry = take_messages(queues.results, 2)
    assert [set(outcome) for outcome in first[1][0]] == [{"instance", "retry", "attempt"}] * 2
    assert [set(outcome) for outcome in retry[1][0]] == [{"instance", "node"}] * 2
