"""Clusters and instances made directly in the database, each instance with its own token, for
the instance API tests (check-in, rendezvous)."""

from clusters.instance_auth import new_instance_token
from clusters.models import Cluster, Instance, InstanceState
from clusters.tests.cloud_helpers import make_cloud
from contexts.profiles import create_profile


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
