"""The OpenStack provider through libcloud's real OpenStack driver, over HTTP, against mimic
(Keystone v2.0 + Nova). Mimic does not keep user-data, so only its acceptance is checked here."""

from __future__ import annotations

import time

import pytest

from clusters.providers import CloudError, NodeSpec, get_provider
from clusters.tests.conftest import REJECTED_USER, free_port

USER_DATA = '#!/bin/sh\necho "Grüße aus Genève ✓" > /etc/motd\nexit 0\n'


@pytest.fixture
def cloud(mimic_openstack):
    return get_provider(mimic_openstack.config())


def spec(name="node-1", **changes):
    return NodeSpec(
        **{"name": name, "size_id": "2", "image_id": "e3061e05-e55c-44cb-b974-9b926bc614ef", **changes}
    )


def test_it_creates_lists_and_destroys_a_node_with_user_data_and_tags(cloud):
    tags = {"context-portal": "demo", "cluster": "12", "instance": "12-worker-3"}

    created = cloud.create_node(spec(user_data=USER_DATA, tags=tags))
    [listed] = cloud.list_nodes()
    cloud.destroy_node(created.id)

    assert created.tags == tags
    assert (listed.id, listed.name, listed.state, listed.tags) == (created.id, "node-1", "running", tags)
    assert listed.public_ips and listed.private_ips
    assert cloud.list_nodes() == []


def test_destroying_a_node_that_is_gone_is_fine(cloud):
    node = cloud.create_node(spec())

    cloud.destroy_node(node.id)
    cloud.destroy_node(node.id)


def test_it_finds_live_nodes_by_tags(cloud):
    wanted = cloud.create_node(spec("a", tags={"cluster": "1", "instance": "1-a"}))
    cloud.create_node(spec("b", tags={"cluster": "1", "instance": "1-b"}))

    assert [node.id for node in cloud.find_nodes({"instance": "1-a"})] == [wanted.id]
    assert len(cloud.find_nodes({"cluster": "1"})) == 2


def test_it_lists_flavors_and_images(cloud):
    sizes = {size.id: size for size in cloud.list_sizes()}

    assert (sizes["2"].vcpus, sizes["2"].ram_mb, sizes["2"].disk_gb) == (1, 512, 20)
    images = cloud.list_images()  # mimic makes new image ids in every run
    assert images and all(image.id and image.name for image in images)


def test_a_rejected_password_is_a_permanent_error(mimic_openstack):
    config = mimic_openstack.config(username=REJECTED_USER, password="wrong")

    with pytest.raises(CloudError, match="authentication failed") as caught:
        get_provider(config).check()

    assert caught.value.permanent


def test_a_dead_identity_endpoint_is_a_transient_error_within_ten_seconds(mimic_openstack):
    config = mimic_openstack.config(auth_url=f"http://127.0.0.1:{free_port()}/identity")
    started = time.monotonic()

    with pytest.raises(CloudError) as caught:
        get_provider(config).check()

    assert time.monotonic() - started < 10
    assert not caught.value.permanent
    assert "connection refused" in caught.value.message


def test_an_identity_url_is_required(mimic_openstack):
    with pytest.raises(CloudError, match="identity") as caught:
        get_provider(mimic_openstack.config(auth_url="")).list_nodes()

    assert caught.value.permanent
