"""Launching, growing, shrinking and terminating clusters (docs/launches.md): the portal side.

The portal decides and records; the cloud side (clusters.cloudside, in a portal worker or a
gateway agent) calls the cloud and reports back. Roles start in dependency order: a role is
dispatched once every role it depends on has an address for each of its live instances, and each
of its instances gets user-data rendered with those addresses. Instances are claimed with a
conditional UPDATE before they are dispatched, so concurrent record tasks never dispatch one
twice; the cloud side's look-up-before-create makes a repeated message harmless too.
"""

from __future__ import annotations

import secrets
import uuid
from collections import defaultdict

from django.conf import settings
from django.db import transaction
from django.db.models import Count, Max
from django.utils import timezone

from clusters import cloudside, destroys, dispatch, preflight, spot
from clusters.elastic import reports
from clusters.models import (
    Cloud,
    Cluster,
    ClusterEvent,
    ClusterState,
    Image,
    Instance,
    InstanceState,
    SizeMapping,
)
from clusters.models.launches import ENDING_STATES, IN_FLIGHT_STATES, LIVE_STATES, UP_STATES
from clusters.topology import DefinitionError, RoleShape, launch_levels
from clusters.userdata import dns_label
from contexts.models import ProfileRevision
from portal import crypto

S = InstanceState


class LaunchError(ValueError):
    def __init__(self, messages: list[str]):
        super().__init__("; ".join(messages))
        self.messages = messages


def portal_id() -> str:
    return settings.PORTAL_ID


def event(cluster: Cluster, message: str, level: str = "info") -> None:
    ClusterEvent.objects.create(cluster=cluster, message=message, level=level)


# ---------------------------------------------------------------------------- planning


def plan(definition, placement: dict[str, Cloud], owner, name: str = "cluster") -> dict:
    """The frozen snapshot of `definition` placed on clouds for `owner`: what every instance will get.

    Everything a launch can fail on is checked here, before anything is created: the profiles'
    access, the roles' order, sizes and images on the chosen clouds, and a sample of each role's
    user-data for its image's format within its cloud's cap."""
    roles = list(
        definition.roles.select_related(
            "profile__latest", "profile__owner", "pinned_revision", "offering", "image"
        )
    )
    problems = [p for r in roles if (p := preflight.access_problem(r.name, r.profile, owner))]
    try:
        launch_levels([RoleShape(r.name, launch_count(r), list(r.depends_on)) for r in roles])
    except DefinitionError as exc:
        problems.extend(exc.messages)
    snapshot_roles, checked = [], []
    for role in roles:
        cloud = placement.get(role.name)
        if cloud is None:
            problems.append(f"role {role.name}: choose a cloud")
            continue
        revision = role.pinned_revision or role.profile.latest
        size_id = role.size
        if not size_id and role.offering_id:
            mapping = SizeMapping.objects.filter(offering=role.offering, cloud=cloud).first()
            size_id = mapping.size_id if mapping else ""
        if not size_id:
            problems.append(
                f"role {role.name}: {cloud.name} has no size for offering "
                f"{role.offering.name if role.offering else '(none)'}"
            )
        image = (
            role.image
            if role.image.cloud_id == cloud.id
            else (Image.objects.filter(cloud=cloud, name=role.image.name).first())
        )
        if image is None:
            problems.append(f"role {role.name}: {cloud.name} has no image named {role.image.name!r}")
            continue
        snapshot_roles.append(
            {
                "name": role.name,
                "count": launch_count(role),
                "min": role.min_count,
                "max": role.max_count,
                "depends_on": list(role.depends_on),
                "cloud": cloud.id,
                "revision": revision.id,
                "offering": role.offering.name if role.offering else "",
                "size_id": size_id,
                "image": image.name,
                "image_id": image.provider_id,
                "format": image.format,
                "elastic": elastic_policy(role),
                "spot": role.spot,
                # Priced as launched: a later change of the offering's price changes no bill.
                "price_per_hour": str(role.offering.price_per_hour) if role.offering else "0",
                "cores": role.offering.vcpus if role.offering else 0,
            }
        )
        checked.append((role.name, revision, image, cloud))
    if not problems:
        counts = {r.name: launch_count(r) for r in roles}
        for role_name, revision, image, cloud in checked:
            needs = {
                other: counts[other] for other in next(r for r in roles if r.name == role_name).depends_on
            }
            found = preflight.render_problem(
                revision,
                owner,
                role_name=role_name,
                count=counts[role_name],
                needs=needs,
                image=image,
                cloud=cloud,
                cluster_name=dns_label(name),
            )
            if found:
                problems.append(f"role {role_name}: {found}")
    if problems:
        raise LaunchError(problems)
    return {"definition": definition.name, "roles": snapshot_roles}


def launch_count(role) -> int:
    """How many instances of the role a launch makes: an elastic role starts at its minimum."""
    return role.min_count if role.elastic else role.count


def elastic_policy(role) -> dict | None:
    """An elastic role's policy as the snapshot keeps it (docs/elastic.md); None for a fixed role."""
    if not role.elastic:
        return None
    return {
        "jobs_per_worker": role.jobs_per_worker,
        "idle_seconds": role.idle_seconds,
        "cooldown_seconds": role.cooldown_seconds,
        "drain_deadline_seconds": role.drain_deadline_seconds,
    }


def notices(definition, owner, placement: dict[str, Cloud] | None = None) -> list[str]:
    """What a launch of `definition` by `owner` leaves out, per role: other people's secrets
    (clusters.preflight) and, once `placement` is known, spot capacity its cloud does not offer."""
    roles = definition.roles.select_related(
        "profile__latest__profile__owner", "pinned_revision__profile__owner"
    )
    found = [preflight.secret_notice(r.name, r.pinned_revision or r.profile.latest, owner) for r in roles]
    found += [spot.notice(r.name, r.spot, (placement or {}).get(r.name)) for r in roles]
    return [notice for notice in found if notice]


@transaction.atomic
def launch(
    definition, owner, name: str, placement: dict[str, Cloud], *, budget_per_day=None, budget_total=None
) -> Cluster:
    """Plan and create the cluster; its budgets (docs/costs.md) hold from its first instant."""
    snapshot = plan(definition, placement, owner, name)
    cluster = Cluster.objects.create(
        owner=owner,
        definition=definition,
        name=dns_label(name),
        snapshot=snapshot,
        elastic=any(role["elastic"] for role in snapshot["roles"]),
        secret=crypto.encrypt(secrets.token_urlsafe(24)),
        budget_per_day=budget_per_day,
        budget_total=budget_total,
    )
    instances = [
        _new_instance(cluster, role, index) for role in snapshot["roles"] for index in range(role["count"])
    ]
    Instance.objects.bulk_create(instances)
    event(cluster, f"launch requested: {len(instances)} instances")
    for notice in notices(definition, owner, placement):
        event(cluster, notice, "warning")
    transaction.on_commit(lambda: advance_later(cluster.pk))
    return cluster


def _new_instance(cluster: Cluster, role: dict, index: int) -> Instance:
    return Instance(
        cluster=cluster,
        role=role["name"],
        index=index,
        cloud_id=role["cloud"],
        revision_id=role["revision"],
        name=dns_label(f"{cluster.name}-{role['name']}-{index}"),
    )


# ---------------------------------------------------------------------------- dispatching


def role_addresses(instances) -> dict[str, list[str]]:
    found = defaultdict(list)
    for instance in sorted(instances, key=lambda i: i.index):
        if instance.state in UP_STATES and (instance.private_ips or instance.public_ips):
            found[instance.role].append((instance.private_ips or instance.public_ips)[0])
    return found


def _dependencies_ready(role: dict, instances, addresses) -> bool:
    for other in role["depends_on"]:
        live = [i for i in instances if i.role == other and i.state in LIVE_STATES]
        if not live or len(addresses.get(other, [])) < len(live):
            return False
    return True


def _gone_dependency(role: dict, instances) -> str | None:
    """A role this one needs that has no live instance left (all failed or ended): its waiting
    instances can never get that address."""
    for other in role["depends_on"]:
        if not any(i.role == other and i.state in LIVE_STATES for i in instances):
            return other
    return None


def _fail_waiting(cluster: Cluster, role: dict, waiting: list, needed: str) -> None:
    message = f"not launched: it needs the address of role {needed}, which has no instance left"
    failed = Instance.objects.filter(pk__in=[i.pk for i in waiting], state=S.REQUESTED).update(
        state=S.FAILED, last_error=message
    )
    for instance in waiting:  # later roles of this pass see them failed
        instance.state, instance.last_error = S.FAILED, message
    if failed:
        event(
            cluster,
            f"role {role['name']}: {failed} not launched, as role {needed} has no instance left",
            "error",
        )


def advance(cluster_id: int) -> None:
    """Dispatch every waiting instance whose role's dependencies have addresses; fail those whose
    dependencies have no instance left; update the cluster's state."""
    cluster = Cluster.objects.select_related("owner").filter(pk=cluster_id).first()
    if cluster is None:
        return  # deleted meanwhile
    if cluster.is_ending:
        refresh_state(cluster)
        return
    if not cluster.instances.filter(state=S.REQUESTED).exists():
        refresh_state(cluster)  # nothing waits: no need to load every instance (large clusters)
        return
    with transaction.atomic():
        # The waiting instances' row locks first, by id as every writer takes them: an advance running
        # meanwhile is waited for (then they are found sent), and so is a node list or a scale that
        # holds them — never skipped, or nothing would send them afterwards.
        list(cluster.instances.select_for_update().filter(state=S.REQUESTED).order_by("pk").values_list("pk"))
        instances = list(cluster.instances.all())
        addresses = role_addresses(instances)
        documents: dict[int, dict] = {}
        for role in cluster.snapshot["roles"]:
            waiting = [i for i in instances if i.role == role["name"] and i.state == S.REQUESTED]
            if not waiting:
                continue
            needed = _gone_dependency(role, instances)
            if needed:
                _fail_waiting(cluster, role, waiting, needed)
            elif _dependencies_ready(role, instances, addresses):
                cloud = Cloud.objects.get(pk=role["cloud"])
                dispatch.dispatch_role(cluster, role, waiting, cloud, addresses, documents)
    refresh_state(cluster)


def advance_later(cluster_id: int) -> None:
    """Advance the cluster in a portal worker rather than here: a launch or scale request answers at
    once, whatever the number of instances to render and send (LAUNCH_DISPATCH_INLINE: here)."""
    if settings.LAUNCH_DISPATCH_INLINE:
        advance(cluster_id)
        return
    from clusters.tasks import advance_cluster

    advance_cluster.apply_async(args=[cluster_id], queue=settings.CELERY_PORTAL_RESULTS_QUEUE)


def cloud_ref(cloud: Cloud) -> dict:
    """What a cloud-side task needs to find its cloud: ids and limits, never credentials."""
    return {
        "id": cloud.pk,
        "key": f"{portal_id()}-{cloud.pk}",
        "concurrency": cloud.api_concurrency,
        "portal": portal_id(),
    }


def send_to_cloud(task, cloud: Cloud, *args) -> None:
    ref = cloud_ref(cloud)
    transaction.on_commit(lambda: task.apply_async(args=[ref, *args], queue=cloud.queue))


# ---------------------------------------------------------------------------- state


def refresh_state(cluster: Cluster) -> str:
    """Set the cluster's state from its instances' counts. The write changes the state only from the
    one read (a terminate committed meanwhile is never written over); when it changed, read again."""
    for _attempt in range(5):
        new = _state_from_counts(cluster)
        if new == cluster.state:
            return new
        if Cluster.objects.filter(pk=cluster.pk, state=cluster.state).update(
            state=new, updated=timezone.now()
        ):
            event(cluster, f"cluster {new}", "error" if new == ClusterState.FAILED else "info")
            cluster.state = new
            return new
        cluster.state = Cluster.objects.values_list("state", flat=True).get(pk=cluster.pk)
    return cluster.state


def _state_from_counts(cluster: Cluster) -> str:
    counts = defaultdict(int)  # one grouped count, not the cluster's rows
    counts.update(dict(cluster.instances.order_by().values_list("state").annotate(n=Count("pk"))))
    live = sum(counts[s] for s in LIVE_STATES)
    if cluster.is_ending:
        return ClusterState.TERMINATED if not live and not counts[S.TERMINATING] else ClusterState.TERMINATING
    if any(counts[s] for s in IN_FLIGHT_STATES):
        return ClusterState.LAUNCHING
    if counts[S.FAILED]:
        return ClusterState.DEGRADED if live else ClusterState.FAILED
    return ClusterState.RUNNING


# ---------------------------------------------------------------------------- changes


def scale(cluster: Cluster, role_name: str, count: int) -> None:
    """Set a role's size. Workers the head reports in its queue are drained first and end once
    drained (clusters.elastic.scaler); the others stop at once, the newest first."""
    role = cluster.role(role_name)
    if count < (role.get("min") or 0) or (role.get("max") is not None and count > role["max"]):
        raise LaunchError(
            [
                f"role {role_name}: the count must be between {role.get('min') or 0} and "
                f"{role['max'] if role.get('max') is not None else 'any number'}"
            ]
        )
    with transaction.atomic():
        # The cluster's row lock orders scales and terminates of one cluster; the instances' row
        # locks make a record of a node arriving now wait until this decision is committed.
        locked = Cluster.objects.select_for_update().get(pk=cluster.pk)
        if locked.is_ending:
            raise LaunchError(["the cluster is being terminated"])
        live = list(
            cluster.instances.select_for_update()
            .filter(role=role_name, state__in=LIVE_STATES, drain_requested_at__isnull=True)
            .order_by("pk")
        )
        live.sort(key=lambda i: -i.index)  # locked by id, as every writer locks them; newest first
        if count > len(live):
            add_instances(cluster, role, count - len(live))
        elif count < len(live):
            _scale_down(cluster, live, len(live) - count)
        if role.get("elastic"):  # the policy's cool-down starts from a person's change too
            locked.scaled_at[role_name] = timezone.now().isoformat()
            locked.save(update_fields=["scaled_at", "updated"])
        event(cluster, f"role {role_name} scaled from {len(live)} to {count}")
        transaction.on_commit(lambda: advance_later(cluster.pk))


def add_instances(cluster: Cluster, role: dict, count: int) -> list[Instance]:
    """`count` new instances of `role`, waiting to be sent, numbered after its highest index yet.
    The caller holds the cluster's row lock, so two additions never take the same numbers."""
    top = cluster.instances.filter(role=role["name"]).aggregate(m=Max("index"))["m"]
    start = -1 if top is None else top
    return Instance.objects.bulk_create([_new_instance(cluster, role, start + 1 + i) for i in range(count)])


def _scale_down(cluster: Cluster, live: list[Instance], fewer: int) -> None:
    """Take `fewer` of the `live` instances (locked, newest first) out of the role: those the head
    reports as workers are drained (the idle ones first), the others stop."""
    queued = reports.queued_workers(cluster)
    if not queued:
        stop_instances(cluster, live[:fewer])
        return
    state = {i.pk: queued.get(i.name.lower()) for i in live}  # the head's names, matched as decide does
    order = sorted(live, key=lambda i: (state[i.pk] is not None, state[i.pk] != "idle"))
    chosen = order[:fewer]
    stop_instances(cluster, [i for i in chosen if state[i.pk] is None])
    draining = [i.pk for i in chosen if state[i.pk] is not None]
    Instance.objects.filter(pk__in=draining).update(drain_requested_at=timezone.now())
    if draining:
        event(cluster, f"draining {len(draining)} worker(s) before they end")


def terminate(cluster: Cluster) -> None:
    """End every instance that is not final yet — waiting, launching, running, failed — and the
    cluster with them, once the cloud's list no longer shows any of their nodes."""
    with transaction.atomic():
        Cluster.objects.select_for_update().get(pk=cluster.pk)
        Cluster.objects.filter(pk=cluster.pk).update(state=ClusterState.TERMINATING)
        cluster.state = ClusterState.TERMINATING
        ending = cluster.instances.select_for_update().exclude(state__in=ENDING_STATES).order_by("pk")
        stop_instances(cluster, list(ending))
        event(cluster, "terminate requested")
        transaction.on_commit(lambda: refresh_state(cluster))


def stop_instances(cluster: Cluster, instances) -> None:
    """Destroy the instances' nodes (called under their row locks). An instance whose node may still
    be on its way (launching) waits as terminating: its record, or the monitor that lists the node,
    destroys it. One with no node and none coming simply ends; a node that appears for it anyway is
    an orphan to the monitor."""
    now = timezone.now()
    by_cloud = defaultdict(list)
    ending, ended = [], []
    for instance in instances:
        if instance.node_id:
            by_cloud[instance.cloud_id].append([instance.pk, instance.node_id])
            ending.append(instance)
        elif instance.state == S.LAUNCHING:
            ending.append(instance)
        else:
            ended.append(instance)
    for group, changes in (
        (ending, {"state": S.TERMINATING}),
        (ended, {"state": S.TERMINATED, "terminated_at": now}),
    ):
        # Each row changes only from the state it was read in (they are locked, but a check costs nothing).
        for state in {i.state for i in group}:
            Instance.objects.filter(pk__in=[i.pk for i in group if i.state == state], state=state).update(
                **changes
            )
    for cloud in Cloud.objects.filter(pk__in=by_cloud):
        destroy_nodes(cloud, by_cloud[cloud.pk])


def destroy_nodes(cloud: Cloud, pairs: list[list]) -> None:
    """Send the destroy of [instance id or None, node id] pairs, and tell the monitor they were sent
    (it sends them again, backing off, while the cloud still lists the nodes)."""
    destroys.sent(cloud.pk, [node for _instance, node in pairs])
    send_to_cloud(cloudside.cloud_destroy_nodes, cloud, pairs)


def retry_revisions(cluster: Cluster) -> list[dict]:
    """Each role with failed instances: the profile revision a retry sends them with, and the
    newer latest revision the cluster's owner may retry with instead (None when there is none)."""
    failed = set(cluster.instances.filter(state=S.FAILED).values_list("role", flat=True))
    roles = [role for role in cluster.snapshot["roles"] if role["name"] in failed]
    revisions = ProfileRevision.objects.select_related("profile__latest", "profile__owner").in_bulk(
        [role["revision"] for role in roles]
    )
    found = []
    for role in roles:
        revision = revisions[role["revision"]]
        profile, latest = revision.profile, revision.profile.latest
        usable = preflight.access_problem(role["name"], profile, cluster.owner) is None
        newer = latest if usable and latest and latest.number > revision.number else None
        found.append(
            {
                "role": role["name"],
                "profile": profile.name,
                "revision": revision.number,
                "latest": newer.number if newer else None,
                "latest_id": newer.pk if newer else None,
            }
        )
    return found


def retry_failed(cluster: Cluster, *, latest: bool = False) -> int:
    """Send failed instances again, each with a new idempotency token (a node its last attempt may
    have left behind is an orphan for the reconciler, never mistaken for the new one). `latest`:
    roles whose profile has a newer revision use it from now on (checked like a launch first)."""
    with transaction.atomic():
        locked = Cluster.objects.select_for_update().get(pk=cluster.pk)  # ordered with terminate and scale
        if locked.is_ending:
            raise LaunchError(["the cluster is being terminated"])
        if latest:
            _use_latest_revisions(locked)
        count = 0
        for instance in cluster.instances.select_for_update().filter(state=S.FAILED).order_by("pk"):
            Instance.objects.filter(pk=instance.pk).update(
                state=S.REQUESTED,
                idempotency_token=uuid.uuid4(),
                node_id="",
                node_seen_at=None,
                terminated_at=None,
                last_error="",
                attempts=0,  # a new token, and a new count of sends (LAUNCH_ATTEMPTS)
            )
            count += 1
        if count:
            event(cluster, f"retrying {count} failed instances")
            Cluster.objects.filter(pk=cluster.pk).update(state=ClusterState.LAUNCHING)
            transaction.on_commit(lambda: advance_later(cluster.pk))
    return count


def _use_latest_revisions(cluster: Cluster) -> None:
    newer = {found["role"]: found for found in retry_revisions(cluster) if found["latest"]}
    if not newer:
        return
    snapshot, counts = cluster.snapshot, {role["name"]: role["count"] for role in cluster.snapshot["roles"]}
    revisions = ProfileRevision.objects.select_related("profile").in_bulk(
        [f["latest_id"] for f in newer.values()]
    )
    problems = []
    for role in snapshot["roles"]:
        if role["name"] not in newer:
            continue
        revision = revisions[newer[role["name"]]["latest_id"]]
        image, cloud = Image(name=role["image"], format=role["format"]), Cloud.objects.get(pk=role["cloud"])
        needs = {other: counts[other] for other in role["depends_on"]}
        found = preflight.render_problem(
            revision,
            cluster.owner,
            role_name=role["name"],
            count=role["count"],
            needs=needs,
            image=image,
            cloud=cloud,
            cluster_name=cluster.name,
        )
        if found:
            problems.append(f"role {role['name']}: revision {revision.number}: {found}")
        role["revision"] = revision.pk
    if problems:
        raise LaunchError(problems)
    Cluster.objects.filter(pk=cluster.pk).update(snapshot=snapshot)
    for name, found in newer.items():
        cluster.instances.filter(role=name, state=S.FAILED).update(revision_id=found["latest_id"])
        event(cluster, f"role {name} now uses revision {found['latest']} of “{found['profile']}”")
