"""The API tokens page (docs/api.md): a new token is shown once; revoking or replacing one stops it."""

import pytest
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient


def api_status(key: str) -> int:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {key}")
    return client.get("/api/v1/profiles/").status_code


@pytest.mark.django_db
def test_the_user_menu_links_to_the_page(alice_client):
    assert b'href="/accounts/tokens/"' in alice_client.get("/accounts/tokens/").content


@pytest.mark.django_db
def test_it_needs_a_login(client):
    response = client.get("/accounts/tokens/")
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/")


@pytest.mark.django_db
def test_it_creates_a_token_and_shows_it_once(alice_client, alice):
    response = alice_client.post("/accounts/tokens/", {"action": "create"})
    assert response.status_code == 200
    key = Token.objects.get(user=alice).key
    assert key in response.content.decode()
    assert api_status(key) == 200
    assert key not in alice_client.get("/accounts/tokens/").content.decode()


@pytest.mark.django_db
def test_a_revoked_token_is_refused(alice_client, alice):
    alice_client.post("/accounts/tokens/", {"action": "create"})
    key = Token.objects.get(user=alice).key
    response = alice_client.post("/accounts/tokens/", {"action": "revoke"})
    assert response.status_code == 302
    assert not Token.objects.filter(user=alice).exists()
    assert api_status(key) == 401


@pytest.mark.django_db
def test_a_new_token_replaces_the_old_one(alice_client, alice):
    alice_client.post("/accounts/tokens/", {"action": "create"})
    old = Token.objects.get(user=alice).key
    alice_client.post("/accounts/tokens/", {"action": "create"})
    new = Token.objects.get(user=alice).key
    assert old != new
    assert (api_status(old), api_status(new)) == (401, 200)


@pytest.mark.django_db
def test_it_only_touches_the_users_own_token(alice_client, bob):
    bobs = Token.objects.create(user=bob).key
    alice_client.post("/accounts/tokens/", {"action": "revoke"})
    assert api_status(bobs) == 200
