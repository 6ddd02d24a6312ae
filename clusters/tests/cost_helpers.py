"""A priced cluster made directly in the database: its snapshot's roles carry a price and cores
(as launcher.plan writes them), its instances known launch and end times."""

from datetime import UTC, datetime, timedelta
from decimal import Decimal

from clusters.models import Cluster, ClusterDefinition, Instance, InstanceState, ServiceOffering
from clusters.providers import CloudConfig
from clusters.tests.cloud_helpers import make_cloud
from clusters.tests.launch_helpers import cloud_with_offering, condor_definition
from contexts.profiles import create_profile

# A fixed "now" for the tests: nothing depends on the clock.
NOW = datetime(2026, 3, 10, 12, 0, tzinfo=UTC)


def priced_role(name, price="0.50", cores=2, **fields) -> dict:
    return {"name": name, "count": 1, "min": 0, "max": None, "depends_on": [], "offering": "medium",
            "size_id": "t2.medium", "image": "cernvm", "image_id": "ami-1", "format": "cloud-init",
            "elastic": None, "spot": False, "price_per_hour": price, "cores": cores, **fields}  # fmt: skip


def priced_cluster(owner, roles=None, name="demo", **fields) -> Cluster:
    roles = roles if roles is not None else [priced_role("master", "1.00", 4), priced_role("worker")]
    cloud = make_cloud(owner, name=f"cloud of {name}")
    revision = create_profile(owner, f"profile of {name}", {"schema": 1}).latest
    for role in roles:
        role.update(cloud=cloud.pk, revision=revision.pk)
    return Cluster.objects.create(
        owner=owner, name=name, snapshot={"roles": roles}, secret="not-used", **fields
    )


def add_instance(cluster, role, launched_at, terminated_at=None, *, state=None, node_id="i-node") -> Instance:
    """An instance launched at `launched_at` and, with `terminated_at`, seen gone then."""
    role_snapshot = cluster.role(role)
    index = cluster.instances.filter(role=role).count()
    if state is None:
        state = InstanceState.TERMINATED if terminated_at else InstanceState.READY
    return Instance.objects.create(
        cluster=cluster, role=role, index=index, cloud_id=role_snapshot["cloud"],
        revision_id=role_snapshot["revision"], name=f"{cluster.name}-{role}-{index}", state=state,
        node_id=node_id and f"{node_id}-{role}-{index}", launched_at=launched_at, terminated_at=terminated_at,
    )  # fmt: skip


def priced_definition(owner) -> ClusterDefinition:
    """The launch tests' HTCondor pool (a master and two workers) on offering "small" at 0.25 an
    hour, on a cloud that is never called (launches here are never dispatched)."""
    config = CloudConfig(driver="ec2", credentials={"key": "k", "secret": "s"}, host="127.0.0.1", port=1)
    cloud = cloud_with_offering(owner, config)
    ServiceOffering.objects.filter(name="small").update(price_per_hour=Decimal("0.25"))
    return condor_definition(owner, cloud, workers=2)


def add_known_usage(cluster, now) -> Cluster:
    """A master (1.00 an hour, 4 cores) that ran 3 hours, a worker (0.50, 2 cores) that ran 2, and
    a worker on its way to a node: 5 instance-hours, 16 core-hours, 4.00 spent and 0.50 an hour
    now, however long the test takes."""
    hour = timedelta(hours=1)
    add_instance(cluster, "master", now - 5 * hour, now - 2 * hour)
    add_instance(cluster, "worker", now - 4 * hour, now - 2 * hour)
    add_instance(cluster, "worker", now, state=InstanceState.LAUNCHING, node_id="")
    return cluster
