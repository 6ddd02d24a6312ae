"""Deleting a definition: a confirmation page, then a POST; clusters launched from it stay."""

import pytest

from clusters.models import Cluster, ClusterDefinition, Role
from clusters.tests.definition_helpers import make_definition, make_image, make_offering, make_profile

pytestmark = pytest.mark.django_db


@pytest.fixture
def pool(alice):
    role = {
        "name": "master",
        "profile": make_profile(alice),
        "image": make_image(alice),
        "offering": make_offering(),
    }
    return make_definition(alice, roles=[role])


def test_the_confirmation_page_deletes_nothing(alice_client, pool):
    response = alice_client.get(f"/definitions/{pool.pk}/delete/")
    assert response.status_code == 200
    assert "Delete for good" in response.content.decode()
    assert ClusterDefinition.objects.filter(pk=pool.pk).exists()


def test_a_post_deletes_the_definition_and_its_roles(alice_client, pool):
    response = alice_client.post(f"/definitions/{pool.pk}/delete/")
    assert response.status_code == 302
    assert response["Location"] == "/definitions/"
    assert not ClusterDefinition.objects.exists()
    assert not Role.objects.exists()


def test_clusters_launched_from_a_deleted_definition_stay(alice_client, alice, pool):
    cluster = Cluster.objects.create(owner=alice, definition=pool, name="pool-1", snapshot={"roles": []})
    assert (
        "Its 1 launched cluster stays" in alice_client.get(f"/definitions/{pool.pk}/delete/").content.decode()
    )
    alice_client.post(f"/definitions/{pool.pk}/delete/")
    cluster.refresh_from_db()
    assert cluster.definition is None
