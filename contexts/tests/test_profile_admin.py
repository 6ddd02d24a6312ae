import pytest

from contexts.tests.profile_helpers import assert_no_secret, make_profile


@pytest.fixture
def admin_client_(client, django_user_model):
    admin = django_user_model.objects.create_superuser("root", "root@example.org", "pw")
    client.force_login(admin)
    return client


@pytest.mark.django_db
def test_the_admin_lists_profiles(admin_client_, alice):
    make_profile(alice)
    response = admin_client_.get("/admin/contexts/profile/?q=condor")
    assert response.status_code == 200
    assert "Condor worker" in response.content.decode()


@pytest.mark.django_db
def test_the_admin_shows_revisions_redacted_and_read_only(admin_client_, alice):
    profile = make_profile(alice)
    html = admin_client_.get(f"/admin/contexts/profile/{profile.pk}/change/").content.decode()
    assert "timezone: Europe/Zurich" in html
    assert "password: &#x27;********&#x27;" in html
    assert 'name="revisions-0-document"' not in html
    assert_no_secret(html, profile)


@pytest.mark.django_db
def test_the_admin_saves_a_profile_without_touching_its_revisions(admin_client_, alice):
    profile = make_profile(alice)
    response = admin_client_.post(
        f"/admin/contexts/profile/{profile.pk}/change/",
        {
            "owner": alice.pk,
            "name": "Renamed",
            "slug": profile.slug,
            "description": "",
            "visibility": "public",
            "tags": [t.pk for t in profile.tags.all()],
            "revisions-TOTAL_FORMS": "1",
            "revisions-INITIAL_FORMS": "1",
            "revisions-MIN_NUM_FORMS": "0",
            "revisions-MAX_NUM_FORMS": "1000",
            "revisions-0-id": profile.latest.pk,
            "revisions-0-profile": profile.pk,
        },
    )
    assert response.status_code == 302
    profile.refresh_from_db()
    assert profile.name == "Renamed"
    assert profile.revisions.count() == 1
