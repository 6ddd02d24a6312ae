"""Ownership on every cloud page (docs/security.md): another user's cloud is a 404 everywhere; a
site-wide cloud is readable by every user and changed by staff only."""

import pytest

from clusters.models import Image
from clusters.tests.cloud_helpers import make_cloud, staff_client

READ = [("get", "/clouds/{id}/"), ("get", "/clouds/{id}/check/status/")]
WRITE = [
    ("get", "/clouds/{id}/edit/"),
    ("post", "/clouds/{id}/edit/"),
    ("get", "/clouds/{id}/delete/"),
    ("post", "/clouds/{id}/delete/"),
    ("post", "/clouds/{id}/check/"),
    ("get", "/clouds/{id}/images/new/"),
    ("post", "/clouds/{id}/images/new/"),
    ("post", "/clouds/{id}/images/{image}/delete/"),
]


def _url(template, cloud, image):
    return template.format(id=cloud.pk, image=image.pk)


def _with_image(cloud):
    return cloud, Image.objects.create(cloud=cloud, name="CernVM 4", provider_id="ami-1")


@pytest.mark.django_db
@pytest.mark.parametrize(("method", "url"), [*READ, ("get", "/clouds/{id}/queue/"), *WRITE])
def test_a_stranger_gets_404_on_another_users_cloud(charlie_client, alice, method, url):
    cloud, image = _with_image(make_cloud(alice))
    response = getattr(charlie_client, method)(_url(url, cloud, image))
    assert response.status_code == 404
    assert cloud.images.count() == 1


@pytest.mark.django_db
def test_another_users_cloud_is_not_listed(charlie_client, alice):
    make_cloud(alice, name="Alice's secret cloud")
    assert "Alice&#x27;s secret cloud" not in charlie_client.get("/clouds/").content.decode()


@pytest.mark.django_db
@pytest.mark.parametrize(("method", "url"), READ)
def test_every_user_reads_a_site_wide_cloud(charlie_client, method, url):
    cloud, image = _with_image(make_cloud(None, name="Site EC2"))
    response = getattr(charlie_client, method)(_url(url, cloud, image))
    assert response.status_code == 200


@pytest.mark.django_db
def test_a_site_wide_cloud_and_its_images_are_read_only_for_users(charlie_client):
    cloud, _image = _with_image(make_cloud(None, name="Site EC2"))
    html = charlie_client.get(f"/clouds/{cloud.pk}/").content.decode()
    assert "CernVM 4" in html
    for hidden in ("/edit/", "/delete/", "Test connection", "Add image", "Remove"):
        assert hidden not in html


@pytest.mark.django_db
@pytest.mark.parametrize(("method", "url"), WRITE)
def test_only_staff_change_a_site_wide_cloud(charlie_client, method, url):
    cloud, image = _with_image(make_cloud(None, name="Site EC2"))
    response = getattr(charlie_client, method)(_url(url, cloud, image))
    assert response.status_code == 404
    assert cloud.images.count() == 1


@pytest.mark.django_db
def test_staff_edit_and_delete_a_site_wide_cloud(django_user_model):
    client = staff_client(django_user_model)
    cloud, image = _with_image(make_cloud(None, name="Site EC2"))
    assert client.get(f"/clouds/{cloud.pk}/edit/").status_code == 200
    assert client.post(f"/clouds/{cloud.pk}/images/{image.pk}/delete/").status_code == 302
    assert client.post(f"/clouds/{cloud.pk}/delete/").status_code == 302
    assert not cloud.__class__.objects.filter(pk=cloud.pk).exists()


@pytest.mark.django_db
@pytest.mark.parametrize(
    "url", ["/clouds/", "/clouds/new/", "/clouds/new/ec2/", "/clouds/queues/", "/clouds/1/"]
)
def test_anonymous_visitors_are_sent_to_log_in(client, url):
    response = client.get(url)
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/")
