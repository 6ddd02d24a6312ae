import pytest

from clusters.models import Image
from clusters.tests.cloud_helpers import make_cloud, staff_client


@pytest.mark.django_db
def test_a_user_adds_an_image_to_her_cloud(alice_client, alice):
    cloud = make_cloud(alice)
    response = alice_client.post(
        f"/clouds/{cloud.pk}/images/new/",
        {"name": "CernVM 4", "provider_id": "ami-785db401", "format": "amiconfig"},
    )
    assert response.status_code == 302 and response["Location"] == f"/clouds/{cloud.pk}/"
    image = Image.objects.get()
    assert (image.cloud, image.name, image.provider_id, image.format) == (
        cloud,
        "CernVM 4",
        "ami-785db401",
        "amiconfig",
    )


@pytest.mark.django_db
def test_a_duplicate_name_or_a_bad_format_is_a_message(alice_client, alice):
    cloud = make_cloud(alice)
    Image.objects.create(cloud=cloud, name="CernVM 4", provider_id="ami-1")
    response = alice_client.post(
        f"/clouds/{cloud.pk}/images/new/", {"name": "CernVM 4", "provider_id": "ami-2", "format": "bogus"}
    )
    html = response.content.decode()
    assert response.status_code == 200
    assert "This cloud already has an image named &#x27;CernVM 4&#x27;." in html
    assert "Select a valid choice." in html
    assert Image.objects.count() == 1


@pytest.mark.django_db
def test_staff_add_images_to_a_site_wide_cloud(django_user_model):
    cloud = make_cloud(None, name="Site EC2")
    client = staff_client(django_user_model)
    client.post(
        f"/clouds/{cloud.pk}/images/new/", {"name": "Alma 9", "provider_id": "ami-1", "format": "cloud-init"}
    )
    assert cloud.images.get().name == "Alma 9"


@pytest.mark.django_db
def test_the_owner_removes_an_image(alice_client, alice):
    cloud = make_cloud(alice)
    image = Image.objects.create(cloud=cloud, name="CernVM 4", provider_id="ami-1")
    assert alice_client.post(f"/clouds/{cloud.pk}/images/{image.pk}/delete/").status_code == 302
    assert not Image.objects.exists()


@pytest.mark.django_db
def test_an_image_of_another_cloud_cannot_be_removed_through_mine(alice_client, alice, bob):
    mine = make_cloud(alice)
    theirs = Image.objects.create(cloud=make_cloud(bob), name="x", provider_id="ami-1")
    assert alice_client.post(f"/clouds/{mine.pk}/images/{theirs.pk}/delete/").status_code == 404
    assert Image.objects.exists()
