"""Elastic roles through the cluster definitions API (docs/api.md, docs/elastic.md): a role's
`"elastic"` is null or its policy, `"spot"` a boolean; the editor's rules refuse with a 400; what
the page saves the API reads back and the other way round; a launch keeps the policy."""

import json

import pytest
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from clusters import launcher
from clusters.models import ClusterDefinition, Image, Role
from clusters.tests.cloud_helpers import make_cloud
from clusters.tests.definition_helpers import (
    WORKER_DOCUMENT,
    definition_data,
    make_offering,
    make_profile,
    role,
)

pytestmark = pytest.mark.django_db
URL = "/api/v1/cluster-definitions/"
POLICY = {"jobs_per_worker": 4, "idle_seconds": 600, "cooldown_seconds": 60, "drain_deadline_seconds": 1800}


def api_client(user):
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {Token.objects.get_or_create(user=user)[0].key}")
    return client


@pytest.fixture
def parts(alice):
    cloud = make_cloud(alice)
    return {"master": make_profile(alice, "master"), "worker": make_profile(alice, "worker", document=WORKER_DOCUMENT),
            "offering": make_offering("small"), "cloud": cloud,
            "image": Image.objects.create(cloud=cloud, name="AlmaLinux 9", provider_id="ami-1")}  # fmt: skip


def body(parts, **worker):
    """A master and an elastic worker role, 0 to 20, on spot capacity; `worker` changes it."""
    return {
        "name": "Elastic pool",
        "roles": [
            {"name": "master", "profile": parts["master"].pk, "size": "t2.micro", "image": parts["image"].pk},
            {"name": "worker", "profile": parts["worker"].pk, "size": "t2.micro", "image": parts["image"].pk,
             "min": 0, "max": 20, "depends_on": ["master"], "elastic": POLICY, "spot": True, **worker},
        ],
    }  # fmt: skip


def refusal(answer) -> list[str]:
    assert answer.status_code == 400, answer.content
    data = answer.json()
    assert data["detail"] and data["errors"]
    assert not ClusterDefinition.objects.exists()
    return data["errors"]


def test_it_creates_an_elastic_role_and_answers_its_policy(alice, parts):
    answer = api_client(alice).post(URL, body(parts), format="json")
    assert answer.status_code == 201, answer.json()
    master, worker = answer.json()["roles"]
    assert (master["elastic"], master["spot"]) == (None, False)
    assert (worker["elastic"], worker["spot"], worker["min"], worker["max"]) == (POLICY, True, 0, 20)
    stored = Role.objects.get(name="worker")
    assert (stored.elastic, stored.jobs_per_worker, stored.idle_seconds, stored.cooldown_seconds,
            stored.drain_deadline_seconds, stored.spot) == (True, 4, 600, 60, 1800, True)  # fmt: skip


def test_a_policy_leaving_keys_out_takes_the_usual_values(alice, parts):
    answer = api_client(alice).post(URL, body(parts, elastic={"jobs_per_worker": 8}), format="json")
    assert answer.status_code == 201, answer.json()
    assert answer.json()["roles"][1]["elastic"] == {
        "jobs_per_worker": 8, "idle_seconds": 600, "cooldown_seconds": 120, "drain_deadline_seconds": 3600}  # fmt: skip


def test_what_the_api_answers_it_takes_back_unchanged(alice, parts):
    client = api_client(alice)
    created = client.post(URL, body(parts), format="json").json()
    fields = {key: created[key] for key in ("name", "description", "visibility", "roles")}
    answer = client.put(f"{URL}{created['id']}/", fields, format="json")
    assert answer.status_code == 200, answer.json()
    assert answer.json()["roles"] == created["roles"]


def test_what_the_page_saves_the_api_reads_and_the_other_way_round(alice, alice_client, parts):
    worker = role("worker", parts["worker"], parts["image"], size="t2.micro", depends_on="master", elastic="on",
                  min_count=1, max_count=12, jobs_per_worker=2, idle_seconds=300, cooldown_seconds=30,
                  drain_deadline_seconds=900, spot="on")  # fmt: skip
    master = role("master", parts["master"], parts["image"], size="t2.micro")
    assert alice_client.post("/definitions/new/", definition_data(master, worker)).status_code == 302
    definition = ClusterDefinition.objects.get()

    read = api_client(alice).get(f"{URL}{definition.pk}/").json()["roles"][1]
    assert (read["min"], read["max"], read["spot"]) == (1, 12, True)
    assert read["elastic"] == {"jobs_per_worker": 2, "idle_seconds": 300, "cooldown_seconds": 30,
                               "drain_deadline_seconds": 900}  # fmt: skip

    changed = body(parts, elastic={**POLICY, "idle_seconds": 1200}, spot=False)
    assert api_client(alice).put(f"{URL}{definition.pk}/", changed, format="json").status_code == 200
    form = alice_client.get(f"/definitions/{definition.pk}/edit/").context["roles"].forms[1]
    assert (form["elastic"].value(), form["idle_seconds"].value(), form["spot"].value()) == (
        True,
        1200,
        False,
    )


def test_null_makes_the_role_fixed_again(alice, parts):
    client = api_client(alice)
    created = client.post(URL, body(parts), format="json").json()
    answer = client.put(f"{URL}{created['id']}/", body(parts, elastic=None, count=3), format="json")
    assert answer.status_code == 200, answer.json()
    assert answer.json()["roles"][1]["elastic"] is None and answer.json()["roles"][1]["count"] == 3
    assert Role.objects.get(name="worker").elastic is False


@pytest.mark.parametrize(
    ("worker", "message"),
    [
        ({"max": None}, "role 'worker': an elastic role needs a maximum count"),
        ({"min": 30}, "role 'worker': the minimum count 30 is above the maximum 20"),
        ({"max": 5000}, "role 'worker': an elastic role grows to at most 1000 instances, not 5000"),
        ({"elastic": {"jobs_per_worker": 0}}, "role 'worker': jobs per worker must be at least 1"),
        ({"elastic": {"idle_seconds": 0}}, "role 'worker': the idle time before a drain must be at least 1 second"),
        ({"elastic": {"drain_deadline_seconds": 0}}, "role 'worker': the drain deadline must be at least 1 second"),
        ({"elastic": {"cooldown_seconds": 2**31 - 1}},
         "role 'worker': the cool-down must be at most 30 days, not 2147483647 seconds"),
    ],
)  # fmt: skip
def test_it_refuses_a_policy_by_the_editors_rules(alice, parts, worker, message):
    assert message in refusal(api_client(alice).post(URL, body(parts, **worker), format="json"))


def test_it_refuses_two_elastic_roles(alice, parts):
    data = body(parts)
    data["roles"][0].update(elastic={}, min=1, max=2)
    assert refusal(api_client(alice).post(URL, data, format="json")) == [
        "role 'worker': only one role may be elastic, and 'master' already is: the head's queue feeds one elastic role"
    ]


def test_it_refuses_an_elastic_role_the_master_needs_that_starts_empty(alice, parts):
    data = body(parts)
    data["roles"][0].update(elastic=POLICY, max=3)  # the master elastic from 0, the workers need it
    data["roles"][1].update(elastic=None, count=2)
    assert refusal(api_client(alice).post(URL, data, format="json")) == [
        "role 'master': other roles need its address, so its minimum must be at least 1"
    ]


@pytest.mark.parametrize(
    "worker",
    [
        {"elastic": True},
        {"elastic": "yes"},
        {"elastic": [1]},
        {"elastic": {"idle_seconds": -1}},
        {"elastic": {"idle_seconds": "ten minutes"}},
        {"elastic": {"drain_deadline_seconds": 10**30}},
        {"spot": "maybe"},
        {"spot": None},
    ],
)
def test_it_refuses_malformed_policies_with_a_400(alice, parts, worker):
    refusal(api_client(alice).post(URL, body(parts, **worker), format="json"))


def test_a_launch_keeps_the_policy_and_starts_the_elastic_role_at_its_minimum(alice, parts):
    created = api_client(alice).post(URL, body(parts, min=2), format="json").json()
    definition = ClusterDefinition.objects.get(pk=created["id"])

    cluster = launcher.launch(
        definition, alice, "elastic", {"master": parts["cloud"], "worker": parts["cloud"]}
    )

    worker = cluster.role("worker")
    assert (worker["elastic"], worker["spot"], worker["count"], worker["min"], worker["max"]) == (
        POLICY, True, 2, 2, 20)  # fmt: skip
    assert cluster.role("master")["elastic"] is None
    assert cluster.instances.filter(role="worker").count() == 2


def test_the_schema_describes_the_policy(client):
    schema = json.loads(client.get("/api/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json").content)
    components = schema["components"]["schemas"]
    assert set(components["ElasticPolicyRequest"]["properties"]) == set(POLICY)
    role = components["RoleRequest"]["properties"]
    assert role["spot"]["type"] == "boolean"
    assert role["elastic"]["nullable"] is True
    assert role["elastic"]["allOf"] == [{"$ref": "#/components/schemas/ElasticPolicyRequest"}]
