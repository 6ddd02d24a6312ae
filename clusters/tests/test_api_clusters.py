"""The clusters API (docs/api.md): launch a definition, read a cluster with its instances, scale,
retry, terminate; strangers get a 404 and bad input a 400, never a 500."""

from unittest.mock import patch

import pytest
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from clusters import launcher
from clusters.models import Cluster, Image, Instance, InstanceState
from clusters.tests.cloud_helpers import make_cloud
from clusters.tests.definition_helpers import WORKER_DOCUMENT, make_definition, make_profile

pytestmark = pytest.mark.django_db
URL = "/api/v1/clusters/"


def api_client(user):
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {Token.objects.get_or_create(user=user)[0].key}")
    return client


@pytest.fixture(autouse=True)
def _every_queue_served():
    """The launch answer warns about unserved queues; asking the workers is not what is tested."""
    with patch("clusters.api_launch.unserved_queues", autospec=True, return_value=[]) as unserved:
        yield unserved


@pytest.fixture
def cloud(alice):
    return make_cloud(alice)


@pytest.fixture
def definition(alice, cloud):
    image = Image.objects.create(cloud=cloud, name="AlmaLinux 9", provider_id="ami-1")
    master, worker = make_profile(alice, "master"), make_profile(alice, "worker", document=WORKER_DOCUMENT)
    return make_definition(alice, roles=[
        {"name": "master", "profile": master, "size": "t2.micro", "image": image, "count": 1},
        {"name": "worker", "profile": worker, "size": "t2.micro", "image": image, "count": 2, "max_count": 4,
         "depends_on": ["master"]},
    ])  # fmt: skip


def launched(alice, definition, cloud):
    return launcher.launch(definition, alice, "demo", {"master": cloud, "worker": cloud})


def test_it_launches_a_definition_on_a_cloud(alice, definition, cloud):
    answer = api_client(alice).post(URL, {"definition": definition.pk, "name": "demo", "cloud": cloud.pk},
                                    format="json")  # fmt: skip
    assert answer.status_code == 201, answer.json()
    data = answer.json()
    assert data["state"] == "launching" and data["wanted"] == 3 and data["warnings"] == []
    cluster = Cluster.objects.get(pk=data["id"])
    assert cluster.owner == alice and cluster.instances.count() == 3


def test_it_launches_with_a_placement_per_role(alice, definition, cloud):
    other = make_cloud(alice, name="Other EC2")
    Image.objects.create(cloud=other, name="AlmaLinux 9", provider_id="ami-2")
    body = {
        "definition": definition.pk,
        "name": "demo",
        "placement": {"master": cloud.pk, "worker": other.pk},
    }
    answer = api_client(alice).post(URL, body, format="json")
    assert answer.status_code == 201, answer.json()
    clouds = {i["role"]: i["cloud"] for i in answer.json()["instances"]}
    assert clouds == {"master": cloud.pk, "worker": other.pk}


def test_it_warns_when_nobody_serves_the_queue(alice, definition, cloud, _every_queue_served):
    _every_queue_served.return_value = ["default"]
    answer = api_client(alice).post(URL, {"definition": definition.pk, "name": "demo", "cloud": cloud.pk},
                                    format="json")  # fmt: skip
    assert answer.status_code == 201
    assert "default" in answer.json()["warnings"][0]


def test_it_refuses_a_launch_the_plan_refuses(alice, definition, cloud):
    other = make_cloud(alice, name="No images")
    answer = api_client(alice).post(URL, {"definition": definition.pk, "name": "demo", "cloud": other.pk},
                                    format="json")  # fmt: skip
    assert answer.status_code == 400
    assert any("no image named" in e for e in answer.json()["errors"])
    assert not Cluster.objects.exists()


def test_it_refuses_a_strangers_cloud(alice, charlie, definition):
    theirs = make_cloud(charlie, name="Charlie's")
    answer = api_client(alice).post(URL, {"definition": definition.pk, "name": "demo", "cloud": theirs.pk},
                                    format="json")  # fmt: skip
    assert answer.status_code == 400
    assert answer.json()["errors"] == [f"no cloud {theirs.pk} you can use"]


def test_a_stranger_cannot_launch_a_private_definition(charlie, definition):
    theirs = make_cloud(charlie, name="Charlie's")
    answer = api_client(charlie).post(URL, {"definition": definition.pk, "name": "demo", "cloud": theirs.pk},
                                      format="json")  # fmt: skip
    assert answer.status_code == 404


@pytest.mark.parametrize(
    "body",
    [
        {},
        {"definition": "one", "name": "demo", "cloud": 1},
        {"definition": 1, "name": "Demo Cluster!", "cloud": 1},
        {"definition": 1, "name": "demo"},
        {"definition": 1, "name": "demo", "placement": ["master"]},
        {"definition": 1, "name": "demo", "placement": {"master": "x"}},
        {"definition": 1, "name": ["demo"], "cloud": {"id": 1}},
        {"definition": 10**30, "name": "demo", "cloud": 10**30},
        {"definition": 1, "name": "demo", "placement": {"master": 10**30}},
    ],
)
def test_it_refuses_bad_launch_input_with_a_400(alice, body):
    answer = api_client(alice).post(URL, body, format="json")
    assert answer.status_code == 400
    assert answer.json()["detail"] and answer.json()["errors"]


def test_it_refuses_a_placement_naming_no_role(alice, definition, cloud):
    body = {
        "definition": definition.pk,
        "name": "demo",
        "cloud": cloud.pk,
        "placement": {"storage": cloud.pk},
    }
    answer = api_client(alice).post(URL, body, format="json")
    assert answer.status_code == 400
    assert "storage" in answer.json()["errors"][0]


def test_it_shows_a_cluster_with_its_instances(alice, definition, cloud):
    cluster = launched(alice, definition, cloud)
    Instance.objects.filter(cluster=cluster, role="master").update(
        state=InstanceState.RUNNING, node_id="i-1", private_ips=["10.0.0.1"]
    )
    Instance.objects.filter(cluster=cluster, role="worker", index=1).update(
        state=InstanceState.FAILED, last_error="quota exceeded"
    )
    data = api_client(alice).get(f"{URL}{cluster.pk}/").json()
    assert data["id"] == cluster.pk and data["state"] == "launching" and data["name"] == "demo"
    master = data["instances"][0]
    assert {k: master[k] for k in ("role", "index", "state", "node_id", "public_ips", "private_ips", "error")} == {
        "role": "master", "index": 0, "state": "running", "node_id": "i-1", "public_ips": [],
        "private_ips": ["10.0.0.1"], "error": "",
    }  # fmt: skip
    assert data["instances"][2]["error"] == "quota exceeded"
    assert (data["up"], data["wanted"], data["failed"]) == (1, 3, 1)


def test_it_lists_only_my_clusters(alice, charlie, definition, cloud):
    launched(alice, definition, cloud)
    assert [c["name"] for c in api_client(alice).get(URL).json()] == ["demo"]
    assert api_client(charlie).get(URL).json() == []


def test_strangers_get_a_404(alice, charlie, definition, cloud):
    cluster = launched(alice, definition, cloud)
    client = api_client(charlie)
    assert client.get(f"{URL}{cluster.pk}/").status_code == 404
    for action in ("scale", "terminate", "retry"):
        assert (
            client.post(
                f"{URL}{cluster.pk}/{action}/", {"role": "worker", "count": 1}, format="json"
            ).status_code
            == 404
        )
    assert Cluster.objects.get(pk=cluster.pk).state == "launching"


def test_it_scales_a_role(alice, definition, cloud):
    cluster = launched(alice, definition, cloud)
    answer = api_client(alice).post(
        f"{URL}{cluster.pk}/scale/", {"role": "worker", "count": 4}, format="json"
    )
    assert answer.status_code == 200, answer.json()
    assert Instance.objects.filter(cluster=cluster, role="worker").count() == 4


@pytest.mark.parametrize(
    "body",
    [
        {"role": "worker", "count": 5},  # above the role's max
        {"role": "storage", "count": 1},
        {"role": "worker", "count": -1},
        {"role": "worker", "count": "many"},
        {"role": ["worker"], "count": 1},
        {"count": 1},
        {},
    ],
)
def test_it_refuses_a_bad_scale_with_a_400(alice, definition, cloud, body):
    cluster = launched(alice, definition, cloud)
    answer = api_client(alice).post(f"{URL}{cluster.pk}/scale/", body, format="json")
    assert answer.status_code == 400
    assert answer.json()["errors"]


def test_it_terminates_a_cluster(alice, definition, cloud):
    cluster = launched(alice, definition, cloud)
    answer = api_client(alice).post(f"{URL}{cluster.pk}/terminate/")
    assert answer.status_code == 200
    assert answer.json()["state"] == "terminating"
    assert Cluster.objects.get(pk=cluster.pk).state == "terminating"


def test_it_retries_failed_instances(alice, definition, cloud):
    cluster = launched(alice, definition, cloud)
    Instance.objects.filter(cluster=cluster, role="worker").update(state=InstanceState.FAILED, last_error="x")
    answer = api_client(alice).post(f"{URL}{cluster.pk}/retry/")
    assert answer.status_code == 200
    assert answer.json()["retried"] == 2
    assert not Instance.objects.filter(cluster=cluster, state=InstanceState.FAILED).exists()


def test_unknown_clusters_are_404s(alice):
    assert api_client(alice).get(f"{URL}999/").status_code == 404
    assert api_client(alice).post(f"{URL}999/terminate/").status_code == 404


def test_the_list_is_one_json_array_not_pages(alice, definition, cloud):
    for number in range(21):  # more than a page of the paginated lists (PAGE_SIZE)
        launcher.launch(definition, alice, f"demo-{number}", {"master": cloud, "worker": cloud})
    answer = api_client(alice).get(URL)
    assert isinstance(answer.json(), list) and len(answer.json()) == 21


def test_options_describes_what_each_endpoint_takes_and_is_never_a_500(alice, definition, cloud):
    cluster = launched(alice, definition, cloud)
    client = api_client(alice)
    described = {}
    for url in ("/api/v1/cluster-definitions/", f"/api/v1/cluster-definitions/{definition.pk}/", URL,
                f"{URL}{cluster.pk}/", f"{URL}{cluster.pk}/scale/", f"{URL}{cluster.pk}/terminate/",
                f"{URL}{cluster.pk}/retry/"):  # fmt: skip
        answer = client.options(url)
        assert answer.status_code == 200, url
        described[url] = {method: set(fields) for method, fields in answer.json().get("actions", {}).items()}
    assert {"name", "roles"} <= described["/api/v1/cluster-definitions/"]["POST"]
    assert {"name", "roles"} <= described[f"/api/v1/cluster-definitions/{definition.pk}/"]["PUT"]
    assert described[URL]["POST"] == {
        "definition",
        "name",
        "cloud",
        "placement",
        "budget_per_day",
        "budget_total",
    }
    assert described[f"{URL}{cluster.pk}/scale/"]["POST"] == {"role", "count"}
    assert described[f"{URL}{cluster.pk}/terminate/"]["POST"] == set()
    assert described[f"{URL}{cluster.pk}/retry/"]["POST"] == {"revision"}
