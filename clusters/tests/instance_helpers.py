"""Clusters and instances made directly in the database, each instance with its own token, for
the instance API tests (check-in, rendezvous)."""

import redis
from django.conf import settings

from clusters import rendezvous
from clusters.instance_auth import new_instance_token
from clusters.models import Cluster, Instance, InstanceState
from clusters.tests.cloud_helpers import make_cloud
from contexts.profiles import create_profile
from portal.testing.waits import DEADLINE, wait_for


def make_cluster(owner, name="demo") -> Cluster:
    return Cluster.objects.create(owner=owner, name=name, snapshot={"roles": []}, secret="not-used")


def make_instance(
    cluster: Cluster, role="worker", index=0, state=InstanceState.RUNNING
) -> tuple[Instance, str]:
    """An instance of `cluster` and its plaintext token."""
    cloud = make_cloud(cluster.owner, name=f"cloud {cluster.name} {role} {index}")
    revision = create_profile(cluster.owner, f"{cluster.name} {role} {index}", {"schema": 1}).latest
    token, token_hash = new_instance_token()
    instance = Instance.objects.create(
        cluster=cluster, role=role, index=index, cloud=cloud, revision=revision,
        name=f"{cluster.name}-{role}-{index}", state=state, checkin_token_hash=token_hash,
    )  # fmt: skip
    return instance, token


def auth(token: str) -> dict:
    """The test client's headers for an instance token."""
    return {"HTTP_AUTHORIZATION": f"Instance {token}"}


def wait_until_a_waiter_listens() -> None:
    """Until a rendezvous wait (in any process) listens for writes: its process subscribed to the
    channel of writes, so a write from now on wakes it rather than being read on its arrival."""
    client = redis.Redis.from_url(settings.CELERY_BROKER_URL)
    try:
        wait_for(lambda: client.pubsub_numsub(rendezvous._channel())[0][1] > 0, timeout=DEADLINE, every=0.05,
                 message="a rendezvous wait listening")  # fmt: skip
    finally:
        client.close()
