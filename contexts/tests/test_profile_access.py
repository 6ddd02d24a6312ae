"""Who may see and change a profile: a private profile is a 404 to strangers on every page, a
public one is readable by every user but changeable only by its owner."""

import pytest

from contexts.models import Profile
from contexts.tests.profile_helpers import make_profile

READ_PAGES = [
    "/profiles/{id}/",
    "/profiles/{id}/history/",
    "/profiles/{id}/diff/",
    "/profiles/{id}/preview/cloud-init/",
    "/profiles/{id}/download/cloud-init/",
]
WRITE_PAGES = [
    "/profiles/{id}/edit/",
    "/profiles/{id}/yaml/",
    "/profiles/{id}/settings/",
    "/profiles/{id}/delete/",
]


@pytest.mark.django_db
@pytest.mark.parametrize("page", READ_PAGES + WRITE_PAGES)
def test_it_shows_every_page_to_the_owner(alice_client, alice, page):
    profile = make_profile(alice)
    assert alice_client.get(page.format(id=profile.pk)).status_code == 200


@pytest.mark.django_db
@pytest.mark.parametrize("page", READ_PAGES + WRITE_PAGES)
@pytest.mark.parametrize("method", ["get", "post"])
def test_it_hides_a_private_profile_from_a_stranger(charlie_client, alice, page, method):
    profile = make_profile(alice)
    response = getattr(charlie_client, method)(page.format(id=profile.pk))
    assert response.status_code == 404
    assert Profile.objects.filter(pk=profile.pk).exists()
    assert profile.revisions.count() == 1


@pytest.mark.django_db
@pytest.mark.parametrize("page", READ_PAGES)
def test_it_lets_a_stranger_read_a_public_profile(charlie_client, alice, page):
    profile = make_profile(alice, visibility="public")
    assert charlie_client.get(page.format(id=profile.pk)).status_code == 200


@pytest.mark.django_db
@pytest.mark.parametrize("page", WRITE_PAGES)
@pytest.mark.parametrize("method", ["get", "post"])
def test_it_does_not_let_a_stranger_change_a_public_profile(charlie_client, alice, page, method):
    profile = make_profile(alice, visibility="public")
    response = getattr(charlie_client, method)(page.format(id=profile.pk), {"document": "schema: 1\n"})
    assert response.status_code == 404
    assert Profile.objects.filter(pk=profile.pk).exists()
    assert profile.revisions.count() == 1


@pytest.mark.django_db
def test_it_hides_edit_links_of_a_public_profile_from_a_stranger(charlie_client, alice):
    profile = make_profile(alice, visibility="public")
    html = charlie_client.get(f"/profiles/{profile.pk}/").content.decode()
    assert f"/profiles/{profile.pk}/edit/" not in html
    assert f"/profiles/{profile.pk}/delete/" not in html


@pytest.mark.django_db
@pytest.mark.parametrize("page", ["/profiles/", "/profiles/new/", *READ_PAGES, *WRITE_PAGES])
def test_it_sends_anonymous_visitors_to_the_login_page(client, alice, page):
    profile = make_profile(alice, visibility="public")
    response = client.get(page.format(id=profile.pk))
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/")


@pytest.mark.django_db
def test_it_answers_404_for_a_profile_that_does_not_exist(alice_client):
    assert alice_client.get("/profiles/999/").status_code == 404
