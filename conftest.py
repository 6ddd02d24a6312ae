"""Shared test fixtures: named users as in the feature list (alice owns, bob is another
user, charlie is a stranger), and a client logged in as each."""

import pytest

PASSWORD = "correct horse battery staple"


def _user(django_user_model, username):
    return django_user_model.objects.create_user(username=username, password=PASSWORD)


@pytest.fixture
def alice(django_user_model):
    return _user(django_user_model, "alice")


@pytest.fixture
def bob(django_user_model):
    return _user(django_user_model, "bob")


@pytest.fixture
def charlie(django_user_model):
    return _user(django_user_model, "charlie")


def _client_for(client, user):
    client.force_login(user)
    return client


@pytest.fixture
def alice_client(client, alice):
    return _client_for(client, alice)


@pytest.fixture
def charlie_client(client, charlie):
    return _client_for(client, charlie)
