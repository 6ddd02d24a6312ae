"""The demo cloud `make run` registers: site-wide, two images, three offerings mapped to EC2 sizes,
and a connection check that passes against moto's EC2 server."""

import pytest

from clusters.clouds import check_cloud
from clusters.demo import DEMO_CLOUD_NAME, register_demo_cloud
from clusters.models import CheckState, Image, SizeMapping

pytestmark = pytest.mark.django_db


def test_the_demo_cloud_is_site_wide_with_images_and_mapped_offerings(moto_ec2):
    cloud = register_demo_cloud(moto_ec2.host, moto_ec2.port)
    assert cloud.is_site_wide and cloud.name == DEMO_CLOUD_NAME
    assert set(Image.objects.filter(cloud=cloud).values_list("format", flat=True)) == {
        "cloud-init",
        "amiconfig",
    }
    mapped = dict(SizeMapping.objects.filter(cloud=cloud).values_list("offering__name", "size_id"))
    assert mapped == {"small": "t2.small", "medium": "t2.medium", "large": "m5.xlarge"}


def test_registering_twice_updates_the_endpoint_instead_of_duplicating(moto_ec2):
    register_demo_cloud(moto_ec2.host, 1)
    cloud = register_demo_cloud(moto_ec2.host, moto_ec2.port)
    assert cloud.port == moto_ec2.port
    assert Image.objects.filter(cloud=cloud).count() == 2


def test_the_demo_cloud_answers_a_connection_check_with_its_images(moto_ec2):
    cloud = register_demo_cloud(moto_ec2.host, moto_ec2.port)
    check_cloud(cloud)
    cloud.refresh_from_db()
    assert cloud.check_state == CheckState.OK, cloud.check_message
    assert "images" in cloud.check_message and " 0 images" not in cloud.check_message
