"""Celery tasks about clouds: thin, they take a cloud id, load it and call clusters.clouds.

They run on the cloud's own queue (clusters.queues.send_to_cloud_queue); their arguments are ids,
so no credential ever travels through the broker or shows in a worker's log.
"""

from celery import shared_task
from django.db import InterfaceError, OperationalError
from django.utils import timezone
from kombu.exceptions import OperationalError as BrokerError

from clusters import clouds, launcher, recording
from clusters.cloudside_check import cloud_check
from clusters.elastic import history, scaler
from clusters.models import CheckState, Cloud
from clusters.queues import send_to_cloud_queue


@shared_task
def check_cloud_task(cloud_id: int) -> str:
    cloud = Cloud.objects.filter(pk=cloud_id).first()
    if cloud is None:
        return "gone"
    return clouds.check_cloud(cloud)


def send_check(cloud: Cloud) -> None:
    """Queue "Test connection" on the cloud's queue. A portal worker checks with the stored
    credentials; a cloud served by a gateway agent has none here, so its agent runs the
    database-free cloud-side check and reports to `record_check`."""
    if cloud.served_by_agent:
        send_to_cloud_queue(cloud_check, cloud, launcher.cloud_ref(cloud))
    else:
        send_to_cloud_queue(check_cloud_task, cloud, cloud.pk)


BROKER_DOWN = "Could not queue the test: the task broker is unreachable."


def start_check(cloud: Cloud) -> None:
    """ "Test connection", wherever it is started (page, API, admin): the cloud shows "checking…"
    until the outcome is recorded; when the test cannot be queued, it shows that failure instead of
    checking for ever, and the broker's error is raised for the caller to say so too."""
    clouds.record_check(cloud, CheckState.PENDING)
    try:
        send_check(cloud)
    except BrokerError:
        clouds.record_check(cloud, CheckState.FAILED, BROKER_DOWN)
        raise


@shared_task(name="clusters.record_check")
def record_check(cloud_id: int, ok: bool, message: str) -> None:
    """The outcome of a cloud-side check; dropped when nobody waits for it any more (the cloud's
    settings changed meanwhile, which resets its check)."""
    cloud = Cloud.objects.filter(pk=cloud_id, check_state=CheckState.PENDING).first()
    if cloud is not None:
        clouds.record_check(cloud, CheckState.OK if ok else CheckState.FAILED, message)


@shared_task
def sync_cloud_task(cloud_id: int) -> str:
    cloud = Cloud.objects.filter(pk=cloud_id).first()
    if cloud is None:
        return "gone"
    return clouds.sync_cloud(cloud).message


# Portal-side records of what the cloud side did (clusters.cloudside sends these by name, from a
# portal worker or a gateway agent). Thin: they call clusters.recording. A record is idempotent, so
# one that met a transient database error (a lock held too long, a dropped connection) is simply
# run again, backing off; acks_late (the settings) brings it back if its worker died.
RECORD = {
    "autoretry_for": (OperationalError, InterfaceError),
    "retry_backoff": 0.5,
    "retry_backoff_max": 30,
    "retry_jitter": True,
    "max_retries": 12,
}


@shared_task(name="clusters.record_outcomes", **RECORD)
def record_outcomes(outcomes: list[dict]) -> None:
    recording.outcomes(outcomes)


@shared_task(name="clusters.advance_cluster", **RECORD)
def advance_cluster(cluster_id: int) -> None:
    """Render and send a cluster's waiting instances (launcher.advance_later puts it here)."""
    launcher.advance(cluster_id)


@shared_task(name="clusters.record_node_destroyed", **RECORD)
def record_node_destroyed(instance_id: int | None, node_id: str, error: str) -> None:
    if instance_id is not None:
        recording.node_destroyed(instance_id, node_id, error)


@shared_task(name="clusters.record_node_list", **RECORD)
def record_node_list(cloud_id: int, asked_at: str, nodes: list | None, error: str) -> dict:
    return recording.node_list(cloud_id, nodes, error, asked_at=asked_at)


@shared_task(name="clusters.monitor_clouds")
def monitor_clouds() -> int:
    return recording.monitor_clouds()


@shared_task(name="clusters.prune_queue_samples")
def prune_queue_samples() -> int:
    """Run hourly by Celery beat (CELERY_BEAT_SCHEDULE): delete the queue samples older than a week."""
    return history.prune_samples(timezone.now())


@shared_task(name="clusters.elastic_tick")
def elastic_tick() -> int:
    """Run by Celery beat every ELASTIC_INTERVAL seconds: the elastic policy applied to each cluster."""
    return scaler.tick()
