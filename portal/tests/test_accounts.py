import pytest

from conftest import PASSWORD

pytestmark = pytest.mark.django_db


def test_signup_creates_an_account_and_logs_in(client, django_user_model):
    response = client.post("/accounts/signup/", {
        "username": "dana", "password1": "a long enough passphrase", "password2": "a long enough passphrase",
    })  # fmt: skip
    assert response.status_code == 302
    assert django_user_model.objects.filter(username="dana").exists()
    assert client.get("/profiles/").status_code == 200


def test_signup_with_mismatched_passwords_shows_the_error(client, django_user_model):
    response = client.post("/accounts/signup/", {
        "username": "dana", "password1": "a long enough passphrase", "password2": "something else entirely",
    })  # fmt: skip
    assert response.status_code == 200
    assert "didn’t match" in response.content.decode()
    assert not django_user_model.objects.filter(username="dana").exists()


def test_login_and_logout(client, alice):
    response = client.post("/accounts/login/", {"username": "alice", "password": PASSWORD})
    assert response.status_code == 302
    assert client.get("/profiles/").status_code == 200
    client.post("/accounts/logout/")
    assert client.get("/profiles/").status_code == 302


def test_login_with_a_wrong_password_is_refused(client, alice):
    response = client.post("/accounts/login/", {"username": "alice", "password": "wrong"})
    assert response.status_code == 200
    assert "correct username and password" in response.content.decode()


def test_password_change(alice_client, alice):
    response = alice_client.post("/accounts/password/", {
        "old_password": PASSWORD, "new_password1": "another long passphrase", "new_password2": "another long passphrase",
    })  # fmt: skip
    assert response.status_code == 302
    alice.refresh_from_db()
    assert alice.check_password("another long passphrase")


def test_pages_need_a_login(client):
    response = client.get("/profiles/")
    assert response.status_code == 302
    assert response.url.startswith("/accounts/login/")


def test_home_page_has_a_phone_viewport_and_navigation(client):
    html = client.get("/").content.decode()
    assert 'name="viewport"' in html
    assert "navbar-toggler" in html
    assert "/static/vendor/bootstrap/bootstrap.min.css" in html
