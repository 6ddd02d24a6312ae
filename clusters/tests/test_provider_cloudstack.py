"""The CloudStack provider through libcloud's real CloudStack driver, over HTTP, against our
CloudStack simulator (clusters/testing/cloudstack_simulator.py)."""

from __future__ import annotations

import time

import pytest

from clusters.providers import CloudConfig, CloudError, NodeSpec, get_provider
from clusters.tests.conftest import free_port

USER_DATA = '#!/bin/sh\necho "Grüße aus Genève ✓" > /etc/motd\nexit 0\n'


@pytest.fixture
def cloud(cloudstack_sim):
    return get_provider(cloudstack_sim.config())


def spec(cloud, name="node-1", **changes):
    return NodeSpec(**{"name": name, "size_id": cloud.list_sizes()[0].id, "image_id": cloud.list_images()[0].id,
                       **changes})  # fmt: skip


def test_it_creates_a_node_that_receives_its_user_data_byte_for_byte(cloud, cloudstack_sim):
    node = cloud.create_node(spec(cloud, user_data=USER_DATA))

    assert cloudstack_sim.user_data[node.id] == USER_DATA.encode("utf-8")


def test_it_tags_the_node_after_creating_it(cloud, cloudstack_sim):
    tags = {"context-portal": "demo", "cluster": "12", "instance": "12-worker-3"}
    node = cloud.create_node(spec(cloud, tags=tags))

    assert node.tags == tags
    assert cloudstack_sim.vms[node.id]["tags"] == [
        {"key": key, "value": value} for key, value in tags.items()
    ]


def test_a_node_is_pending_until_it_has_booted_then_running(cloud, cloudstack_sim):
    cloudstack_sim.simulator.boot_seconds = 3600  # it boots when told, however slowly the test runs
    created = cloud.create_node(spec(cloud))

    assert created.state == "pending"
    assert [node.state for node in cloud.list_nodes()] == ["pending"]
    cloudstack_sim.simulator.finish_boots()
    [node] = cloud.list_nodes()
    assert (node.id, node.name, node.state) == (created.id, "node-1", "running")
    assert node.public_ips and node.private_ips


def test_it_finds_live_nodes_by_tags(cloud):
    wanted = cloud.create_node(spec(cloud, "a", tags={"cluster": "1", "instance": "1-a"}))
    cloud.create_node(spec(cloud, "b", tags={"cluster": "1", "instance": "1-b"}))

    assert [node.id for node in cloud.find_nodes({"instance": "1-a"})] == [wanted.id]
    assert len(cloud.find_nodes({"cluster": "1"})) == 2


def test_it_lists_every_page_of_nodes(cloud, cloudstack_sim, monkeypatch):
    monkeypatch.setattr("clusters.providers.cloudstack.PAGE_SIZE", 2)
    for index in range(5):
        cloud.create_node(spec(cloud, f"node-{index}"))
    cloudstack_sim.commands.clear()

    assert len(cloud.list_nodes()) == 5
    assert cloudstack_sim.commands.count("listVirtualMachines") == 3


def test_destroying_a_node_removes_it_and_destroying_again_is_fine(cloud):
    node = cloud.create_node(spec(cloud))

    cloud.destroy_node(node.id)
    cloud.destroy_node(node.id)

    assert cloud.list_nodes() == []


def test_it_lists_service_offerings_and_templates(cloud):
    assert [(size.name, size.vcpus, size.ram_mb) for size in cloud.list_sizes()][0] == (
        "Small Instance",
        1,
        1024,
    )
    assert "CernVM 4" in [image.name for image in cloud.list_images()]
    assert cloud.check() == "connected: 3 sizes, 2 images"


def test_it_deploys_into_the_configured_zone_named_or_by_id(cloudstack_sim):
    zone = cloudstack_sim.zones[0]
    for wanted in (zone["name"], zone["id"]):
        cloud = get_provider(cloudstack_sim.config(zone=wanted))
        node = cloud.create_node(spec(cloud, f"in-{len(cloudstack_sim.vms)}"))
        assert cloudstack_sim.vms[node.id]["zoneid"] == zone["id"]


def test_an_unknown_zone_is_a_permanent_error(cloudstack_sim):
    cloud = get_provider(cloudstack_sim.config(zone="Atlantis"))

    with pytest.raises(CloudError, match='no zone "Atlantis"') as caught:
        cloud.create_node(spec(cloud))

    assert caught.value.permanent


def test_a_wrong_secret_is_a_permanent_error_with_the_providers_message(cloudstack_sim):
    config = cloudstack_sim.config(credentials={"key": cloudstack_sim.api_key, "secret": "not-the-secret"})

    with pytest.raises(CloudError) as caught:
        get_provider(config).check()

    assert caught.value.permanent
    assert "unable to verify user credentials and/or request signature" in caught.value.message


def test_an_unknown_template_is_a_permanent_error_with_the_providers_message(cloud):
    with pytest.raises(CloudError) as caught:
        cloud.create_node(spec(cloud, image_id="no-such-template"))

    assert caught.value.permanent
    assert "Invalid parameter templateid value=no-such-template" in caught.value.message


def test_a_second_node_with_the_same_name_is_refused(cloud):
    cloud.create_node(spec(cloud, "master-0"))

    with pytest.raises(CloudError, match="already exists") as caught:
        cloud.create_node(spec(cloud, "master-0"))

    assert caught.value.permanent


def test_user_data_over_32_kib_comes_back_as_the_providers_error(cloud):
    with pytest.raises(CloudError, match="User data is too long") as caught:
        cloud.create_node(spec(cloud, user_data="#" * 25_000))  # 33,336 characters of base64

    assert caught.value.permanent


def test_a_failed_deploy_job_is_a_transient_error_with_its_message(cloud, cloudstack_sim):
    cloudstack_sim.fail_next_deploys(1, "Unable to create a deployment for VM: insufficient capacity")

    with pytest.raises(CloudError) as caught:
        cloud.create_node(spec(cloud))

    assert caught.value.message == "Unable to create a deployment for VM: insufficient capacity"
    assert not caught.value.permanent
    assert cloud.create_node(spec(cloud)).state == "pending"  # the next one works


def test_a_dead_endpoint_is_a_transient_error_within_ten_seconds():
    config = CloudConfig(driver="cloudstack", credentials={"key": "k", "secret": "s"}, host="127.0.0.1",
                         port=free_port(), secure=False)  # fmt: skip
    started = time.monotonic()

    with pytest.raises(CloudError) as caught:
        get_provider(config).check()

    assert time.monotonic() - started < 10
    assert not caught.value.permanent
    assert "connection refused" in caught.value.message
