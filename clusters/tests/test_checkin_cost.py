"""What a check-in costs (docs/performance.md): a few queries whatever the size of the cluster, because a
thousand VMs check in at once; the cluster's state still follows its instances."""

import pytest

from clusters.instance_auth import new_instance_token
from clusters.models import Cluster, ClusterState, Instance, InstanceState
from clusters.tests.instance_helpers import auth, make_cluster, make_instance

URL = "/api/v1/instance/checkin"
pytestmark = pytest.mark.django_db


def checkin(client, token, status):
    return client.post(URL, {"status": status}, content_type="application/json", **auth(token))


def cluster_with(owner, first_state, others: int, others_state, cluster_state) -> str:
    """A cluster of `others` + 1 instances in `cluster_state`; the token of the first one."""
    first, token = make_instance(make_cluster(owner), state=first_state)
    Instance.objects.bulk_create(
        Instance(cluster=first.cluster, role="worker", index=index, cloud=first.cloud, revision=first.revision,
                 name=f"demo-worker-{index}", state=others_state, checkin_token_hash=new_instance_token()[1])
        for index in range(1, others + 1)
    )  # fmt: skip
    Cluster.objects.filter(pk=first.cluster_id).update(state=cluster_state)
    return token


def test_booted_costs_two_queries_however_big_the_cluster(client, alice, django_assert_num_queries):
    token = cluster_with(alice, InstanceState.RUNNING, 50, InstanceState.RUNNING, ClusterState.RUNNING)
    with django_assert_num_queries(2):  # find the instance by its token, record the check-in
        assert checkin(client, token, "booted").status_code == 200


def test_ready_in_a_running_cluster_reads_no_other_instance(client, alice, django_assert_num_queries):
    token = cluster_with(alice, InstanceState.RUNNING, 50, InstanceState.READY, ClusterState.RUNNING)
    with django_assert_num_queries(4):  # the instance, its new state, the "is ready" event, the cluster
        answer = checkin(client, token, "ready")
    assert answer.json()["state"] == "ready" and answer.json()["ready_at"]


def test_the_last_launching_instance_to_be_ready_makes_the_cluster_running(client, alice):
    token = cluster_with(alice, InstanceState.LAUNCHING, 3, InstanceState.READY, ClusterState.LAUNCHING)
    checkin(client, token, "ready")
    assert Cluster.objects.get().state == ClusterState.RUNNING


def test_a_cluster_stays_launching_while_another_instance_is(client, alice):
    token = cluster_with(alice, InstanceState.LAUNCHING, 3, InstanceState.LAUNCHING, ClusterState.LAUNCHING)
    checkin(client, token, "ready")
    assert Cluster.objects.get().state == ClusterState.LAUNCHING
    assert Instance.objects.filter(state=InstanceState.READY).count() == 1


def test_a_failed_report_answers_with_the_state_as_it_is(client, alice):
    token = cluster_with(alice, InstanceState.RUNNING, 1, InstanceState.RUNNING, ClusterState.RUNNING)
    answer = checkin(client, token, "failed")
    assert answer.json() == {"instance": "demo-worker-0", "state": "running", "checkin_status": "failed",
                             "ready_at": None}  # fmt: skip
