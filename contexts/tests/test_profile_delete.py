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
