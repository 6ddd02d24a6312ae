"""Celery tasks about clouds: thin, they take a cloud id, load it and call clusters.clouds.

They run on the cloud's own queue (clusters.queues.send_to_cloud_queue); their arguments are ids,
so no credential ever travels through the broker or shows in a worker's log.
"""

from celery import shared_task

from clusters import clouds
from clusters.models import Cloud


@shared_task
def check_cloud_task(cloud_id: int) -> str:
    cloud = Cloud.objects.filter(pk=cloud_id).first()
    if cloud is None:
        return "gone"
    return clouds.check_cloud(cloud)


@shared_task
def sync_cloud_task(cloud_id: int) -> str:
    cloud = Cloud.objects.filter(pk=cloud_id).first()
    if cloud is None:
        return "gone"
    return clouds.sync_cloud(cloud).message
