"""What clusters cost (docs/costs.md): instance-hours, core-hours and money, per cluster and per
month, and how much room a cluster's budget leaves elastic growth.

An instance counts from its create request (`launched_at`) until its node was seen gone
(`terminated_at`), or until now while it has none, and only once the cloud gave it a node: a create
that failed or was stopped before any node was made costs nothing. Its price and cores are those
its role had in the launch snapshot (a later change of an offering changes no bill); snapshots
made before prices existed count 0. Sums are exact Decimals; money is rounded to cents only where
it is shown.

A cluster's functions read its instances in one query, of the few columns costs need (the usage
per month reads the user's clusters, then their instances); the pure `*_of` functions take
anything with those attributes, so a caller that loaded the instances already (the API's cluster
detail) reads them no second time.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from decimal import Decimal

from clusters.models import Cluster, ClusterEvent, Instance
from clusters.models.launches import LIVE_STATES

SECONDS_PER_HOUR = Decimal(3600)
HOURS_PER_DAY = 24
# What costs read of each instance.
COLUMNS = ("cluster_id", "role", "state", "node_id", "launched_at", "terminated_at")
ZERO = Decimal(0)


@dataclass(frozen=True)
class Price:
    per_hour: Decimal = ZERO
    cores: int = 0


NOT_PRICED = Price()


@dataclass(frozen=True)
class Usage:
    instance_hours: Decimal = ZERO
    core_hours: Decimal = ZERO
    cost: Decimal = ZERO

    def __add__(self, other: Usage) -> Usage:
        return Usage(
            self.instance_hours + other.instance_hours,
            self.core_hours + other.core_hours,
            self.cost + other.cost,
        )


@dataclass(frozen=True)
class Row:
    """One instance as costs read it (Instance rows have the same attributes)."""

    cluster_id: int
    role: str
    state: str
    node_id: str
    launched_at: datetime | None
    terminated_at: datetime | None


def role_prices(snapshot: dict) -> dict[str, Price]:
    """Each role's price and cores as launched; a snapshot older than prices has neither (0)."""
    return {
        role["name"]: Price(Decimal(str(role.get("price_per_hour") or 0)), int(role.get("cores") or 0))
        for role in snapshot.get("roles", [])
    }


def rows(instances) -> list[Row]:
    """The costs' columns of a queryset of instances, in one query."""
    return [Row(*values) for values in instances.values_list(*COLUMNS)]


def billed_span(instance, now: datetime) -> tuple[datetime, datetime] | None:
    """When the instance was paid for: from its create request until its node was seen gone (or
    now); None when it never had a node."""
    if not instance.node_id or instance.launched_at is None:
        return None
    end = instance.terminated_at or now
    return (instance.launched_at, end) if end > instance.launched_at else None


def span_usage(price: Price, start: datetime, end: datetime) -> Usage:
    delta = end - start  # in exact Decimals: a float of seconds would leave binary crumbs in the sums
    seconds = Decimal(delta.days * 86400 + delta.seconds) + Decimal(delta.microseconds) / 1_000_000
    hours = seconds / SECONDS_PER_HOUR
    return Usage(hours, hours * price.cores, hours * price.per_hour)


def usage_of(prices: dict[str, Price], instances, now: datetime) -> Usage:
    total = Usage()
    for instance in instances:
        span = billed_span(instance, now)
        if span:
            total += span_usage(prices.get(instance.role, NOT_PRICED), *span)
    return total


def rate_of(prices: dict[str, Price], instances) -> Decimal:
    """What the live instances cost an hour — those still on their way to a node included: they
    are paid for as soon as they have one."""
    return sum((prices.get(i.role, NOT_PRICED).per_hour for i in instances if i.state in LIVE_STATES), ZERO)


def cluster_usage(cluster: Cluster, now: datetime) -> Usage:
    return usage_of(role_prices(cluster.snapshot), rows(Instance.objects.filter(cluster=cluster)), now)


def hourly_rate(cluster: Cluster) -> Decimal:
    live = Instance.objects.filter(cluster=cluster, state__in=LIVE_STATES)
    return rate_of(role_prices(cluster.snapshot), rows(live))


# ---------------------------------------------------------------------------- budgets


def budget_room_of(cluster: Cluster, role_name: str, instances, now: datetime) -> int | None:
    """How many more instances of `role_name` elastic growth may add within the cluster's budgets;
    None when no budget applies or the role costs nothing. Per day: the live instances and the
    added ones, at their hourly prices, cost at most the budget in 24 hours. In total: the cost so
    far plus an hour of the live and the added instances (each counted for at least an hour
    ahead) stays within it."""
    prices = role_prices(cluster.snapshot)
    price = prices.get(role_name, NOT_PRICED).per_hour
    if price <= 0 or (cluster.budget_per_day is None and cluster.budget_total is None):
        return None
    rate = rate_of(prices, instances)
    rooms = []
    if cluster.budget_per_day is not None:
        rooms.append((cluster.budget_per_day - rate * HOURS_PER_DAY) // (price * HOURS_PER_DAY))
    if cluster.budget_total is not None:
        rooms.append((cluster.budget_total - usage_of(prices, instances, now).cost - rate) // price)
    # Decimal's // is exact and rounds toward zero: a budget already overspent leaves -0 or less.
    return max(0, int(min(rooms)))


def budget_room(cluster: Cluster, role_name: str, now: datetime) -> int | None:
    """budget_room_of with the cluster's instances read in one query (the elastic task's call)."""
    return budget_room_of(cluster, role_name, rows(Instance.objects.filter(cluster=cluster)), now)


@dataclass(frozen=True)
class ClusterCosts:
    """What the cluster page's usage card shows."""

    usage: Usage
    hourly_rate: Decimal
    budget_per_day: Decimal | None
    budget_total: Decimal | None

    @property
    def daily_cost(self) -> Decimal:
        """A day at the current rate: what the budget per day is measured against."""
        return self.hourly_rate * HOURS_PER_DAY

    @property
    def day_percent(self) -> int | None:
        return _percent(self.daily_cost, self.budget_per_day)

    @property
    def total_percent(self) -> int | None:
        return _percent(self.usage.cost, self.budget_total)


def cluster_costs(cluster: Cluster, now: datetime, instances=None) -> ClusterCosts:
    """Usage, rate and budgets; `instances` when the caller has them, else one query."""
    instances = rows(Instance.objects.filter(cluster=cluster)) if instances is None else instances
    prices = role_prices(cluster.snapshot)
    return ClusterCosts(
        usage_of(prices, instances, now),
        rate_of(prices, instances),
        cluster.budget_per_day,
        cluster.budget_total,
    )


def _percent(part: Decimal, whole: Decimal | None) -> int | None:
    if whole is None:
        return None
    if whole <= 0:
        return 100 if part > 0 else 0
    return round(100 * part / whole)


def set_budget(cluster: Cluster, per_day: Decimal | None, total: Decimal | None) -> None:
    """Change only the budgets (a concurrent save of the cluster's other fields is kept); the
    change is in the cluster's events."""
    Cluster.objects.filter(pk=cluster.pk).update(budget_per_day=per_day, budget_total=total)
    cluster.budget_per_day, cluster.budget_total = per_day, total
    ClusterEvent.objects.create(cluster=cluster, message=f"budget: {describe_budget(per_day, total)}")


def describe_budget(per_day: Decimal | None, total: Decimal | None) -> str:
    parts = [
        f"{per_day:.2f} a day" if per_day is not None else "",
        f"{total:.2f} in total" if total is not None else "",
    ]
    return ", ".join(p for p in parts if p) or "none"


# ---------------------------------------------------------------------------- per month


@dataclass
class ClusterMonth:
    cluster_id: int
    name: str
    usage: Usage = field(default_factory=Usage)


@dataclass
class Month:
    start: date
    usage: Usage = field(default_factory=Usage)
    clusters: list[ClusterMonth] = field(default_factory=list)


def month_spans(start: datetime, end: datetime):
    """(first day of the month, start, end) for each calendar month (UTC) the span touches."""
    start, end = start.astimezone(UTC), end.astimezone(UTC)
    while start < end:
        first = start.date().replace(day=1)
        following = datetime(first.year + first.month // 12, first.month % 12 + 1, 1, tzinfo=UTC)
        stop = min(end, following)
        yield first, start, stop
        start = stop


def monthly_usage(user, now: datetime) -> list[Month]:
    """The user's usage per calendar month (UTC), newest first, each with its clusters (costliest
    first); an instance running across months counts in each for its hours there."""
    clusters = {
        pk: (name, role_prices(snapshot))
        for pk, name, snapshot in Cluster.objects.filter(owner=user).values_list("pk", "name", "snapshot")
    }
    paid = Instance.objects.filter(cluster__owner=user, launched_at__isnull=False).exclude(node_id="")
    by_month: dict[date, dict[int, Usage]] = {}
    for instance in rows(paid):
        span = billed_span(instance, now)
        if not span or instance.cluster_id not in clusters:  # not in it: launched between the two reads
            continue
        price = clusters[instance.cluster_id][1].get(instance.role, NOT_PRICED)
        for first, start, end in month_spans(*span):
            month = by_month.setdefault(first, {})
            month[instance.cluster_id] = month.get(instance.cluster_id, Usage()) + span_usage(
                price, start, end
            )
    months = []
    for first in sorted(by_month, reverse=True):
        members = [ClusterMonth(pk, clusters[pk][0], usage) for pk, usage in by_month[first].items()]
        members.sort(key=lambda c: (-c.usage.cost, -c.usage.instance_hours, c.name))
        months.append(Month(first, sum((c.usage for c in members), Usage()), members))
    return months
