"""What clusters cost, on the pages (docs/costs.md): the cluster page's usage card and its budget
form, the budgets of the launch form, and the usage page per month."""

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from clusters.models import Cluster, Instance, InstanceState
from clusters.tests.cost_helpers import add_instance, add_known_usage, priced_cluster, priced_definition

pytestmark = pytest.mark.django_db
HOUR = timedelta(hours=1)


def now():
    return datetime.now(UTC)


@pytest.fixture
def cluster(alice):
    return add_known_usage(priced_cluster(alice), datetime.now(UTC))


def card(client, cluster) -> str:
    html = client.get(f"/clusters/{cluster.pk}/").content.decode()
    start = html.index('id="cluster-usage"')
    return html[start : html.index("</section>", start)]


def test_the_cluster_page_shows_hours_cost_and_rate(alice_client, cluster):
    shown = card(alice_client, cluster)
    assert 'id="usage-instance-hours">5.0<' in shown
    assert 'id="usage-core-hours">16.0<' in shown
    assert 'id="usage-cost">4.00<' in shown
    assert 'id="usage-rate">0.5000 an hour<' in shown
    assert "usage-budget" not in shown and "Clear budget" not in shown


def test_the_owner_sets_a_budget_and_sees_how_much_is_spent(alice_client, cluster):
    answer = alice_client.post(
        f"/clusters/{cluster.pk}/budget/", {"budget_per_day": "24", "budget_total": "16.00"}
    )
    assert answer.status_code == 302 and answer.url == f"/clusters/{cluster.pk}/"
    cluster.refresh_from_db()
    assert (cluster.budget_per_day, cluster.budget_total) == (Decimal("24.00"), Decimal("16.00"))
    shown = card(alice_client, cluster)
    assert "12.00 a day at the rate now, 50%" in shown
    assert "4.00 spent, 25%" in shown
    assert 'name="budget_total" value="16.00"' in shown
    assert cluster.events.filter(message="budget: 24.00 a day, 16.00 in total").exists()


def test_an_empty_field_clears_that_budget_and_clear_clears_both(alice_client, cluster):
    Cluster.objects.filter(pk=cluster.pk).update(budget_per_day=10, budget_total=100)
    alice_client.post(f"/clusters/{cluster.pk}/budget/", {"budget_per_day": "", "budget_total": "50"})
    cluster.refresh_from_db()
    assert (cluster.budget_per_day, cluster.budget_total) == (None, Decimal(50))
    alice_client.post(f"/clusters/{cluster.pk}/budget/", {"budget_total": "50", "clear": "1"})
    cluster.refresh_from_db()
    assert (cluster.budget_per_day, cluster.budget_total) == (None, None)


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("-5", "Budget per day: A budget cannot be negative"),
        ("ten", "Budget per day: Enter an amount such as 25 or 12.50"),
        ("NaN", "Budget per day: Enter an amount such as 25 or 12.50"),
        ("1.005", "Budget per day: Ensure that there are no more than 2 decimal places."),
    ],
)
def test_bad_budget_input_is_a_clear_message_and_changes_nothing(alice_client, cluster, value, message):
    Cluster.objects.filter(pk=cluster.pk).update(budget_per_day=10)
    answer = alice_client.post(f"/clusters/{cluster.pk}/budget/", {"budget_per_day": value}, follow=True)
    assert answer.status_code == 200
    assert message in answer.content.decode()
    cluster.refresh_from_db()
    assert cluster.budget_per_day == Decimal(10)


def test_bob_can_neither_see_nor_set_alices_budget(bob_client, cluster):
    Cluster.objects.filter(pk=cluster.pk).update(budget_total=100)
    assert bob_client.get(f"/clusters/{cluster.pk}/").status_code == 404
    assert bob_client.post(f"/clusters/{cluster.pk}/budget/", {"budget_total": "1000"}).status_code == 404
    cluster.refresh_from_db()
    assert cluster.budget_total == Decimal(100)
    assert "demo" not in bob_client.get("/usage/").content.decode()


def test_the_budget_is_set_with_a_post_only(alice_client, cluster):
    assert alice_client.get(f"/clusters/{cluster.pk}/budget/").status_code == 405


def test_an_ended_cluster_shows_its_usage_without_the_form(alice_client, cluster):
    Cluster.objects.filter(pk=cluster.pk).update(state="terminated")
    shown = card(alice_client, cluster)
    assert 'id="usage-cost">4.00<' in shown and "<form" not in shown


def test_the_page_reads_the_instances_for_costs_in_one_query_however_many(alice_client, cluster):
    def queries() -> int:
        with CaptureQueriesContext(connection) as captured:
            assert alice_client.get(f"/clusters/{cluster.pk}/").status_code == 200
        return len(captured)

    few = queries()
    worker = Instance.objects.filter(cluster=cluster, role="worker").first()
    Instance.objects.bulk_create(
        Instance(cluster=cluster, role="worker", index=i, cloud_id=worker.cloud_id, revision_id=worker.revision_id,
                 name=f"demo-worker-{i}", node_id=f"i-{i}", launched_at=now() - 2 * HOUR, terminated_at=now() - HOUR,
                 state=InstanceState.TERMINATED)
        for i in range(2, 301)
    )  # fmt: skip
    assert queries() == few
    assert 'id="usage-instance-hours">304.0<' in card(alice_client, cluster)


# ---------------------------------------------------------------------------- launch


@pytest.fixture
def definition(alice):
    return priced_definition(alice)


def launch(client, definition, **data):
    cloud = definition.roles.first().image.cloud
    form = {"name": "demo", "cloud": cloud.pk, "confirm_unserved": "1", **data}
    return client.post(f"/definitions/{definition.pk}/launch/", form)


def test_the_launch_form_sets_the_budgets(alice_client, definition):
    form = alice_client.get(f"/definitions/{definition.pk}/launch/").content.decode()
    assert 'name="budget_per_day"' in form and 'name="budget_total"' in form
    answer = launch(alice_client, definition, budget_per_day="12.50", budget_total="")
    assert answer.status_code == 302
    cluster = Cluster.objects.get()
    assert (cluster.budget_per_day, cluster.budget_total) == (Decimal("12.50"), None)
    assert cluster.role("worker")["price_per_hour"] == "0.2500"


def test_a_negative_budget_at_launch_is_a_form_error(alice_client, definition):
    answer = launch(alice_client, definition, budget_total="-1")
    assert answer.status_code == 200
    assert "A budget cannot be negative" in answer.content.decode()
    assert not Cluster.objects.exists()


# ---------------------------------------------------------------------------- per month


def test_the_usage_page_sums_each_month_newest_first(alice_client, alice):
    cluster = priced_cluster(alice)
    add_instance(
        cluster, "worker", datetime(2025, 11, 30, 23, tzinfo=UTC), datetime(2025, 12, 1, 1, tzinfo=UTC)
    )
    other = priced_cluster(alice, name="other")
    add_instance(other, "master", datetime(2025, 12, 5, tzinfo=UTC), datetime(2025, 12, 5, 10, tzinfo=UTC))

    html = alice_client.get("/usage/").content.decode()

    assert html.index("December 2025") < html.index("November 2025")
    december = html[html.index("December 2025") : html.index("November 2025")]
    assert december.index(">other<") < december.index(">demo<"), "the costliest cluster first"
    assert '<td class="text-end">11.0</td>' in december and '<td class="text-end">10.50</td>' in december
    assert f'href="/clusters/{other.pk}/"' in december
    november = html[html.index("November 2025") :]
    assert '<td class="text-end">0.50</td>' in november


def test_the_navigation_links_the_usage_page(alice_client):
    html = alice_client.get("/usage/").content.decode()
    assert '<a class="nav-link" href="/usage/">Usage</a>' in html
    assert "No usage yet" in html


def test_the_usage_page_needs_a_login(client):
    answer = client.get("/usage/")
    assert answer.status_code == 302 and "/accounts/login/" in answer.url
