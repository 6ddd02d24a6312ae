import pytest

from contexts.tests.profile_helpers import make_profile


@pytest.mark.django_db
def test_it_changes_name_visibility_and_tags_without_a_new_revision(alice_client, alice):
    profile = make_profile(alice)
    html = alice_client.get(f"/profiles/{profile.pk}/settings/").content.decode()
    assert 'value="cms"' in html
    response = alice_client.post(
        f"/profiles/{profile.pk}/settings/",
        {"name": "Renamed", "description": "New words", "visibility": "public", "tags": "atlas, GPU"},
    )
    assert response.status_code == 302
    profile.refresh_from_db()
    assert (profile.name, profile.description, profile.visibility) == ("Renamed", "New words", "public")
    assert sorted(t.name for t in profile.tags.all()) == ["atlas", "gpu"]
    assert profile.slug == "condor-worker"
    assert profile.revisions.count() == 1


@pytest.mark.django_db
def test_it_refuses_an_unknown_visibility(alice_client, alice):
    profile = make_profile(alice)
    response = alice_client.post(f"/profiles/{profile.pk}/settings/", {"name": "x", "visibility": "secret"})
    assert response.status_code == 200
    profile.refresh_from_db()
    assert profile.visibility == "private"
