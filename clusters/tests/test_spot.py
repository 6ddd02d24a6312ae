"""Spot capacity (docs/elastic.md "Spot capacity"): a role asks for it and EC2 makes its instances
spot; a cloud without spot launches them on demand and the launch says so; a spot worker the
cloud takes back is recorded as reclaimed, not failed, and a fixed role gets a replacement, while an
elastic role just counts one live worker fewer; a node of an on-demand instance that vanishes
still fails its instance."""

from datetime import timedelta

import pytest
from django.utils import timezone
from rest_framework.test import APIClient

from clusters import launcher, recording, spot
from clusters.models import ClusterState, Instance, Role
from clusters.providers import PROVIDERS, CloudConfig, provider_class
from clusters.tests.cloud_helpers import idle_queue
from clusters.tests.fault_helpers import Queues, Workers, every, one_role_definition, take_messages
from clusters.tests.launch_helpers import cloud_with_offering, states
from clusters.tests.test_monitor import listed
from portal.testing.waits import wait_for

RECLAIMED = "reclaimed by the cloud"


@pytest.fixture
def workers(transactional_db, tmp_path):
    started = Workers(tmp_path)
    yield started
    started.stop_all()  # before the test database is emptied


def spot_definition(owner, cloud, count: int, **role):
    """One role of `count` plain nodes that asks for spot capacity (`role`: other fields)."""
    definition = one_role_definition(owner, cloud, count)
    Role.objects.filter(definition=definition).update(spot=True, **role)
    return definition


def lifecycles(ec2, node_ids) -> dict[str, str]:
    """{node id: its market as EC2 says it}: "spot", or "on-demand" when EC2 says nothing."""
    answer = ec2.describe_instances(InstanceIds=sorted(node_ids))
    nodes = [node for reservation in answer["Reservations"] for node in reservation["Instances"]]
    return {node["InstanceId"]: node.get("InstanceLifecycle", "on-demand") for node in nodes}


def running_nodes(ec2, cluster) -> set[str]:
    answer = ec2.describe_instances(
        Filters=[
            {"Name": "tag:context-portal-cluster", "Values": [str(cluster.pk)]},
            {"Name": "instance-state-name", "Values": ["pending", "running"]},
        ]
    )
    return {node["InstanceId"] for reservation in answer["Reservations"] for node in reservation["Instances"]}


def live_node_ids(cluster) -> set[str]:
    return set(cluster.instances.filter(state="running").values_list("node_id", flat=True))


# ---------------------------------------------------------------------------- end to end, on moto


@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
def test_a_spot_worker_the_cloud_takes_back_is_recorded_reclaimed_and_replaced(alice, moto_ec2, workers):
    ec2, queues = moto_ec2.boto3_client(), Queues()
    cloud = cloud_with_offering(alice, moto_ec2.config(), queue=queues.cloud)
    # A list judges a node gone NODE_LIST_LAG seconds after its record (15 s): 1 s keeps the test short.
    workers.start(queues, env={"NODE_LIST_LAG": "1"})
    cluster = launcher.launch(spot_definition(alice, cloud, 3), alice, "spot", {"node": cloud})
    tick = every(1.0, recording.monitor_clouds)
    wait_for(lambda: states(cluster) == {"running": 3}, timeout=60, tick=tick, message="3 running")
    assert set(lifecycles(ec2, live_node_ids(cluster)).values()) == {"spot"}

    # moto has no spot market that could interrupt a node; from the portal a reclaim looks like
    # this: the node ends without the portal ending it (on AWS with the state reason
    # Server.SpotInstanceTermination, which the monitor's list of live nodes never shows).
    victim = cluster.instances.order_by("index").last()
    ec2.terminate_instances(InstanceIds=[victim.node_id])
    wait_for(lambda: states(cluster) == {"running": 3, "terminated": 1}, timeout=60, tick=tick,
             message="reclaimed, and a replacement running")  # fmt: skip

    victim.refresh_from_db()
    assert (victim.state, victim.end_reason, victim.last_error) == ("terminated", RECLAIMED, "")
    replacement = cluster.instances.get(index=3)
    assert cluster.events.filter(
        message=f"{victim.name} reclaimed by the cloud: {replacement.name} replaces it"
    )
    assert lifecycles(ec2, [replacement.node_id]) == {replacement.node_id: "spot"}
    assert running_nodes(ec2, cluster) == live_node_ids(cluster)  # no node the portal forgot
    cluster.refresh_from_db()
    assert cluster.state == ClusterState.RUNNING
    assert not cluster.events.filter(level="error").exists()


@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
def test_an_on_demand_node_terminated_outside_the_portal_still_fails_its_instance(alice, moto_ec2, workers):
    ec2, queues = moto_ec2.boto3_client(), Queues()
    cloud = cloud_with_offering(alice, moto_ec2.config(), queue=queues.cloud)
    workers.start(queues, env={"NODE_LIST_LAG": "1"})
    cluster = launcher.launch(one_role_definition(alice, cloud, 2), alice, "demand", {"node": cloud})
    tick = every(1.0, recording.monitor_clouds)
    wait_for(lambda: states(cluster) == {"running": 2}, timeout=60, tick=tick, message="2 running")
    assert set(lifecycles(ec2, live_node_ids(cluster)).values()) == {"on-demand"}

    victim = cluster.instances.order_by("index").last()
    ec2.terminate_instances(InstanceIds=[victim.node_id])
    wait_for(
        lambda: states(cluster) == {"running": 1, "failed": 1}, timeout=60, tick=tick, message="one failed"
    )

    victim.refresh_from_db()
    assert (victim.last_error, victim.end_reason) == ("the node disappeared from the cloud", "")
    assert cluster.instances.count() == 2  # nothing replaces it
    assert not cluster.events.filter(message__contains=RECLAIMED).exists()


# ---------------------------------------------------------------------------- a list's rule, list by list


def running_cluster(alice, cloud, definition, queue: str, name="watched"):
    """A launched cluster whose instances run nodes i-<index>, recorded long enough ago that a list
    not showing them means they are gone."""
    cluster = launcher.launch(definition, alice, name, {role.name: cloud for role in definition.roles.all()})
    long_ago = timezone.now() - timedelta(minutes=5)
    for instance in cluster.instances.all():
        Instance.objects.filter(pk=instance.pk).update(
            state="running", node_id=f"i-{instance.role}-{instance.index}", node_seen_at=long_ago
        )
    return cluster


def node_of(instance, state="running") -> dict:
    return listed(instance, instance.node_id, state)


@pytest.fixture
def cloud(alice, moto_ec2):
    with idle_queue() as queue:  # the creates wait there: the lists below say what the cloud has
        yield cloud_with_offering(alice, moto_ec2.config(), queue=queue)


@pytest.mark.django_db
@pytest.mark.parametrize("how", ["missing from the list", "listed as terminated"])
def test_a_list_ends_a_spot_instance_whose_node_is_gone_as_reclaimed_and_fails_an_on_demand_one(
    alice, cloud, how
):
    definition = spot_definition(alice, cloud, 2)
    on_demand = definition.roles.get()
    on_demand.pk, on_demand.name, on_demand.spot, on_demand.position = None, "demand", False, 1
    on_demand.save()
    cluster = running_cluster(alice, cloud, definition, cloud.queue)
    kept = [i for i in cluster.instances.all() if i.index == 0]
    gone = (
        [node_of(i, "terminated") for i in cluster.instances.filter(index=1)]
        if how == "listed as terminated"
        else []
    )

    recording.node_list(cloud.pk, [node_of(i) for i in kept] + gone, "")

    spot_lost, demand_lost = (
        cluster.instances.get(role="node", index=1),
        cluster.instances.get(role="demand", index=1),
    )
    assert (spot_lost.state, spot_lost.end_reason, spot_lost.last_error) == ("terminated", RECLAIMED, "")
    assert spot_lost.terminated_at is not None
    assert (demand_lost.state, demand_lost.end_reason) == ("failed", "")
    assert demand_lost.last_error == {"missing from the list": "the node disappeared from the cloud",
                                      "listed as terminated": "the node was terminated outside the portal"}[how]  # fmt: skip
    [replacement] = cluster.instances.filter(role="node", index=2)
    assert replacement.state in ("requested", "launching")  # sent to the cloud's queue
    assert cluster.events.filter(
        message=f"{spot_lost.name} reclaimed by the cloud: {replacement.name} replaces it"
    )


@pytest.mark.django_db
def test_a_reclaimed_elastic_worker_no_longer_counts_and_gets_no_replacement_of_its_own(alice, cloud):
    definition = spot_definition(alice, cloud, 0, elastic=True, min_count=2, max_count=10)
    cluster = running_cluster(alice, cloud, definition, cloud.queue)
    kept, lost = cluster.instances.order_by("index")

    recording.node_list(cloud.pk, [node_of(kept)], "")

    assert states(cluster) == {"running": 1, "terminated": 1}  # the elastic policy sees one worker
    lost.refresh_from_db()
    assert lost.end_reason == RECLAIMED
    assert cluster.events.filter(message=f"{lost.name} reclaimed by the cloud").exists()


@pytest.mark.django_db
def test_a_reclaim_is_recorded_once_whatever_the_number_of_lists_that_show_it(alice, cloud):
    cluster = running_cluster(alice, cloud, spot_definition(alice, cloud, 2), cloud.queue)
    kept = cluster.instances.get(index=0)

    for _cycle in range(3):
        recording.node_list(cloud.pk, [node_of(kept)], "")

    assert cluster.instances.count() == 3  # two, and one replacement
    assert cluster.events.filter(message__contains=RECLAIMED).count() == 1


@pytest.mark.django_db
def test_a_spot_node_missing_from_a_list_asked_before_its_record_is_not_reclaimed(alice, cloud):
    cluster = running_cluster(alice, cloud, spot_definition(alice, cloud, 1), cloud.queue)
    Instance.objects.filter(cluster=cluster).update(node_seen_at=timezone.now())  # recorded just now

    recording.node_list(cloud.pk, [], "", asked_at=timezone.now() - timedelta(seconds=1))

    assert states(cluster) == {"running": 1}


USER_CHANGES = {
    "a terminate": lambda cluster: launcher.terminate(cluster),
    "a scale-down": lambda cluster: launcher.scale(cluster, "node", 1),  # stops the newest: the lost one
}


@pytest.mark.django_db
@pytest.mark.parametrize("change", USER_CHANGES)
def test_a_user_change_between_a_lists_judgement_and_the_reclaims_record_wins(
    alice, cloud, monkeypatch, change
):
    """The interleaving is forced: the user's change runs after the list judged the node reclaimed
    and before that is recorded (a transaction of its own, under the cluster's lock)."""
    cluster = running_cluster(alice, cloud, spot_definition(alice, cloud, 2), cloud.queue)
    kept, lost = cluster.instances.order_by("index")
    record = spot.record_reclaims

    def user_first(reclaimed):
        assert [instance.pk for instance, _node in reclaimed] == [lost.pk]
        USER_CHANGES[change](cluster)
        record(reclaimed)

    monkeypatch.setattr(spot, "record_reclaims", user_first)
    recording.node_list(cloud.pk, [node_of(kept)], "")

    lost.refresh_from_db()
    assert (lost.state, lost.end_reason) == ("terminating", "")  # it ends when a list sees its node gone
    assert cluster.instances.count() == 2  # no replacement
    assert not cluster.events.filter(message__contains=RECLAIMED).exists()


# ---------------------------------------------------------------------------- clouds without spot

# A CloudStack cloud nobody calls: its creates wait on a queue of the test's.
CLOUDSTACK = CloudConfig(
    driver="cloudstack", credentials={"key": "k", "secret": "s"}, host="127.0.0.1", port=1
)


def test_of_the_drivers_only_ec2_offers_spot():
    assert {kind for kind in PROVIDERS if provider_class(kind).supports_spot} == {"ec2"}


@pytest.mark.django_db
def test_a_spot_role_on_a_cloud_without_spot_launches_on_demand_and_the_launch_says_so(
    alice, django_capture_on_commit_callbacks
):
    with idle_queue() as queue:
        cloud = cloud_with_offering(
            alice, CLOUDSTACK, name="cs", size_id="small", image_id="tpl-1", queue=queue
        )
        client = APIClient()
        client.force_authenticate(alice)
        definition = spot_definition(alice, cloud, 1)

        with django_capture_on_commit_callbacks(execute=True):  # the create message leaves
            answer = client.post(
                "/api/v1/clusters/",
                {"definition": definition.pk, "name": "cs", "cloud": cloud.pk},
                format="json",
            )
        [(task, (_cloud, [(_instance, create)]))] = take_messages(queue, 1)

    notice = "role node: spot capacity is not offered on cloud cs; on-demand instances are launched"
    assert answer.status_code == 201, answer.json()
    assert notice in answer.json()["notices"]
    assert Instance.objects.get().cluster.events.filter(message=notice, level="warning").exists()
    assert task == "clusters.cloud_create_nodes" and "spot" not in create


@pytest.mark.django_db
def test_a_spot_role_on_ec2_launches_without_a_notice_and_its_creates_ask_for_spot(
    alice, cloud, django_capture_on_commit_callbacks
):
    definition = spot_definition(alice, cloud, 1)

    with django_capture_on_commit_callbacks(execute=True):
        cluster = launcher.launch(definition, alice, "ec2", {"node": cloud})
    [(_task, (_cloud, [(_instance, create)]))] = take_messages(cloud.queue, 1)

    assert launcher.notices(definition, alice, {"node": cloud}) == []
    assert not cluster.events.filter(level="warning").exists()
    assert create["spot"] is True


@pytest.mark.django_db
def test_a_spot_instance_on_a_cloud_without_spot_fails_as_on_demand_ones_do_when_its_node_vanishes(alice):
    with idle_queue() as queue:
        cloud = cloud_with_offering(alice, CLOUDSTACK, size_id="small", image_id="tpl-1", queue=queue)
        cluster = running_cluster(alice, cloud, spot_definition(alice, cloud, 1), queue)

        recording.node_list(cloud.pk, [], "")

    assert states(cluster) == {"failed": 1}
