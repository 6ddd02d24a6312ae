"""Check-in (docs/launches.md): an instance tells the portal it booted, is ready (its user-data finished) or
failed (with what failed), using its instance token (clusters.instance_auth)."""

from __future__ import annotations

from django.utils import timezone

from clusters.models import ClusterEvent, ClusterState, Instance, InstanceState
from clusters.models.launches import IN_FLIGHT_STATES
from clusters.rendezvous import RendezvousError, storable_text

STATUSES = ("booted", "ready", "failed")
MAX_MESSAGE_LENGTH = 10_000
# Ready means "contextualized": only a node the portal launched can become it. An instance already
# failed, terminating or ready keeps its state; the check-in itself is still recorded.
_MAY_BECOME_READY = (InstanceState.LAUNCHING, InstanceState.RUNNING)


class CheckinError(ValueError):
    """A check-in that cannot be recorded; the message is one line for the caller."""


def record(instance: Instance, status: str, message: str = "") -> Instance:
    """Record the check-in and return the instance with it."""
    if status not in STATUSES:
        raise CheckinError(f"status must be one of {', '.join(STATUSES)}")
    if len(message) > MAX_MESSAGE_LENGTH:
        raise CheckinError(f"the message is {len(message):,} characters; the limit is {MAX_MESSAGE_LENGTH:,}")
    try:
        storable_text(message, "the message")
    except RendezvousError as exc:
        raise CheckinError(str(exc)) from None
    now = timezone.now()
    recorded = {"checkin_status": status, "checkin_message": message, "updated": now}
    # Conditional UPDATEs rather than save(): the launcher records node changes on the same row
    # concurrently, and neither must overwrite the other's fields with stale values.
    became_ready = status == "ready" and bool(
        Instance.objects.filter(pk=instance.pk, state__in=_MAY_BECOME_READY).update(
            state=InstanceState.READY, ready_at=now, **recorded
        )
    )
    if not became_ready:
        Instance.objects.filter(pk=instance.pk).update(**recorded)
    if status == "failed":
        text = (
            f"{instance.name} reports a failure: {message}"
            if message
            else f"{instance.name} reports a failure"
        )
        ClusterEvent.objects.create(cluster_id=instance.cluster_id, level="error", message=text)
    elif became_ready:
        ClusterEvent.objects.create(cluster_id=instance.cluster_id, message=f"{instance.name} is ready")
        _refresh_if_launched(instance.cluster)
    if status == "ready" and not became_ready:
        instance.refresh_from_db()  # it did not become ready: the row says what it is instead
        return instance
    # Otherwise what was just written, and the rest as read with the token a moment ago: a thousand
    # VMs check in at once, so no query reads the row back.
    instance.checkin_status, instance.checkin_message, instance.updated = status, message, now
    if became_ready:
        instance.state, instance.ready_at = InstanceState.READY, now
    return instance


def _refresh_if_launched(cluster) -> None:
    """A ready instance changes its cluster's state only when it was the last one launching: a
    ready instance counts as running for the cluster, so only the end of the launch matters. That
    is one indexed look here, not the whole cluster's states on every check-in."""
    if (
        cluster.state != ClusterState.LAUNCHING
        or cluster.instances.filter(state__in=IN_FLIGHT_STATES).exists()
    ):
        return
    from clusters.launcher import refresh_state  # the launcher imports much; only needed here

    refresh_state(cluster)
