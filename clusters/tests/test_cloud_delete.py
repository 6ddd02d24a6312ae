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


@pytest.mark.django_db
def test_a_cloud_whose_image_a_definition_uses_is_kept_with_a_message(alice_client, alice):
    from clusters.models import ClusterDefinition, Image, Role
    from clusters.tests.cloud_helpers import make_cloud
    from contexts.tests.profile_helpers import make_profile

    cloud = make_cloud(alice)
    image = Image.objects.create(cloud=cloud, name="AlmaLinux 9", provider_id="ami-1", format="cloud-init")
    definition = ClusterDefinition.objects.create(owner=alice, name="uses it")
    Role.objects.create(
        definition=definition, name="node", profile=make_profile(alice), image=image, size="t2.micro"
    )
    for url in (f"/clouds/{cloud.pk}/delete/", f"/clouds/{cloud.pk}/images/{image.pk}/delete/"):
        response = alice_client.post(url, follow=True)
        assert response.status_code == 200
        assert "is still used by" in response.content.decode()
    assert Image.objects.filter(pk=image.pk).exists()
