import pytest

from contexts.models import Profile, ProfileRevision
from contexts.profiles import add_revision
from contexts.tests.profile_helpers import make_profile


@pytest.mark.django_db
def test_it_asks_before_deleting(alice_client, alice):
    profile = make_profile(alice)
    html = alice_client.get(f"/profiles/{profile.pk}/delete/").content.decode()
    assert "all of its 1 revision?" in html
    assert Profile.objects.filter(pk=profile.pk).exists()


@pytest.mark.django_db
def test_it_deletes_the_profile_and_its_revisions(alice_client, alice):
    profile = make_profile(alice)
    add_revision(profile, {"schema": 1}, author=alice)
    keep = make_profile(alice, name="Another")
    response = alice_client.post(f"/profiles/{profile.pk}/delete/")
    assert response.status_code == 302
    assert response["Location"] == "/profiles/"
    assert list(Profile.objects.all()) == [keep]
    assert ProfileRevision.objects.count() == 1


@pytest.mark.django_db
def test_a_profile_a_cluster_definition_uses_is_kept_with_a_message(alice_client, alice):
    from clusters.models import ClusterDefinition, Image, Role
    from clusters.tests.cloud_helpers import make_cloud

    profile = make_profile(alice)
    image = Image.objects.create(
        cloud=make_cloud(alice), name="AlmaLinux 9", provider_id="ami-1", format="cloud-init"
    )
    definition = ClusterDefinition.objects.create(owner=alice, name="uses it")
    Role.objects.create(definition=definition, name="node", profile=profile, image=image, size="t2.micro")
    response = alice_client.post(f"/profiles/{profile.pk}/delete/", follow=True)
    assert response.status_code == 200
    assert "is still used by" in response.content.decode()
    assert profile.revisions.exists()
