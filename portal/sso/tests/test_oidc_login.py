"""Institutional login through a real OpenID Connect provider: the button, the first login that
makes an account from the claims, the next ones that find it again (never by e-mail or name), the
refusals with a clear page, and logging out."""

from urllib.parse import parse_qs, urlsplit

import pytest
from django.contrib.auth.models import User
from django.test import Client

from conftest import PASSWORD
from portal.sso.models import FederatedIdentity
from portal.testing.oidc_provider.person import PersonAtProvider

pytestmark = pytest.mark.django_db


def start_login(client, next_url=""):
    response = client.get("/accounts/oidc/authenticate/" + (f"?next={next_url}" if next_url else ""))
    assert response.status_code == 302
    return response["Location"]


def come_back(client, callback_url):
    """The browser's return to the portal: the callback, on the test client's host."""
    parts = urlsplit(callback_url)
    assert parts.netloc == "testserver", callback_url
    return client.get(f"{parts.path}?{parts.query}")


def log_in(provider, username="olivia", client=None, next_url=""):
    client = client or Client()
    person = PersonAtProvider(username, provider.users[username]["password"])
    response = come_back(client, person.answer(start_login(client, next_url)))
    return client, response


def logged_in_user(client):
    return User.objects.filter(pk=client.session.get("_auth_user_id")).first()


def test_an_unconfigured_portal_shows_no_button_and_no_login_urls(client):
    page = client.get("/accounts/login/").content.decode()
    assert 'id="sso-login"' not in page and "single sign-on" not in page
    assert 'name="password"' in page  # the local form as before
    assert client.get("/accounts/oidc/authenticate/").status_code == 404
    assert client.get("/accounts/oidc/callback/?code=x&state=y").status_code == 404


def test_a_configured_portal_shows_its_button_beside_the_local_form(client, sso):
    page = client.get("/accounts/login/?next=/clusters/").content.decode()
    assert 'href="/accounts/oidc/authenticate/?next=/clusters/"' in page
    assert "Log in with Example SSO" in page
    assert 'name="password"' in page


def test_the_button_sends_the_browser_to_the_provider_with_state_nonce_and_pkce(client, sso):
    location = urlsplit(start_login(client))
    query = {name: values[0] for name, values in parse_qs(location.query).items()}
    assert f"{location.scheme}://{location.netloc}{location.path}" == sso.issuer + "/authorize/"
    assert query["client_id"] == sso.client_id and query["response_type"] == "code"
    assert query["redirect_uri"] == "http://testserver/accounts/oidc/callback/"
    assert query["scope"] == "openid email profile"
    assert query["state"] and query["nonce"] and query["code_challenge_method"] == "S256"


def test_the_first_login_makes_an_account_from_the_claims(sso):
    client, response = log_in(sso)
    assert response.status_code == 302 and response["Location"] == "/profiles/"
    user = logged_in_user(client)
    assert (user.username, user.email, user.first_name, user.last_name) == (
        "olivia", "olivia@example.org", "Olivia", "Okafor")  # fmt: skip
    assert not user.has_usable_password() and not user.is_staff
    identity = FederatedIdentity.objects.get(user=user)
    assert identity.issuer == sso.issuer and identity.subject and identity.last_login
    assert client.get("/profiles/").status_code == 200


def test_a_second_login_finds_the_same_account_and_refreshes_it_from_the_claims(sso):
    first, _ = log_in(sso)
    user = logged_in_user(first)
    User.objects.filter(pk=user.pk).update(email="old@example.org", first_name="Liv")
    second, response = log_in(sso)
    assert response.status_code == 302
    assert logged_in_user(second) == user
    user.refresh_from_db()
    assert (user.email, user.first_name) == ("olivia@example.org", "Olivia")
    assert User.objects.count() == 1 and FederatedIdentity.objects.count() == 1


def test_the_login_goes_on_to_the_page_that_asked_for_it(sso):
    _, response = log_in(sso, next_url="/clusters/")
    assert response["Location"] == "/clusters/"


def test_a_provider_account_with_a_local_name_and_email_never_gets_the_local_account(sso):
    admin = User.objects.create_superuser("admin", "root@example.org", PASSWORD)
    client, _ = log_in(sso, username="admin")  # the provider's "admin", with the same e-mail
    user = logged_in_user(client)
    assert user != admin
    assert user.username == "admin-2" and not user.is_staff and not user.is_superuser
    assert Client().login(username="admin", password=PASSWORD)  # the local admin login is kept


def test_without_a_username_claim_the_name_is_made_from_the_subject(sso, settings):
    settings.OIDC_USERNAME_CLAIM = ""
    client, _ = log_in(sso)
    assert logged_in_user(client).username.startswith("sso-")


def test_a_state_that_no_login_here_started_is_refused_with_a_clear_page(sso):
    client = Client()
    callback = PersonAtProvider("olivia", sso.users["olivia"]["password"]).answer(start_login(client))
    response = come_back(client, callback.replace("state=", "state=forged"))
    assert response.status_code == 400
    page = response.content.decode()
    assert "Login failed" in page and "does not belong to a login started in this browser" in page
    assert 'href="/accounts/login/"' in page
    assert logged_in_user(client) is None


def test_a_callback_in_a_browser_that_started_no_login_is_refused(sso):
    response = Client().get("/accounts/oidc/callback/?code=abc&state=def")
    assert response.status_code == 400
    assert "This login was not started here" in response.content.decode()


def test_an_id_token_whose_nonce_does_not_match_is_refused(sso):
    client = Client()
    authorize = start_login(client)
    session = client.session
    for entry in session["oidc_states"].values():
        entry["nonce"] = "not-the-one-the-provider-signed"
    session.save()
    response = come_back(
        client, PersonAtProvider("olivia", sso.users["olivia"]["password"]).answer(authorize)
    )
    assert response.status_code == 400
    assert "did not verify" in response.content.decode()
    assert logged_in_user(client) is None and not User.objects.exists()


def test_a_refusal_at_the_provider_is_shown(sso):
    client = Client()
    person = PersonAtProvider("olivia", sso.users["olivia"]["password"])
    response = come_back(client, person.answer(start_login(client), allow=False))
    assert response.status_code == 403
    assert "The identity provider did not log you in: access_denied" in response.content.decode()
    assert not User.objects.exists()


def test_an_id_token_from_another_issuer_is_refused(sso, settings):
    settings.OIDC_OP_ISSUER = "https://auth.example.org/realms/other"
    client, response = log_in(sso)
    assert response.status_code == 403
    assert "not from the configured issuer" in response.content.decode()
    assert logged_in_user(client) is None and not User.objects.exists()


def test_an_unreachable_provider_gives_a_clear_page(sso, settings):
    client = Client()
    callback = PersonAtProvider("olivia", sso.users["olivia"]["password"]).answer(start_login(client))
    settings.OIDC_OP_TOKEN_ENDPOINT = "http://127.0.0.1:9/token/"  # the discard port: nothing answers
    response = come_back(client, callback)
    assert response.status_code == 502
    assert "could not be reached" in response.content.decode()


def test_a_disabled_account_cannot_log_in(sso):
    client, _ = log_in(sso)
    User.objects.filter(pk=logged_in_user(client).pk).update(is_active=False)
    client, response = log_in(sso)
    assert response.status_code == 403
    assert "Your portal account is disabled" in response.content.decode()
    assert logged_in_user(client) is None


def test_logging_out_ends_the_portal_session(sso):
    client, _ = log_in(sso)
    response = client.post("/accounts/logout/")
    assert response.status_code == 302 and response["Location"] == "/"
    assert client.get("/profiles/").status_code == 302  # to the login page


def test_logging_out_ends_the_providers_session_too_when_configured(sso, settings):
    settings.OIDC_OP_LOGOUT_ENDPOINT = sso.issuer + "/logout/"
    client = Client()
    person = PersonAtProvider("olivia", sso.users["olivia"]["password"])
    come_back(client, person.answer(start_login(client)))
    response = client.post("/accounts/logout/")
    assert response["Location"].startswith(sso.issuer + "/logout/?id_token_hint=")
    assert client.get("/profiles/").status_code == 302

    back = person.session.get(response["Location"], allow_redirects=False, timeout=30)
    assert back.status_code == 302 and back.headers["Location"] == "http://testserver/"
    at_provider = person.session.get(start_login(Client()), allow_redirects=False, timeout=30)
    assert "/accounts/login/" in at_provider.headers["Location"]  # the provider asks for a login again


def test_the_local_login_form_still_works_when_the_provider_is_configured(sso, alice):
    response = Client().post("/accounts/login/", {"username": "alice", "password": PASSWORD})
    assert response.status_code == 302 and response["Location"] == "/profiles/"


def test_an_address_locked_for_wrong_passwords_is_locked_for_this_login_too(sso):
    for i in range(10):
        Client(REMOTE_ADDR="192.0.2.66").post("/accounts/login/", {"username": f"guess{i}", "password": "x"})
    client, response = log_in(sso, client=Client(REMOTE_ADDR="192.0.2.66"))
    assert response.status_code == 429
    assert "Too many failed logins" in response.content.decode()
    assert logged_in_user(client) is None


def test_the_providers_answer_works_once(sso):
    client = Client()
    callback = PersonAtProvider("olivia", sso.users["olivia"]["password"]).answer(start_login(client))
    assert come_back(client, callback).status_code == 302
    client.post("/accounts/logout/")
    replayed = come_back(client, callback)
    assert replayed.status_code == 400
    assert logged_in_user(client) is None
