"""The elastic task (docs/elastic.md): every ELASTIC_INTERVAL seconds, each cluster with an elastic
role or a draining worker gets the policy's decision applied through the launcher.

Per cluster, under the cluster's row lock (as scale and terminate take it) and its instances' row
locks taken by id (as every writer of instances takes them): draining workers that are done end
first, then each elastic role grows or drains as `decide` says, within its budget.
"""

from __future__ import annotations

import logging
from datetime import datetime

from django.conf import settings
from django.db import DatabaseError, transaction
from django.db.models import Q
from django.utils import timezone

from clusters import costs, launcher
from clusters.elastic import reports
from clusters.elastic.decide import Decision, Policy, PolicyError, Worker, decide, finished
from clusters.models import Cluster, Instance
from clusters.models.launches import ENDING_CLUSTER_STATES, LIVE_STATES

log = logging.getLogger(__name__)

# A fixed role drained by a manual scale-down ends its workers after this long anyway.
FIXED_ROLE_DRAIN_DEADLINE = 3600


def tick(now: datetime | None = None) -> int:
    """Apply the policy to every cluster that needs it; the number of clusters looked at."""
    now = now or timezone.now()
    draining = Instance.objects.filter(drain_requested_at__isnull=False, state__in=LIVE_STATES)
    ids = list(
        Cluster.objects.exclude(state__in=ENDING_CLUSTER_STATES)
        .filter(Q(elastic=True) | Q(pk__in=draining.values("cluster_id")))
        .values_list("pk", flat=True)
    )
    for cluster_id in ids:
        try:
            apply(cluster_id, now)
        except PolicyError as exc:  # a snapshot the definition's checks would refuse today
            log.warning("cluster %s: %s", cluster_id, exc)
        except DatabaseError:  # a lock held past the timeout, a backend gone: the next tick tries again
            log.exception("cluster %s: the elastic policy could not be applied", cluster_id)
    return len(ids)


def policy_of(role: dict) -> Policy:
    period = max(1, round(settings.ELASTIC_REPORT_SECONDS))
    if role.get("elastic"):
        return Policy.from_role(role, period_seconds=period)
    live_max = role["count"] if role.get("max") is None else role["max"]
    return Policy(
        min=role.get("min") or 0,
        max=live_max,
        jobs_per_worker=1,
        idle_seconds=0,
        cooldown_seconds=0,
        drain_deadline_seconds=FIXED_ROLE_DRAIN_DEADLINE,
        period_seconds=period,
    )


def apply(cluster_id: int, now: datetime) -> None:
    with transaction.atomic():
        cluster = Cluster.objects.select_for_update().get(pk=cluster_id)
        if cluster.is_ending:
            return
        signals, signals_at = reports.latest_signals(cluster)
        live = list(cluster.instances.select_for_update().filter(state__in=LIVE_STATES).order_by("pk"))
        changed = False
        for role in cluster.snapshot["roles"]:
            mine = [i for i in live if i.role == role["name"]]
            policy = policy_of(role)
            ended = _end_drained(cluster, policy, signals, signals_at, mine, now)
            if role.get("elastic"):
                mine = [i for i in mine if i not in ended]
                changed |= _decide(cluster, role, policy, signals, signals_at, mine, now)
            changed |= bool(ended)
        if changed:
            cluster.save(update_fields=["scaled_at", "updated"])
            transaction.on_commit(lambda: launcher.advance_later(cluster_id))
            transaction.on_commit(lambda: launcher.refresh_state(cluster))


def _workers(instances: list[Instance]) -> list[Worker]:
    return [Worker(i.name, i.drain_requested_at) for i in instances]


def _end_drained(cluster, policy, signals, signals_at, instances, now) -> list[Instance]:
    """The draining workers that are done, ended: drained, or past their drain deadline."""
    done = dict(finished(policy, signals, _workers(instances), now, signals_at=signals_at))
    ending = [i for i in instances if i.name in done]
    for reason in set(done.values()):
        Instance.objects.filter(pk__in=[i.pk for i in ending if done[i.name] == reason]).update(
            end_reason=reason
        )
    for instance in ending:
        launcher.event(cluster, f"{instance.name} terminated: {done[instance.name]}")
    launcher.stop_instances(cluster, ending)
    return ending


def _decide(cluster, role, policy, signals, signals_at, instances, now) -> bool:
    scaled = cluster.scaled_at.get(role["name"])
    decision: Decision = decide(
        policy,
        signals,
        signals_at,
        _workers(instances),
        now,
        last_change=datetime.fromisoformat(scaled) if scaled else None,
        room=costs.budget_room(cluster, role["name"], now),
    )
    if not decision.changes:
        _say_held(cluster, role["name"], decision.reason)
        return False
    if decision.add:
        launcher.add_instances(cluster, role, decision.add)
    if decision.drain:
        Instance.objects.filter(
            pk__in=[i.pk for i in instances if i.name in decision.drain], drain_requested_at__isnull=True
        ).update(drain_requested_at=now)
    launcher.event(cluster, decision.reason)
    cluster.scaled_at[role["name"]] = now.isoformat()
    cluster.scaled_at.pop(_HELD + role["name"], None)
    return True


# scaled_at's key of what last held a role's size back, said once in the events, not every tick.
_HELD = "held:"


def _say_held(cluster: Cluster, role_name: str, reason: str) -> None:
    key = _HELD + role_name
    if reason == cluster.scaled_at.get(key, ""):
        return
    if reason:
        launcher.event(cluster, f"role {role_name}: {reason}")
        cluster.scaled_at[key] = reason
    else:
        cluster.scaled_at.pop(key)
    cluster.save(update_fields=["scaled_at", "updated"])
