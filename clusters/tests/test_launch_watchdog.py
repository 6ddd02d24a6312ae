"""No cluster stays "launching" for ever (docs/launches.md "Watchdog"): an instance whose create is
sent again and again without a node fails after LAUNCH_ATTEMPTS sends, and the monitor's tick fails
a launching instance still without a node LAUNCH_GIVE_UP_AFTER seconds after its create was sent,
whatever its cloud answers — even nothing. clusters/tests/test_site_faults.py shows it with a cloud
that hangs, on real processes."""

from datetime import timedelta

import pytest
from django.utils import timezone

from clusters import launcher, recording
from clusters.models import ClusterState, Instance
from clusters.providers import CloudConfig
from clusters.tests.fault_helpers import Queues, one_role_definition
from clusters.tests.launch_helpers import cloud_with_offering
from clusters.tests.test_monitor import listed

pytestmark = pytest.mark.django_db

# A cloud that answers nothing (nothing listens on port 1); its messages go to a queue of the test's own.
SILENT = CloudConfig(
    driver="ec2", credentials={"key": "k", "secret": "s"}, host="127.0.0.1", port=1, secure=False
)


def launched(alice, count):
    cloud = cloud_with_offering(alice, SILENT, queue=Queues().cloud)
    cluster = launcher.launch(one_role_definition(alice, cloud, count), alice, "silent", {"node": cloud})
    # As dispatch leaves them (its messages, sent on commit, are not sent in a test's transaction).
    cluster.instances.update(state="launching", launched_at=timezone.now(), attempts=1)
    return cloud, cluster


def test_a_create_sent_launch_attempts_times_without_a_node_fails_instead_of_being_sent_again(
    alice, settings
):
    cloud, cluster = launched(alice, 2)
    long_ago = timezone.now() - timedelta(seconds=settings.LAUNCH_STALE_AFTER + 60)
    tried, again = cluster.instances.order_by("index")
    Instance.objects.filter(pk=tried.pk).update(launched_at=long_ago, attempts=settings.LAUNCH_ATTEMPTS)
    Instance.objects.filter(pk=again.pk).update(launched_at=long_ago, attempts=settings.LAUNCH_ATTEMPTS - 1)

    recording.node_list(cloud.pk, [], "")

    tried.refresh_from_db()
    again.refresh_from_db()
    assert (tried.state, tried.last_error) == (
        "failed",
        f"no node after {settings.LAUNCH_ATTEMPTS} sends: gave up",
    )
    assert (again.state, again.attempts) == ("launching", settings.LAUNCH_ATTEMPTS)  # sent once more


def test_the_monitor_tick_fails_launches_the_cloud_never_answered_and_says_why(alice, settings):
    cloud, cluster = launched(alice, 3)
    silent, recent, made = cluster.instances.order_by("index")
    long_ago = timezone.now() - timedelta(seconds=settings.LAUNCH_GIVE_UP_AFTER + 1)
    Instance.objects.filter(pk__in=[silent.pk, made.pk]).update(launched_at=long_ago)
    Instance.objects.filter(pk=made.pk).update(node_id="i-made")  # its node exists: the lists judge it

    recording.monitor_clouds()

    states = dict(cluster.instances.values_list("index", "state"))
    assert states == {silent.index: "failed", recent.index: "launching", made.index: "launching"}
    silent.refresh_from_db()
    reason = f"no node {settings.LAUNCH_GIVE_UP_AFTER} s after its create was sent: the cloud did not answer"
    assert silent.last_error == reason
    assert cluster.events.filter(
        level="error", message=f"{silent.name} failed (watchdog): {reason}; retry it when the cloud answers"
    ).exists()


def test_a_cluster_whose_cloud_never_answered_ends_failed(alice, settings):
    _cloud, cluster = launched(alice, 2)
    cluster.instances.update(
        launched_at=timezone.now() - timedelta(seconds=settings.LAUNCH_GIVE_UP_AFTER + 1)
    )

    assert recording.give_up_silent_launches() == 2

    cluster.refresh_from_db()
    assert cluster.state == ClusterState.FAILED


def test_a_node_made_after_the_watchdog_gave_up_is_destroyed_as_an_orphan(alice, settings):
    cloud, cluster = launched(alice, 1)
    [instance] = cluster.instances.all()
    cluster.instances.update(
        launched_at=timezone.now() - timedelta(seconds=settings.LAUNCH_GIVE_UP_AFTER + 1)
    )
    recording.give_up_silent_launches()

    # The cloud came back and its create went through after all: the list shows the node.
    found = recording.node_list(cloud.pk, [listed(instance, "i-late")], "")

    assert found["orphans"] == 1 and found["destroys"] == 1


def test_retrying_a_failed_instance_counts_its_sends_again(alice, settings):
    _cloud, cluster = launched(alice, 1)
    cluster.instances.update(state="failed", attempts=settings.LAUNCH_ATTEMPTS)

    assert launcher.retry_failed(cluster) == 1

    assert cluster.instances.get().attempts == 0
