"""The monitor's orphan rule (docs/launches.md): an alive tagged node whose instance is being created
keeps it; one whose instance failed, ended or never existed is an orphan."""

import uuid

import pytest

from clusters import cloudside, launcher, recording
from clusters.models import Instance
from clusters.providers import CloudConfig
from clusters.tests.fault_helpers import one_role_definition
from clusters.tests.launch_helpers import cloud_with_offering
from clusters.tests.test_monitor import listed

pytestmark = pytest.mark.django_db

STATES = ("requested", "launching", "failed", "terminated")


@pytest.fixture
def listing(alice) -> dict[str, dict]:
    """One alive node per instance state, and one whose token no instance holds, as the cloud lists them."""
    config = CloudConfig(
        driver="ec2", credentials={"key": "k", "secret": "s"}, host="127.0.0.1", port=1, secure=False
    )
    cloud = cloud_with_offering(alice, config)
    cluster = launcher.launch(
        one_role_definition(alice, cloud, len(STATES)), alice, "orphans", {"node": cloud}
    )
    instances = list(cluster.instances.order_by("index"))
    nodes = {}
    for instance, state in zip(instances, STATES, strict=True):
        Instance.objects.filter(pk=instance.pk).update(state=state)
        nodes[state] = listed(instance, f"i-{state}-{uuid.uuid4().hex[:8]}")
    stranger = listed(instances[0], f"i-stranger-{uuid.uuid4().hex[:8]}")
    stranger["tags"] = {**stranger["tags"], cloudside.INSTANCE_TAG: str(uuid.uuid4())}
    nodes["no instance"] = stranger
    return nodes


def orphans_of(listing: dict[str, dict]) -> set[str]:
    """The rule on its own, with no instance known to the caller: node_list knows every watched
    instance of its cloud already, so only the rule's own look-up can spare a node in flight."""
    by_token = {node["tags"][cloudside.INSTANCE_TAG]: node for node in listing.values()}
    return {node["id"] for node in recording._orphans(by_token, set())}


def test_a_node_whose_instance_is_requested_or_launching_is_no_orphan(listing):
    orphans = orphans_of(listing)
    assert listing["requested"]["id"] not in orphans
    assert listing["launching"]["id"] not in orphans


def test_a_node_whose_instance_failed_ended_or_never_existed_is_an_orphan(listing):
    expected = {listing[state]["id"] for state in ("failed", "terminated", "no instance")}
    assert orphans_of(listing) == expected
