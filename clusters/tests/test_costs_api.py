"""What clusters cost, in the REST API (docs/costs.md, docs/api.md): the cluster detail's `usage`,
the budgets a launch takes, and `budget/` that sets or clears them; strangers get a 404 and bad
input a 400 that says what is wrong."""

from datetime import UTC, datetime, timedelta
from decimal import Decimal
from unittest.mock import patch

import pytest

from clusters.models import Cluster
from clusters.tests.cost_helpers import add_known_usage, priced_cluster, priced_definition
from clusters.tests.test_api_clusters import api_client

pytestmark = pytest.mark.django_db
HOUR = timedelta(hours=1)


@pytest.fixture
def cluster(alice):
    return add_known_usage(priced_cluster(alice), datetime.now(UTC))


def test_the_cluster_detail_shows_its_usage(alice, cluster):
    Cluster.objects.filter(pk=cluster.pk).update(budget_total=Decimal(40))
    usage = api_client(alice).get(f"/api/v1/clusters/{cluster.pk}/").json()["usage"]
    assert usage == {"instance_hours": 5.0, "core_hours": 16.0, "cost": "4.00", "hourly_rate": "0.5000",
                     "budget_per_day": None, "budget_total": "40.00"}  # fmt: skip


def test_the_budget_action_sets_changes_and_clears(alice, cluster):
    client, url = api_client(alice), f"/api/v1/clusters/{cluster.pk}/budget/"
    answer = client.post(url, {"budget_per_day": "24.5", "budget_total": 100}, format="json")
    assert answer.status_code == 200, answer.json()
    assert answer.json()["id"] == cluster.pk
    assert (answer.json()["usage"]["budget_per_day"], answer.json()["usage"]["budget_total"]) == (
        "24.50",
        "100.00",
    )

    answer = client.post(url, {"budget_total": None}, format="json")  # per day left out: kept
    assert (answer.json()["usage"]["budget_per_day"], answer.json()["usage"]["budget_total"]) == (
        "24.50",
        None,
    )
    cluster.refresh_from_db()
    assert (cluster.budget_per_day, cluster.budget_total) == (Decimal("24.50"), None)


@pytest.mark.parametrize(
    ("body", "error"),
    [
        ({"budget_per_day": -1}, "budget_per_day: Ensure this value is greater than or equal to 0."),
        ({"budget_total": "lots"}, "budget_total: A valid number is required."),
        ({"budget_total": "NaN"}, "budget_total: A valid number is required."),
        ({"budget_total": "1e20"}, "budget_total: Ensure that there are no more than 12 digits in total."),
        ([1, 2], "Invalid data. Expected a dictionary, but got list."),
    ],
)
def test_a_bad_budget_is_a_400_that_says_why(alice, cluster, body, error):
    Cluster.objects.filter(pk=cluster.pk).update(budget_total=Decimal(7))
    answer = api_client(alice).post(f"/api/v1/clusters/{cluster.pk}/budget/", body, format="json")
    assert answer.status_code == 400
    assert error in answer.json()["errors"], answer.json()
    cluster.refresh_from_db()
    assert cluster.budget_total == Decimal(7)


def test_a_stranger_can_neither_read_nor_set_the_budget(bob, cluster):
    client = api_client(bob)
    assert client.get(f"/api/v1/clusters/{cluster.pk}/").status_code == 404
    answer = client.post(f"/api/v1/clusters/{cluster.pk}/budget/", {"budget_total": 1}, format="json")
    assert answer.status_code == 404
    cluster.refresh_from_db()
    assert cluster.budget_total is None


@pytest.fixture
def definition(alice):
    return priced_definition(alice)


@patch("clusters.api_launch.unserved_queues", autospec=True, return_value=[])
def test_a_launch_takes_the_budgets(_unserved, alice, definition):
    cloud = definition.roles.first().image.cloud
    body = {"definition": definition.pk, "name": "demo", "cloud": cloud.pk, "budget_per_day": "30"}
    answer = api_client(alice).post("/api/v1/clusters/", body, format="json")
    assert answer.status_code == 201, answer.json()
    usage = answer.json()["usage"]
    assert (usage["budget_per_day"], usage["budget_total"], usage["cost"]) == ("30.00", None, "0.00")
    assert usage["hourly_rate"] == "0.7500"  # a master and two workers on their way, at 0.25
    assert Cluster.objects.get().budget_per_day == Decimal(30)


def test_a_launch_with_a_negative_budget_is_refused(alice, definition):
    cloud = definition.roles.first().image.cloud
    body = {"definition": definition.pk, "name": "demo", "cloud": cloud.pk, "budget_total": "-3"}
    answer = api_client(alice).post("/api/v1/clusters/", body, format="json")
    assert answer.status_code == 400
    assert "budget_total: Ensure this value is greater than or equal to 0." in answer.json()["errors"]
    assert not Cluster.objects.exists()


def test_the_schema_describes_the_budget_action(client):
    schema = client.get("/api/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json").json()
    budget = schema["paths"]["/api/v1/clusters/{cluster_id}/budget/"]["post"]
    assert budget["requestBody"]["content"]["application/json"]["schema"]["$ref"].endswith("/BudgetRequest")
    usage = schema["components"]["schemas"]["ClusterUsage"]["properties"]
    assert {"instance_hours", "core_hours", "cost", "hourly_rate", "budget_per_day", "budget_total"} == set(
        usage
    )
    launch = schema["components"]["schemas"]["LaunchRequest"]["properties"]
    assert {"budget_per_day", "budget_total"} <= set(launch)
