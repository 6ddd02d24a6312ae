import pytest

from clusters.models import CloudSize, ServiceOffering, SizeMapping
from clusters.tests.cloud_helpers import make_cloud


def _synced_cloud(owner, name):
    cloud = make_cloud(owner, name=name)
    for size_id, vcpus, ram_mb in [("t2.small", 1, 2048), ("t2.medium", 2, 4096), ("m5.xlarge", 4, 16384)]:
        CloudSize.objects.create(cloud=cloud, size_id=size_id, vcpus=vcpus, ram_mb=ram_mb)
    return cloud


@pytest.mark.django_db
def test_the_action_fills_missing_mappings_from_the_synced_sizes(root_client, alice):
    site, own = _synced_cloud(None, "Site EC2"), _synced_cloud(alice, "Alice EC2")
    medium = ServiceOffering.objects.create(name="medium", vcpus=2, ram_mb=4096)
    large = ServiceOffering.objects.create(name="large", vcpus=4, ram_mb=8192)
    SizeMapping.objects.create(offering=medium, cloud=site, size_id="kept-as-is")
    response = root_client.post(
        "/admin/clusters/serviceoffering/",
        {"action": "fill_missing_mappings", "_selected_action": [medium.pk, large.pk]},
        follow=True,
    )
    assert "Made 3 size mappings from the synced sizes." in response.content.decode()
    assert set(SizeMapping.objects.values_list("offering__name", "cloud__name", "size_id")) == {
        ("medium", "Site EC2", "kept-as-is"),
        ("medium", "Alice EC2", "t2.medium"),
        ("large", "Site EC2", "m5.xlarge"),
        ("large", "Alice EC2", "m5.xlarge"),
    }
    assert own.size_mappings.count() == 2


@pytest.mark.django_db
def test_the_offering_page_edits_mappings_inline_and_shows_suggestions(root_client):
    cloud = _synced_cloud(None, "Site EC2")
    small = ServiceOffering.objects.create(name="small", vcpus=1, ram_mb=2048)
    html = root_client.get(f"/admin/clusters/serviceoffering/{small.pk}/change/").content.decode()
    assert 'name="mappings-0-size_id"' in html
    assert "Site EC2: <code>t2.small</code> (1 vCPU, 2048 MiB)" in html
    response = root_client.post(
        f"/admin/clusters/serviceoffering/{small.pk}/change/",
        {
            "name": "small", "vcpus": "1", "ram_mb": "2048", "disk_gb": "20", "price_per_hour": "0.0232",
            "active": "on", "description": "",
            "mappings-TOTAL_FORMS": "1", "mappings-INITIAL_FORMS": "0",
            "mappings-MIN_NUM_FORMS": "0", "mappings-MAX_NUM_FORMS": "1000",
            "mappings-0-cloud": cloud.pk, "mappings-0-size_id": "t2.small",
        },
    )  # fmt: skip
    assert response.status_code == 302
    assert small.mappings.get().size_id == "t2.small"


@pytest.mark.django_db
def test_synced_sizes_are_read_only_in_the_admin(root_client, alice):
    cloud = _synced_cloud(alice, "Alice EC2")
    size = cloud.sizes.first()
    assert "t2.small" in root_client.get("/admin/clusters/cloudsize/").content.decode()
    assert root_client.get("/admin/clusters/cloudsize/add/").status_code == 403
    html = root_client.get(f"/admin/clusters/cloudsize/{size.pk}/change/").content.decode()
    assert 'name="size_id"' not in html
