"""JSON bodies that would break the server are a 400 in the API's error shape, never a 500:
nesting deeper than the parser allows, and text that is not valid Unicode (a lone surrogate)."""

import json

import pytest
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from contexts.models import Profile
from contexts.tests.profile_helpers import full_document

DEEP = "[" * 100_000 + "]" * 100_000


@pytest.fixture
def alice_api(alice):
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {Token.objects.create(user=alice).key}")
    return client


def post_json(client, url: str, text: str):
    return client.post(url, text, content_type="application/json")


def assert_refused(response, words: str):
    assert response.status_code == 400, response.content[:300]
    data = response.json()
    assert set(data) == {"detail", "errors"}
    assert words in data["detail"]
    assert data["errors"] and all(isinstance(e, str) for e in data["errors"])


def profile_body(document) -> str:
    return json.dumps({"name": "Worker", "document": document})


@pytest.mark.django_db
@pytest.mark.parametrize("url", ["/api/v1/profiles/", "/api/v1/cluster-definitions/"])
def test_json_nested_100000_levels_deep_is_a_400(alice_api, url):
    assert_refused(post_json(alice_api, url, '{"name": "x", "document": ' + DEEP + "}"), "nested")


@pytest.mark.django_db
def test_json_nested_deeper_than_64_levels_is_a_400(alice_api):
    body = profile_body({"schema": 1, "cloud_config": {"x": json.loads("[" * 70 + "]" * 70)}})
    assert_refused(post_json(alice_api, "/api/v1/profiles/", body), "nested too deeply")


@pytest.mark.django_db
def test_a_document_nested_deeper_than_32_levels_is_a_400_with_the_path(alice_api):
    body = profile_body({"schema": 1, "cloud_config": {"x": json.loads("[" * 40 + "]" * 40)}})
    response = post_json(alice_api, "/api/v1/profiles/", body)
    assert_refused(response, "The document is not valid.")
    assert response.json()["errors"] == [
        "cloud_config.x" + "[0]" * 30 + ": nested too deeply (the limit is 32 levels)"
    ]


@pytest.mark.django_db
def test_a_lone_surrogate_in_a_profile_document_is_a_400(alice_api, alice):
    body = profile_body(full_document() | {"env": {"GREETING": "hi"}}).replace("hi", "hi \\ud800")
    assert_refused(post_json(alice_api, "/api/v1/profiles/", body), "lone surrogate")
    assert not Profile.objects.filter(owner=alice).exists()


@pytest.mark.django_db
def test_a_lone_surrogate_in_a_profile_name_is_a_400(alice_api):
    body = json.dumps({"name": "Worker", "document": full_document()}).replace("Worker", "Wor\\udfffker")
    assert_refused(post_json(alice_api, "/api/v1/profiles/", body), "lone surrogate")


@pytest.mark.django_db
def test_a_lone_surrogate_in_a_key_is_a_400(alice_api):
    body = profile_body({"schema": 1, "cloud_config": {"KEY": 1}}).replace("KEY", "\\ud800")
    assert_refused(post_json(alice_api, "/api/v1/profiles/", body), "lone surrogate")


@pytest.mark.django_db
def test_a_lone_surrogate_in_a_cluster_definition_is_a_400(alice_api):
    body = '{"name": "\\ud800", "roles": [{"name": "worker", "profile": 1, "image": 1}]}'
    assert_refused(post_json(alice_api, "/api/v1/cluster-definitions/", body), "lone surrogate")


@pytest.mark.django_db
def test_a_nul_in_a_document_key_is_a_400(alice_api):
    body = profile_body({"schema": 1, "cloud_config": {"a\x00b": 1}})
    response = post_json(alice_api, "/api/v1/profiles/", body)
    assert_refused(response, "The document is not valid.")
    assert response.json()["errors"] == [
        "cloud_config: the key 'a\\x00b' holds a NUL character, which is not allowed"
    ]


@pytest.mark.django_db
def test_views_with_their_own_parsers_refuse_deep_json_too(client):
    response = client.post("/api/v1/pairing/", DEEP, content_type="application/json")
    assert_refused(response, "nested")


@pytest.mark.django_db
def test_a_paired_surrogate_is_fine(alice_api):
    body = profile_body(full_document() | {"env": {"GREETING": "hi \U0001f600"}})
    assert post_json(alice_api, "/api/v1/profiles/", body).status_code == 201
