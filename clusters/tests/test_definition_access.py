"""Ownership on every definition page (docs/security.md): another user's private definition is a 404
everywhere; a public one is readable by every user and changed by its owner only."""

import pytest

from clusters.models import ClusterDefinition
from clusters.tests.definition_helpers import make_definition, make_image, make_offering, make_profile

WRITE = [
    ("get", "/definitions/{id}/edit/"),
    ("post", "/definitions/{id}/edit/"),
    ("get", "/definitions/{id}/delete/"),
    ("post", "/definitions/{id}/delete/"),
]
EVERY_PAGE = [("get", "/definitions/{id}/"), ("post", "/definitions/{id}/"), *WRITE]


def _definition(owner, **fields):
    role = {
        "name": "master",
        "profile": make_profile(owner),
        "image": make_image(owner),
        "offering": make_offering(),
    }
    return make_definition(owner, roles=[role], **fields)


@pytest.mark.django_db
@pytest.mark.parametrize(("method", "url"), EVERY_PAGE)
def test_a_stranger_gets_404_on_another_users_private_definition(charlie_client, alice, method, url):
    definition = _definition(alice)
    response = getattr(charlie_client, method)(url.format(id=definition.pk), {"name": "Taken over"})
    assert response.status_code == 404
    definition.refresh_from_db()
    assert definition.name == "Condor pool"
    assert definition.roles.count() == 1


@pytest.mark.django_db
def test_every_user_reads_a_public_definition(charlie_client, alice):
    definition = _definition(alice, visibility="public")
    response = charlie_client.get(f"/definitions/{definition.pk}/")
    assert response.status_code == 200
    assert "Condor pool" in response.content.decode()


@pytest.mark.django_db
@pytest.mark.parametrize(("method", "url"), WRITE)
def test_a_public_definition_is_not_writable_by_others(charlie_client, alice, method, url):
    definition = _definition(alice, visibility="public")
    response = getattr(charlie_client, method)(url.format(id=definition.pk), {"name": "Taken over"})
    assert response.status_code == 404
    definition.refresh_from_db()
    assert definition.name == "Condor pool"


@pytest.mark.django_db
def test_a_public_definition_shows_others_no_edit_or_delete_link(charlie_client, alice):
    definition = _definition(alice, visibility="public")
    html = charlie_client.get(f"/definitions/{definition.pk}/").content.decode()
    assert f"/definitions/{definition.pk}/edit/" not in html
    assert f"/definitions/{definition.pk}/delete/" not in html


@pytest.mark.django_db
@pytest.mark.parametrize("url", ["/definitions/", "/definitions/new/", "/definitions/{id}/"])
def test_the_definition_pages_need_a_login(client, alice, url):
    definition = _definition(alice, visibility="public")
    response = client.get(url.format(id=definition.pk))
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/")
    assert ClusterDefinition.objects.count() == 1
