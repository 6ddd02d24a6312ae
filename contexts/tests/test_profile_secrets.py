"""No page ever shows a secret: neither its clear text nor its stored ciphertext (docs/security.md)."""

import pytest

from contexts.profiles import add_revision, plain_document
from contexts.tests.profile_helpers import assert_no_secret, editor_data, make_profile

PAGES = [
    "/profiles/",
    "/profiles/?show=public",
    "/profiles/{id}/",
    "/profiles/{id}/edit/",
    "/profiles/{id}/yaml/",
    "/profiles/{id}/settings/",
    "/profiles/{id}/history/",
    "/profiles/{id}/diff/",
    "/profiles/{id}/delete/",
    "/profiles/{id}/preview/cloud-init/",
    "/profiles/{id}/preview/amiconfig/",
    "/profiles/{id}/preview/shell/",
]


@pytest.fixture
def profile(alice):
    profile = make_profile(alice, visibility="public")
    document = plain_document(profile.latest)
    document["root"]["password"] = "second-root-pw"
    add_revision(profile, document, author=alice)
    return profile


@pytest.mark.django_db
@pytest.mark.parametrize("page", PAGES)
def test_no_page_shows_a_secret_to_the_owner(alice_client, profile, page):
    response = alice_client.get(page.format(id=profile.pk))
    assert response.status_code == 200
    assert_no_secret(response.content.decode(), profile)
    assert "second-root-pw" not in response.content.decode()


@pytest.mark.django_db
@pytest.mark.parametrize(
    "page", [p for p in PAGES if not p.endswith(("edit/", "yaml/", "settings/", "delete/"))]
)
def test_no_page_shows_a_secret_to_a_stranger(charlie_client, profile, page):
    response = charlie_client.get(page.format(id=profile.pk))
    assert response.status_code == 200
    assert_no_secret(response.content.decode(), profile)


@pytest.mark.django_db
def test_the_editor_does_not_echo_a_typed_password_when_the_form_has_errors(alice_client, profile):
    url = f"/profiles/{profile.pk}/edit/"
    data = editor_data(
        alice_client.get(url), **{"users-0-password": "typed-pw-77", "general-timezone": "a b"}
    )
    response = alice_client.post(url, data)
    assert response.status_code == 200
    assert "typed-pw-77" not in response.content.decode()
    assert_no_secret(response.content.decode(), profile)
