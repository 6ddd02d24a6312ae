"""Syncing a cloud's sizes from the real EC2 API (moto) and suggesting mappings from them."""

import pytest

from clusters import clouds
from clusters.models import CheckState, CloudSize, ServiceOffering
from clusters.tests.cloud_helpers import cloud_from_config


@pytest.mark.django_db
def test_sync_stores_the_clouds_sizes_with_their_shapes(alice, moto_ec2):
    cloud = cloud_from_config(alice, moto_ec2.config())
    result = clouds.sync_cloud(cloud)
    assert result.ok and result.sizes > 0 and result.sizes == cloud.sizes.count()
    small = cloud.sizes.get(size_id="t2.small")
    assert (small.vcpus, small.ram_mb) == (1, 2048)
    cloud.refresh_from_db()
    assert cloud.check_state == CheckState.OK
    assert cloud.check_message == f"synced: {result.sizes} sizes stored, {result.images} images listed"


@pytest.mark.django_db
def test_a_second_sync_replaces_the_first(alice, moto_ec2):
    cloud = cloud_from_config(alice, moto_ec2.config())
    CloudSize.objects.create(cloud=cloud, size_id="retired.size", vcpus=1, ram_mb=1)
    count = clouds.sync_cloud(cloud).sizes
    assert not cloud.sizes.filter(size_id="retired.size").exists()
    assert clouds.sync_cloud(cloud).sizes == count == cloud.sizes.count()


@pytest.mark.django_db
def test_a_failed_sync_keeps_the_old_sizes_and_says_why(alice, moto_ec2):
    cloud = cloud_from_config(alice, moto_ec2.config(), path="/no/such/api/")
    CloudSize.objects.create(cloud=cloud, size_id="t2.small", vcpus=1, ram_mb=2048)
    result = clouds.sync_cloud(cloud)
    assert not result.ok and "404 Not Found" in result.message
    assert cloud.sizes.count() == 1
    cloud.refresh_from_db()
    assert cloud.check_state == CheckState.FAILED


@pytest.mark.django_db
def test_synced_ec2_sizes_give_sensible_suggestions(alice, moto_ec2):
    cloud = cloud_from_config(alice, moto_ec2.config())
    clouds.sync_cloud(cloud)
    medium = ServiceOffering.objects.create(name="medium", vcpus=2, ram_mb=4096)
    size = clouds.closest_size(medium, cloud.sizes.all())
    assert size.vcpus == 2 and size.ram_mb == 4096
