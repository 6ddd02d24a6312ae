"""A writer never undoes or loses another's change (issue: a convergence run on PostgreSQL left a cluster terminating
for ever, one instance running with its node: a node list read the instance launching, the user's
terminate made it terminating, and the list wrote it back running; and two writers locking an
instance's rows in different orders met in a deadlock)."""

import threading

import pytest
from django.db import connections
from django.utils import timezone

from clusters import launcher, recording
from clusters.models import Cluster, ClusterState, Instance
from clusters.tests.fault_helpers import Queues, one_role_definition, take_messages
from clusters.tests.launch_helpers import cloud_with_offering, states
from clusters.tests.test_monitor import listed


def in_another_connection(action) -> threading.Thread:
    """`action` in a thread of its own, as another request or worker would run it."""

    def run():
        try:
            action()
        finally:
            connections.close_all()

    return threading.Thread(target=run)


@pytest.mark.django_db(transaction=True)
def test_a_terminate_during_a_list_record_is_never_undone(alice, moto_ec2, monkeypatch):
    """The interleaving is forced: the terminate runs in another connection from a hook on the
    list's per-instance step, the one place between the list's read and its write; it is given a
    second, as a user would be."""
    cloud = cloud_with_offering(alice, moto_ec2.config(), queue=Queues().cloud)  # no worker takes its creates
    cluster = launcher.launch(one_role_definition(alice, cloud, 1), alice, "race", {"node": cloud})
    instance = cluster.instances.get()
    Instance.objects.filter(pk=instance.pk).update(state="launching", launched_at=timezone.now())

    user = in_another_connection(lambda: launcher.terminate(Cluster.objects.get(pk=cluster.pk)))
    tracked = recording._tracked

    def terminate_meanwhile(row):
        if user.ident is None:
            user.start()
            user.join(timeout=1)  # done at once when nothing holds the rows it changes
        return tracked(row)

    monkeypatch.setattr(recording, "_tracked", terminate_meanwhile)
    recording.node_list(cloud.pk, [listed(instance, "i-1")], "")  # the node is made, and running
    user.join(timeout=60)
    instance.refresh_from_db()
    assert (instance.state, instance.node_id) == ("terminating", "i-1")  # its node's destroy is sent
    assert Cluster.objects.get(pk=cluster.pk).state == ClusterState.TERMINATING


@pytest.mark.django_db
def test_failed_instances_of_a_cluster_being_terminated_are_not_sent_again(alice, moto_ec2):
    """A retry that read the failed instances before a terminate ended them would send them again
    into a cluster being terminated (and it would never end): a retry now takes the cluster's lock
    as terminate does, and refuses once the cluster is ending. The state is the one that retry
    would meet after waiting for the terminate's lock."""
    cloud = cloud_with_offering(alice, moto_ec2.config(), queue=Queues().cloud)  # no worker takes its creates
    cluster = launcher.launch(one_role_definition(alice, cloud, 2), alice, "ending", {"node": cloud})
    cluster.instances.update(state="failed", last_error="quota")
    Cluster.objects.filter(pk=cluster.pk).update(state=ClusterState.TERMINATING)

    with pytest.raises(launcher.LaunchError, match="being terminated"):
        launcher.retry_failed(Cluster.objects.get(pk=cluster.pk))
    assert states(cluster) == {"failed": 2}


@pytest.mark.django_db(transaction=True)
def test_a_cluster_state_read_before_a_terminate_is_not_written_after_it(alice, moto_ec2, monkeypatch):
    """A cluster's state is worked out from its instances, then written: a terminate committed in
    between must stand (else the cluster shows running, with every instance terminating). Forced as
    above: the terminate runs from a hook between the count and the write."""
    cloud = cloud_with_offering(alice, moto_ec2.config(), queue=Queues().cloud)  # no worker takes its creates
    cluster = launcher.launch(one_role_definition(alice, cloud, 1), alice, "state", {"node": cloud})
    cluster.instances.update(state="running", node_id="i-1")
    user = in_another_connection(lambda: launcher.terminate(Cluster.objects.get(pk=cluster.pk)))
    counted = launcher._state_from_counts

    def terminate_meanwhile(row):
        found = counted(row)
        if user.ident is None:
            user.start()
            user.join(timeout=60)
        return found

    monkeypatch.setattr(launcher, "_state_from_counts", terminate_meanwhile)
    launcher.refresh_state(Cluster.objects.get(pk=cluster.pk))  # read launching, counts say running
    user.join(timeout=60)
    assert Cluster.objects.get(pk=cluster.pk).state == ClusterState.TERMINATING
    assert states(cluster) == {"terminating": 1}


@pytest.mark.django_db(transaction=True)
def test_instances_waiting_while_a_list_holds_their_rows_are_still_sent(alice, moto_ec2, monkeypatch):
    """An advance that met the waiting instances' rows locked (a node list recording) skipped them as
    "sent by another advance", and nothing sent them afterwards: a convergence run on PostgreSQL left
    two workers requested for ever. Forced as above: the advance runs in another connection while the
    list holds the rows. (SQLite's one write lock made the advance wait there already.)"""
    queues = Queues()
    cloud = cloud_with_offering(alice, moto_ec2.config(), queue=queues.cloud)
    cluster = launcher.launch(one_role_definition(alice, cloud, 1), alice, "waits", {"node": cloud})
    take_messages(queues.cloud, 1)  # the launch's own create: the instance is made to wait again below
    instance = cluster.instances.get()
    Instance.objects.filter(pk=instance.pk).update(state="requested", attempts=0)

    advancing = in_another_connection(lambda: launcher.advance(cluster.pk))
    tracked = recording._tracked

    def advance_meanwhile(row):
        if advancing.ident is None:
            advancing.start()
            advancing.join(timeout=1)
        return tracked(row)

    monkeypatch.setattr(recording, "_tracked", advance_meanwhile)
    recording.node_list(cloud.pk, [], "")
    advancing.join(timeout=60)
    instance.refresh_from_db()
    assert (instance.state, instance.attempts) == ("launching", 1)
    [(task, _args)] = take_messages(queues.cloud, 1)
    assert task == "clusters.cloud_create_nodes"


@pytest.mark.django_db
def test_a_cluster_whose_state_was_not_refreshed_is_refreshed_by_the_next_list(alice, moto_ec2):
    """A worker killed between a list's write and the refresh of the clusters it changed left a
    cluster "launching" for ever with every instance running (a convergence run on SQLite, the
    worker SIGKILLed in the middle of record_node_list): the next lists changed nothing, so refreshed
    nothing. The state here is the one that kill leaves."""
    cloud = cloud_with_offering(alice, moto_ec2.config(), queue=Queues().cloud)  # no worker takes its creates
    cluster = launcher.launch(one_role_definition(alice, cloud, 2), alice, "stale", {"node": cloud})
    first, second = cluster.instances.order_by("pk")
    Instance.objects.filter(pk=first.pk).update(state="running", node_id="i-1")
    Instance.objects.filter(pk=second.pk).update(state="running", node_id="i-2")
    Cluster.objects.filter(pk=cluster.pk).update(state=ClusterState.LAUNCHING)

    recording.node_list(cloud.pk, [listed(first, "i-1"), listed(second, "i-2")], "")
    assert Cluster.objects.get(pk=cluster.pk).state == ClusterState.RUNNING


@pytest.mark.django_db
def test_a_cluster_left_unsettled_with_nothing_to_watch_is_refreshed_by_the_monitor(alice, moto_ec2):
    """The same kill after the list that ended a terminating cluster's last instances: no instance
    of it is watched any more, so no list refreshes it (a clean-clone run on SQLite, seed 245915,
    left it terminating for ever). The monitor's tick refreshes such clusters."""
    cloud = cloud_with_offering(alice, moto_ec2.config(), queue=Queues().cloud)  # no worker takes its creates
    cluster = launcher.launch(one_role_definition(alice, cloud, 2), alice, "stranded", {"node": cloud})
    cluster.instances.update(state="terminated", terminated_at=timezone.now())
    Cluster.objects.filter(pk=cluster.pk).update(state=ClusterState.TERMINATING)

    recording.monitor_clouds()
    assert Cluster.objects.get(pk=cluster.pk).state == ClusterState.TERMINATED
