"""Check-in (SPEC §6): an instance tells the portal it booted, is ready (its user-data finished) or
failed (with what failed), using its instance token (clusters.instance_auth)."""

from __future__ import annotations

from django.utils import timezone

from clusters.models import ClusterEvent, Instance, InstanceState
from clusters.rendezvous import RendezvousError, storable_text

STATUSES = ("booted", "ready", "failed")
MAX_MESSAGE_LENGTH = 10_000
# Ready means "contextualized": only a node the portal launched can become it. An instance already
# failed, terminating or ready keeps its state; the check-in itself is still recorded.
_MAY_BECOME_READY = (InstanceState.LAUNCHING, InstanceState.RUNNING)


class CheckinError(ValueError):
    """A check-in that cannot be recorded; the message is one line for the caller."""


def record(instance: Instance, status: str, message: str = "") -> Instance:
    """Record the check-in and return the instance as it is now."""
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
    cluster = instance.cluster
    if status == "failed":
        text = (
            f"{instance.name} reports a failure: {message}"
            if message
            else f"{instance.name} reports a failure"
        )
        ClusterEvent.objects.create(cluster=cluster, level="error", message=text)
    elif became_ready:
        ClusterEvent.objects.create(cluster=cluster, message=f"{instance.name} is ready")
        from clusters.launcher import refresh_state  # the launcher imports much; only needed here

        refresh_state(cluster)
    instance.refresh_from_db()
    return instance
