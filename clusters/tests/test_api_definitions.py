"""The cluster definitions API (docs/api.md): create, read, change and delete with the editor's rules."""

import pytest
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from clusters.models import ClusterDefinition
from clusters.tests.definition_helpers import (
    WORKER_DOCUMENT,
    make_definition,
    make_image,
    make_offering,
    make_profile,
)

pytestmark = pytest.mark.django_db
URL = "/api/v1/cluster-definitions/"


def api_client(user):
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {Token.objects.get_or_create(user=user)[0].key}")
    return client


@pytest.fixture
def parts(alice):
    return {"master": make_profile(alice, "master"), "worker": make_profile(alice, "worker", document=WORKER_DOCUMENT),
            "offering": make_offering("small"), "image": make_image(alice)}  # fmt: skip


def body(parts, **changes):
    data = {
        "name": "Condor pool",
        "description": "An HTCondor pool.",
        "visibility": "private",
        "roles": [
            {"name": "master", "profile": parts["master"].pk, "offering": "small", "image": parts["image"].pk,
             "count": 1},
            {"name": "worker", "profile": parts["worker"].pk, "size": "t2.micro", "image": parts["image"].pk,
             "count": 5, "min": 1, "max": 10, "depends_on": ["master"], "revision": 1},
        ],
    }  # fmt: skip
    data.update(changes)
    return data


def test_it_creates_a_definition_with_its_roles(alice, parts):
    answer = api_client(alice).post(URL, body(parts), format="json")
    assert answer.status_code == 201, answer.json()
    data = answer.json()
    assert data["name"] == "Condor pool" and data["owner"] == "alice"
    master, worker = data["roles"]
    assert master == {"name": "master", "profile": parts["master"].pk, "revision": None, "offering": "small",
                      "size": "", "image": parts["image"].pk, "count": 1, "min": 0, "max": None, "depends_on": [],
                      "elastic": None, "spot": False}  # fmt: skip
    assert worker["size"] == "t2.micro" and worker["revision"] == 1 and worker["max"] == 10
    definition = ClusterDefinition.objects.get(pk=data["id"])
    assert [r.name for r in definition.roles.all()] == ["master", "worker"]


def test_it_refuses_a_definition_with_problems(alice, parts):
    data = body(parts)
    data["roles"][1]["depends_on"] = ["storage"]
    data["roles"][0]["count"] = 3
    data["roles"][0]["max"] = 2
    answer = api_client(alice).post(URL, data, format="json")
    assert answer.status_code == 400
    errors = answer.json()["errors"]
    assert answer.json()["detail"]
    assert any("storage" in e for e in errors)
    assert not ClusterDefinition.objects.exists()


@pytest.mark.parametrize(
    "change",
    [
        {"roles": "master"},
        {"roles": []},
        {"roles": [{"name": "Master!", "profile": "x", "image": None, "count": -1}]},
        {"roles": [{"name": "master", "profile": 999, "image": 999, "offering": "huge"}]},
        {"name": ""},
        {"visibility": "everyone"},
        {"roles": [{"name": "m", "profile": 1, "image": 1, "count": 10**12}]},
        {"roles": [{"name": "m", "profile": [1], "image": {"a": 1}, "depends_on": "master"}]},
        {"roles": [{"name": "m", "profile": 10**30, "image": 10**30, "revision": 10**30}]},
        {"roles": [{"count": 2}]},
    ],
)
def test_it_refuses_bad_input_with_a_400(alice, parts, change):
    answer = api_client(alice).post(URL, body(parts, **change), format="json")
    assert answer.status_code == 400
    assert answer.json()["detail"] and answer.json()["errors"]


def test_it_refuses_bodies_that_are_not_objects(alice):
    client = api_client(alice)
    assert client.post(URL, [1, 2], format="json").status_code == 400
    assert client.post(URL, "{not json", content_type="application/json").status_code == 400


def test_it_refuses_a_strangers_private_profile_and_image(alice, charlie, parts):
    answer = api_client(charlie).post(URL, body(parts), format="json")
    assert answer.status_code == 400
    assert any("profile" in e for e in answer.json()["errors"])


def test_it_refuses_a_name_taken(alice, parts):
    client = api_client(alice)
    assert client.post(URL, body(parts), format="json").status_code == 201
    answer = client.post(URL, body(parts), format="json")
    assert answer.status_code == 400
    assert "already" in answer.json()["errors"][0]


def test_it_lists_mine_and_on_request_the_public_ones(alice, bob, parts):
    make_definition(bob, "Bob's public", visibility="public")
    make_definition(bob, "Bob's private")
    client = api_client(alice)
    client.post(URL, body(parts), format="json")
    assert [d["name"] for d in client.get(URL).json()] == ["Condor pool"]
    shown = {d["name"] for d in client.get(URL, {"show": "public"}).json()}
    assert shown == {"Condor pool", "Bob's public"}


def test_it_replaces_the_roles_on_put_and_keeps_them_on_patch(alice, parts):
    client = api_client(alice)
    created = client.post(URL, body(parts), format="json").json()
    data = body(parts, name="Renamed")
    data["roles"] = data["roles"][:1]
    answer = client.put(f"{URL}{created['id']}/", data, format="json")
    assert answer.status_code == 200, answer.json()
    assert [r["name"] for r in answer.json()["roles"]] == ["master"]
    answer = client.patch(f"{URL}{created['id']}/", {"description": "new"}, format="json")
    assert answer.status_code == 200
    assert answer.json()["description"] == "new" and answer.json()["name"] == "Renamed"
    assert len(answer.json()["roles"]) == 1


def test_a_role_keeps_its_id_across_saves_through_the_api_as_through_the_page(alice, parts):
    """One way to save roles (clusters.definitions.save_roles): the same role, the same row."""
    client = api_client(alice)
    created = client.post(URL, body(parts), format="json").json()
    definition = ClusterDefinition.objects.get(pk=created["id"])
    ids = dict(definition.roles.values_list("name", "pk"))
    data = body(parts)
    data["roles"] = list(reversed(data["roles"]))  # reordered, and the worker grows
    data["roles"][0]["count"] = 7
    assert client.put(f"{URL}{created['id']}/", data, format="json").status_code == 200
    assert [(r.name, r.pk, r.position, r.count) for r in definition.roles.order_by("position")] == [
        ("worker", ids["worker"], 0, 7),
        ("master", ids["master"], 1, 1),
    ]
    data["roles"] = data["roles"][1:]  # the worker goes: its row with it
    assert client.put(f"{URL}{created['id']}/", data, format="json").status_code == 200
    assert list(definition.roles.values_list("name", "pk")) == [("master", ids["master"])]


def test_a_role_keeps_an_offering_made_inactive_as_in_the_editor_but_a_new_role_cannot_take_it(alice, parts):
    """One set of choice rules for the page and the API (clusters.definitions.usable_*)."""
    client = api_client(alice)
    created = client.post(URL, body(parts), format="json").json()
    parts["offering"].active = False
    parts["offering"].save()
    data = body(parts)
    assert client.put(f"{URL}{created['id']}/", data, format="json").status_code == 200
    data["roles"][0]["name"] = "head"  # a new role (the master's row goes): it may not take it
    data["roles"][1]["depends_on"] = ["head"]
    answer = client.put(f"{URL}{created['id']}/", data, format="json")
    assert answer.status_code == 400
    assert "no active offering named 'small'" in str(answer.json())


def test_it_checks_a_change_like_a_creation(alice, parts):
    client = api_client(alice)
    created = client.post(URL, body(parts), format="json").json()
    data = body(parts)
    data["roles"][0]["count"] = 0  # the workers need the master's address
    answer = client.put(f"{URL}{created['id']}/", data, format="json")
    assert answer.status_code == 400
    assert any("needs at least one instance" in e for e in answer.json()["errors"])


def test_it_deletes_a_definition(alice, parts):
    client = api_client(alice)
    created = client.post(URL, body(parts), format="json").json()
    assert client.delete(f"{URL}{created['id']}/").status_code == 204
    assert not ClusterDefinition.objects.exists()


def test_strangers_get_a_404_for_private_definitions(alice, charlie, parts):
    created = api_client(alice).post(URL, body(parts), format="json").json()
    client = api_client(charlie)
    for method in ("get", "put", "patch", "delete"):
        answer = getattr(client, method)(f"{URL}{created['id']}/", {}, format="json")
        assert answer.status_code == 404
        assert answer.json()["detail"]


def test_public_definitions_are_readable_not_writable(alice, charlie, parts):
    created = api_client(alice).post(URL, body(parts, visibility="public"), format="json").json()
    client = api_client(charlie)
    assert client.get(f"{URL}{created['id']}/").json()["is_owner"] is False
    assert client.patch(f"{URL}{created['id']}/", {"name": "mine"}, format="json").status_code == 404
    assert client.delete(f"{URL}{created['id']}/").status_code == 404


def test_it_needs_a_token(alice):
    assert APIClient().get(URL).status_code == 401
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION="Token nope")
    assert client.get(URL).status_code == 401


def test_a_patch_with_roles_needs_whole_roles(alice, parts):
    client = api_client(alice)
    created = client.post(URL, body(parts), format="json").json()
    answer = client.patch(
        f"{URL}{created['id']}/", {"roles": [{"name": "master", "count": 2}]}, format="json"
    )
    assert answer.status_code == 400
    assert any("profile" in e for e in answer.json()["errors"])


def test_the_list_is_one_json_array_not_pages(alice):
    for number in range(21):  # more than a page of the paginated lists (PAGE_SIZE)
        make_definition(alice, f"pool {number}")
    answer = api_client(alice).get(URL)
    assert isinstance(answer.json(), list) and len(answer.json()) == 21
