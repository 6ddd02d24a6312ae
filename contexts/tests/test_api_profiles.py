"""The profiles API (docs/api.md): CRUD with the contract's field names, the page's ownership rules,
redacted documents, user-data identical to render_revision, and JSON 400s for bad input."""

import json
from urllib.parse import urlencode

import pytest
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from contexts.models import Profile
from contexts.profiles import plain_document, render_revision
from contexts.secrets import REDACTED
from contexts.templating import parse_variables
from contexts.tests.profile_helpers import (
    POOL_PASSWORD,
    assert_no_secret,
    full_document,
    make_profile,
)

VARS = ["cluster.name=demo", "role.name=worker", "instance.index=0", "roles.master.address=10.0.0.5"]


def api_client(user) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {Token.objects.create(user=user).key}")
    return client


@pytest.fixture
def alice_api(alice):
    return api_client(alice)


@pytest.fixture
def charlie_api(charlie):
    return api_client(charlie)


def render_url(profile_id, fmt="cloud-init", variables=VARS, **extra) -> str:
    query = urlencode([("format", fmt), *(("var", v) for v in variables), *extra.items()])
    return f"/api/v1/profiles/{profile_id}/render/?{query}"


@pytest.mark.django_db
def test_it_creates_a_profile_with_the_contract_fields(alice_api, alice):
    body = {"name": "Worker", "visibility": "private", "tags": ["cms"], "document": full_document()}
    response = alice_api.post("/api/v1/profiles/", body, format="json")
    assert response.status_code == 201
    data = response.json()
    assert data["revision"] == 1
    assert data["tags"] == ["cms"]
    profile = Profile.objects.get(pk=data["id"], owner=alice)
    assert data["document"]["root"]["password"] == REDACTED
    assert_no_secret(response.content.decode(), profile)


@pytest.mark.django_db
def test_it_needs_a_token(alice):
    assert APIClient().get("/api/v1/profiles/").status_code in (401, 403)
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION="Token not-a-token")
    assert client.get("/api/v1/profiles/").status_code == 401


@pytest.mark.django_db
def test_it_lists_own_profiles_and_public_ones_on_request(alice_api, alice, bob):
    mine = make_profile(alice)
    public = make_profile(bob, visibility="public", name="Shared")
    make_profile(bob, name="Bob's secret")
    own = alice_api.get("/api/v1/profiles/").json()
    assert own["count"] == 1
    assert [p["id"] for p in own["results"]] == [mine.pk]
    shown = alice_api.get("/api/v1/profiles/?public=1").json()
    assert [p["id"] for p in shown["results"]] == [public.pk]


@pytest.mark.django_db
def test_it_reads_a_profile_with_its_document_redacted(alice_api, alice):
    profile = make_profile(alice)
    response = alice_api.get(f"/api/v1/profiles/{profile.pk}/")
    assert response.status_code == 200
    data = response.json()
    assert {"id", "name", "visibility", "tags", "revision", "document", "owner"} <= set(data)
    assert data["document"]["services"]["condor"]["pool_password"] == REDACTED
    assert_no_secret(response.content.decode(), profile)


@pytest.mark.django_db
def test_a_document_change_makes_a_new_revision_and_keeps_redacted_secrets(alice_api, alice):
    profile = make_profile(alice)
    document = alice_api.get(f"/api/v1/profiles/{profile.pk}/").json()["document"]
    document["timezone"] = "UTC"
    response = alice_api.patch(f"/api/v1/profiles/{profile.pk}/", {"document": document}, format="json")
    assert response.status_code == 200
    assert response.json()["revision"] == 2
    profile.refresh_from_db()
    assert profile.latest.number == 2
    assert plain_document(profile.latest)["services"]["condor"]["pool_password"] == POOL_PASSWORD


@pytest.mark.django_db
def test_the_same_document_or_metadata_makes_no_revision(alice_api, alice):
    profile = make_profile(alice)
    document = alice_api.get(f"/api/v1/profiles/{profile.pk}/").json()["document"]
    body = {"name": "Renamed", "visibility": "public", "tags": ["atlas"], "document": document}
    response = alice_api.put(f"/api/v1/profiles/{profile.pk}/", body, format="json")
    assert response.status_code == 200
    data = response.json()
    assert (data["revision"], data["name"], data["visibility"], data["tags"]) == (
        1,
        "Renamed",
        "public",
        ["atlas"],
    )


@pytest.mark.django_db
def test_it_deletes_a_profile(alice_api, alice):
    profile = make_profile(alice)
    assert alice_api.delete(f"/api/v1/profiles/{profile.pk}/").status_code == 204
    assert not Profile.objects.filter(pk=profile.pk).exists()


@pytest.mark.django_db
def test_a_stranger_gets_404_on_a_private_profile(charlie_api, alice):
    profile = make_profile(alice)
    url = f"/api/v1/profiles/{profile.pk}/"
    for response in (
        charlie_api.get(url),
        charlie_api.patch(url, {"name": "x"}, format="json"),
        charlie_api.delete(url),
        charlie_api.get(render_url(profile.pk)),
        charlie_api.post(f"{url}fork/"),
    ):
        assert response.status_code == 404
        assert "detail" in response.json()
    assert Profile.objects.filter(pk=profile.pk, name="Condor worker").exists()


@pytest.mark.django_db
def test_a_stranger_reads_but_cannot_change_a_public_profile(charlie_api, alice):
    profile = make_profile(alice, visibility="public")
    url = f"/api/v1/profiles/{profile.pk}/"
    assert charlie_api.get(url).status_code == 200
    assert charlie_api.patch(url, {"name": "mine"}, format="json").status_code == 404
    assert charlie_api.delete(url).status_code == 404


@pytest.mark.django_db
@pytest.mark.parametrize("fmt", ["cloud-init", "amiconfig", "shell"])
def test_the_owner_renders_the_same_bytes_as_render_revision(alice_api, alice, fmt):
    profile = make_profile(alice)
    response = alice_api.get(render_url(profile.pk, fmt))
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/plain")
    assert response.content == render_revision(profile.latest, parse_variables(VARS), fmt)


@pytest.mark.django_db
def test_a_stranger_renders_the_redacted_user_data(charlie_api, alice):
    profile = make_profile(alice, visibility="public")
    response = charlie_api.get(render_url(profile.pk))
    assert response.status_code == 200
    assert response.content == render_revision(
        profile.latest, parse_variables(VARS), "cloud-init", redact=True
    )
    assert_no_secret(response.content.decode(), profile)


@pytest.mark.django_db
def test_it_renders_an_older_revision(alice_api, alice):
    profile = make_profile(alice)
    first = profile.latest
    document = alice_api.get(f"/api/v1/profiles/{profile.pk}/").json()["document"]
    document["hostname"] = "other"
    alice_api.patch(f"/api/v1/profiles/{profile.pk}/", {"document": document}, format="json")
    response = alice_api.get(render_url(profile.pk, revision="1"))
    assert response.content == render_revision(first, parse_variables(VARS), "cloud-init")


@pytest.mark.django_db
def test_it_forks_a_public_profile_without_its_secrets(charlie_api, alice, charlie):
    profile = make_profile(alice, visibility="public")
    response = charlie_api.post(f"/api/v1/profiles/{profile.pk}/fork/")
    assert response.status_code == 201
    data = response.json()
    assert data["owner"] == "charlie"
    assert data["visibility"] == "private"
    assert data["forked_from"] == profile.pk
    assert_no_secret(response.content.decode(), profile)


BAD_PROFILES = [
    {"name": "x", "document": {"schema": 1, "users": "nope"}},  # broken document
    {"name": "x", "document": {"schema": 1, "hostname": "{{ nosuch.variable }}"}},  # unknown variable
    {"name": "x", "document": {"schema": 1, "hostname": "{{ cluster.name"}},  # template syntax
    {"name": ["x"], "document": {"schema": 1}},  # wrong types
    {"name": "x", "document": "schema: 1"},
    {"name": "x", "visibility": "secret", "document": {"schema": 1}},
    {"name": "x", "tags": "cms", "document": {"schema": 1}},
    {"document": {"schema": 1}},
    [],
]


@pytest.mark.django_db
@pytest.mark.parametrize("body", BAD_PROFILES)
def test_bad_profiles_are_a_json_400(alice_api, body):
    response = alice_api.post("/api/v1/profiles/", body, format="json")
    assert response.status_code == 400, response.content
    data = response.json()
    assert data["detail"]
    assert data["errors"]
    assert all(isinstance(e, str) for e in data["errors"])


@pytest.mark.django_db
def test_a_broken_json_body_is_a_json_400(alice_api):
    response = alice_api.generic("POST", "/api/v1/profiles/", "{not json", content_type="application/json")
    assert response.status_code == 400
    assert "detail" in response.json()


@pytest.mark.django_db
def test_a_broken_document_change_is_a_json_400_and_no_revision(alice_api, alice):
    profile = make_profile(alice)
    url = f"/api/v1/profiles/{profile.pk}/"
    response = alice_api.patch(url, {"document": {"schema": 1, "users": 5}}, format="json")
    assert response.status_code == 400
    assert response.json()["errors"]
    assert profile.revisions.count() == 1


@pytest.mark.django_db
@pytest.mark.parametrize(
    "url_args",
    [
        {"fmt": "docx"},
        {"variables": ["no-equals-sign"]},
        {"variables": ["bad..name=1"]},
        {"variables": ["roles.master=1"]},
        {"revision": "7"},
        {"revision": "one"},
        {"provider": "nosuchcloud"},
    ],
)
def test_bad_render_requests_are_a_json_400(alice_api, alice, url_args):
    profile = make_profile(alice)
    extra = {k: v for k, v in url_args.items() if k in ("revision", "provider")}
    args = {k: v for k, v in url_args.items() if k in ("fmt", "variables")}
    response = alice_api.get(render_url(profile.pk, **args, **extra))
    assert response.status_code == 400
    assert response.json()["detail"]


@pytest.mark.django_db
def test_responses_never_hold_a_secret(alice_api, alice):
    profile = make_profile(alice, visibility="public")
    texts = [
        alice_api.get("/api/v1/profiles/").content,
        alice_api.get("/api/v1/profiles/?public=1").content,
        alice_api.get(f"/api/v1/profiles/{profile.pk}/").content,
    ]
    for text in texts:
        assert_no_secret(text.decode(), profile)
        json.loads(text)


@pytest.mark.django_db
def test_options_and_huge_ids_are_no_500(alice_api, alice):
    profile = make_profile(alice)
    assert alice_api.options(f"/api/v1/profiles/{profile.pk}/").status_code == 200
    assert alice_api.options(f"/api/v1/profiles/{profile.pk}/fork/").status_code == 200
    assert alice_api.get(f"/api/v1/profiles/{'9' * 30}/").status_code == 404
    assert alice_api.get(render_url(profile.pk, revision="9" * 30)).status_code == 400
