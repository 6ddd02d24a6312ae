import pytest

from clusters.models import Cloud, Image
from clusters.tests.cloud_helpers import make_cloud


@pytest.mark.django_db
def test_it_asks_before_deleting(alice_client, alice):
    cloud = make_cloud(alice)
    html = alice_client.get(f"/clouds/{cloud.pk}/delete/").content.decode()
    assert "Delete the cloud <strong>My EC2</strong>" in html
    assert Cloud.objects.filter(pk=cloud.pk).exists()


@pytest.mark.django_db
def test_it_deletes_the_cloud_and_its_images(alice_client, alice):
    cloud = make_cloud(alice)
    Image.objects.create(cloud=cloud, name="CernVM 4", provider_id="ami-1")
    keep = make_cloud(alice, name="Another")
    response = alice_client.post(f"/clouds/{cloud.pk}/delete/")
    assert response.status_code == 302 and response["Location"] == "/clouds/"
    assert list(Cloud.objects.all()) == [keep]
    assert not Image.objects.exists()
