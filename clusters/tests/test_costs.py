"""What a cluster costs (docs/costs.md): hours and money from each instance's launch and end, per
cluster and per calendar month, and the room a budget leaves elastic growth."""

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest

from clusters import costs
from clusters.models import Cluster, InstanceState
from clusters.tests.cost_helpers import NOW, add_instance, priced_cluster, priced_role

pytestmark = pytest.mark.django_db
HOUR = timedelta(hours=1)


@pytest.fixture
def cluster(alice):
    """A master (1.00 an hour, 4 cores) that ran 3 hours and a worker (0.50, 2 cores) up for 1.5 h."""
    cluster = priced_cluster(alice)
    add_instance(cluster, "master", NOW - 5 * HOUR, NOW - 2 * HOUR)
    add_instance(cluster, "worker", NOW - 1.5 * HOUR)
    return cluster


def test_hours_and_cost_run_from_launch_to_the_end_or_now(cluster):
    usage = costs.cluster_usage(cluster, NOW)
    assert usage == costs.Usage(Decimal("4.5"), Decimal("15"), Decimal("3.75"))


def test_the_usage_grows_while_an_instance_lives(cluster):
    later = costs.cluster_usage(cluster, NOW + 2 * HOUR)
    assert (later.instance_hours, later.cost) == (Decimal("6.5"), Decimal("4.75"))


def test_a_create_that_never_made_a_node_costs_nothing(cluster):
    add_instance(cluster, "worker", NOW - 4 * HOUR, state=InstanceState.FAILED, node_id="")
    add_instance(cluster, "worker", None, state=InstanceState.REQUESTED, node_id="")
    add_instance(cluster, "worker", NOW - HOUR, state=InstanceState.LAUNCHING, node_id="")
    assert costs.cluster_usage(cluster, NOW).cost == Decimal("3.75")


def test_a_failed_instance_with_a_node_costs_until_its_node_is_seen_gone(cluster):
    add_instance(cluster, "worker", NOW - 4 * HOUR, state=InstanceState.FAILED)
    assert costs.cluster_usage(cluster, NOW).cost == Decimal("5.75")


def test_an_old_snapshot_without_prices_counts_hours_but_no_money(alice):
    old = priced_role("worker")
    del old["price_per_hour"], old["cores"]
    cluster = priced_cluster(alice, roles=[old])
    add_instance(cluster, "worker", NOW - 2 * HOUR)
    assert costs.cluster_usage(cluster, NOW) == costs.Usage(Decimal(2), Decimal(0), Decimal(0))
    assert costs.budget_room(cluster, "worker", NOW) is None


def test_the_hourly_rate_counts_the_live_instances_and_those_on_their_way(cluster):
    add_instance(cluster, "worker", None, state=InstanceState.REQUESTED, node_id="")
    add_instance(cluster, "worker", NOW - HOUR, NOW, state=InstanceState.TERMINATED)
    add_instance(cluster, "master", NOW - HOUR, state=InstanceState.TERMINATING)
    add_instance(cluster, "master", NOW - HOUR, state=InstanceState.FAILED)
    assert costs.hourly_rate(cluster) == Decimal("1.00")  # two workers at 0.50


def test_it_reads_a_big_cluster_in_one_query(cluster, django_assert_num_queries):
    for _index in range(50):
        add_instance(cluster, "worker", NOW - HOUR)
    with django_assert_num_queries(1):
        usage = costs.cluster_usage(cluster, NOW)
    assert usage.instance_hours == Decimal("54.5")
    with django_assert_num_queries(1):
        costs.budget_room(cluster, "worker", NOW)


# ---------------------------------------------------------------------------- per month


def test_an_instance_across_months_is_split_at_the_boundary_utc(alice, bob):
    cluster = priced_cluster(alice)
    add_instance(
        cluster, "worker", datetime(2026, 1, 31, 22, tzinfo=UTC), datetime(2026, 2, 1, 2, tzinfo=UTC)
    )
    add_instance(cluster, "master", datetime(2026, 2, 28, 23, tzinfo=UTC))  # still up at NOW, 10 March
    other = priced_cluster(alice, name="other")
    add_instance(other, "worker", datetime(2026, 3, 1, tzinfo=UTC), datetime(2026, 3, 1, 4, tzinfo=UTC))
    add_instance(priced_cluster(bob, name="bobs"), "master", NOW - 100 * HOUR)

    months = costs.monthly_usage(alice, NOW)

    assert [m.start for m in months] == [date(2026, 3, 1), date(2026, 2, 1), date(2026, 1, 1)]
    march, february, january = months
    assert january.usage == costs.Usage(Decimal(2), Decimal(4), Decimal("1.00"))
    assert february.usage == costs.Usage(
        Decimal(3), Decimal(8), Decimal("2.00")
    )  # 2 h of worker, 1 of master
    assert march.usage.instance_hours == Decimal(9 * 24 + 12 + 4)
    assert [(c.name, c.usage.instance_hours) for c in march.clusters] == [
        ("demo", Decimal(228)),
        ("other", Decimal(4)),
    ]


def test_a_month_lists_nothing_the_user_did_not_run(alice):
    cluster = priced_cluster(alice)
    add_instance(cluster, "worker", NOW - HOUR, state=InstanceState.FAILED, node_id="")
    assert costs.monthly_usage(alice, NOW) == []


# ---------------------------------------------------------------------------- budgets


def with_budget(cluster, per_day=None, total=None):
    Cluster.objects.filter(pk=cluster.pk).update(budget_per_day=per_day, budget_total=total)
    cluster.refresh_from_db()
    return cluster


def test_no_budget_no_limit(cluster):
    assert costs.budget_room(cluster, "worker", NOW) is None


def test_a_role_that_costs_nothing_is_not_limited(alice):
    cluster = with_budget(priced_cluster(alice, roles=[priced_role("worker", "0")]), per_day=Decimal(1))
    assert costs.budget_room(cluster, "worker", NOW) is None


@pytest.mark.parametrize(
    ("per_day", "room"),
    [("48.00", 1), ("47.99", 0), ("59.99", 1), ("60.00", 2), ("36.00", 0), ("10.00", 0), ("0", 0)],
)
def test_a_budget_per_day_limits_the_rate_of_live_and_added_instances(cluster, per_day, room):
    # Live now: one worker at 0.50 an hour (the master ended) = 12.00 a day; each worker adds 12.00.
    add_instance(cluster, "master", NOW - HOUR)  # 1.00 an hour more: 36.00 a day in all
    assert costs.budget_room(with_budget(cluster, per_day=Decimal(per_day)), "worker", NOW) == room


@pytest.mark.parametrize(
    ("total", "room"),
    [("4.25", 0), ("4.75", 1), ("4.74", 0), ("7.25", 6), ("3.00", 0)],
)
def test_a_total_budget_counts_the_cost_so_far_and_an_hour_ahead(cluster, total, room):
    # Spent 3.75; the live worker's next hour 0.50; each added worker 0.50 for its first hour.
    assert costs.budget_room(with_budget(cluster, total=Decimal(total)), "worker", NOW) == room


def test_both_budgets_apply_and_the_tighter_wins(cluster):
    cluster = with_budget(cluster, per_day=Decimal("120.00"), total=Decimal("5.75"))
    assert costs.budget_room(cluster, "worker", NOW) == 3  # per day alone: 9
    cluster = with_budget(cluster, per_day=Decimal("36.00"), total=Decimal("100"))
    assert costs.budget_room(cluster, "worker", NOW) == 2


def test_the_card_shows_the_share_of_each_budget_spent(cluster):
    shown = costs.cluster_costs(with_budget(cluster, per_day=Decimal(24), total=Decimal(15)), NOW)
    assert (shown.hourly_rate, shown.daily_cost) == (Decimal("0.50"), Decimal("12.00"))
    assert (shown.day_percent, shown.total_percent) == (50, 25)
