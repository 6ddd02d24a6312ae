"""Credentials never leave the database in clear (docs/security.md): not in a page, the admin, a log line,
a task message or an error message."""

import logging
from unittest import mock

import pytest

from clusters import clouds
from clusters.models import CheckState, CloudSize, Image, ServiceOffering
from clusters.providers.base import CloudError
from clusters.tests.cloud_helpers import (
    ACCESS_KEY,
    SECRET_KEY,
    assert_no_secret,
    cloud_from_config,
    ec2_data,
    idle_queue,
    make_cloud,
    published_tasks,
    secret_texts,
)

CLOUD_PAGES = [
    "/clouds/",
    "/clouds/queues/",
    "/clouds/{id}/",
    "/clouds/{id}/edit/",
    "/clouds/{id}/delete/",
    "/clouds/{id}/check/status/",
    "/clouds/{id}/queue/",
    "/clouds/{id}/images/new/",
]
ADMIN_PAGES = [
    "/admin/clusters/cloud/",
    "/admin/clusters/cloud/?q=EC2",
    "/admin/clusters/cloud/{id}/change/",
    "/admin/clusters/cloud/{id}/history/",
    "/admin/clusters/cloud/{id}/delete/",
    "/admin/clusters/image/",
    "/admin/clusters/cloudsize/",
    "/admin/clusters/serviceoffering/{offering}/change/",
]


def _furnished_cloud(owner, **fields):
    cloud = make_cloud(owner, check_state=CheckState.FAILED, check_message="AuthFailure: no", **fields)
    Image.objects.create(cloud=cloud, name="CernVM 4", provider_id="ami-1")
    CloudSize.objects.create(cloud=cloud, size_id="t2.small", vcpus=1, ram_mb=2048)
    return cloud


@pytest.mark.django_db
def test_no_cloud_page_shows_a_credential_or_its_ciphertext(alice_client, alice):
    cloud = _furnished_cloud(alice)
    for url in CLOUD_PAGES:
        response = alice_client.get(url.format(id=cloud.pk))
        assert response.status_code == 200, url
        assert_no_secret(response.content.decode(), cloud)


@pytest.mark.django_db
def test_no_admin_page_shows_a_credential_or_its_ciphertext(admin_client, alice):
    cloud = _furnished_cloud(alice)
    offering = ServiceOffering.objects.create(name="small", vcpus=1, ram_mb=2048)
    for url in ADMIN_PAGES:
        response = admin_client.get(url.format(id=cloud.pk, offering=offering.pk))
        assert response.status_code == 200, url
        assert_no_secret(response.content.decode(), cloud)


@pytest.mark.django_db
def test_no_page_of_a_site_wide_cloud_shows_its_credentials_to_users_or_staff(alice_client, admin_client):
    cloud = _furnished_cloud(None, name="Site EC2")
    for client in (alice_client, admin_client):
        for url in ("/clouds/", f"/clouds/{cloud.pk}/", f"/clouds/{cloud.pk}/check/status/"):
            assert_no_secret(client.get(url).content.decode(), cloud)


@pytest.mark.django_db
def test_saving_a_cloud_logs_no_credential(alice_client, caplog):
    caplog.set_level(logging.DEBUG)
    alice_client.post("/clouds/new/ec2/", ec2_data())
    alice_client.post("/clouds/new/ec2/", ec2_data(name="Second", queue="bad queue"))
    assert ACCESS_KEY not in caplog.text and SECRET_KEY not in caplog.text


@pytest.mark.django_db
def test_task_messages_carry_the_id_and_nothing_secret(alice_client, admin_client, alice):
    with idle_queue() as queue, published_tasks() as published:
        cloud = make_cloud(alice, queue=queue)
        alice_client.post(f"/clouds/{cloud.pk}/check/")
        admin_client.post(
            "/admin/clusters/cloud/", {"action": "sync_sizes_and_images", "_selected_action": [cloud.pk]}
        )
    assert len(published) == 2
    for message in published:
        assert list(message["body"][0]) == [cloud.pk]
        assert_no_secret(repr(message), cloud)


@pytest.mark.django_db
def test_a_real_check_against_ec2_logs_no_credential(alice, moto_ec2, caplog):
    caplog.set_level(logging.DEBUG)
    cloud = cloud_from_config(alice, moto_ec2.config(), credentials={"key": ACCESS_KEY, "secret": SECRET_KEY})
    assert clouds.check_cloud(cloud) == CheckState.OK
    cloud.secure = not cloud.secure  # now a TLS mismatch: an error path, logged or not
    cloud.save()
    clouds.check_cloud(cloud)
    for text in secret_texts(cloud):
        assert text not in caplog.text


@pytest.mark.django_db
def test_a_provider_message_quoting_a_credential_is_masked(alice):
    # Mocked: no peer we run echoes a key back, but a real CloudStack error can quote the signed
    # request URL, which carries the API key.
    cloud = make_cloud(alice)
    error = CloudError(f"401 for /client/api?apiKey={ACCESS_KEY}&signature=x", permanent=True)
    with mock.patch("clusters.clouds.get_provider", autospec=True) as get_provider:
        get_provider.return_value.check.side_effect = error
        clouds.check_cloud(cloud)
    cloud.refresh_from_db()
    assert cloud.check_message == "401 for /client/api?apiKey=********&signature=x"
