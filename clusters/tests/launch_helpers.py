"""A cluster definition ready to launch on a test cloud: an HTCondor-like master and workers that
need the master's address."""

import base64

from clusters.models import ClusterDefinition, Image, Instance, Role, ServiceOffering, SizeMapping
from clusters.tests.cloud_helpers import cloud_from_config
from contexts.profiles import create_profile

MASTER = {"schema": 1, "hostname": "{{ cluster.name }}-{{ role.name }}-{{ instance.index }}",
          "services": {"condor": {"role": "master"}}}  # fmt: skip
WORKER = {
    "schema": 1,
    "hostname": "{{ cluster.name }}-{{ role.name }}-{{ instance.index }}",
    "services": {"condor": {"role": "worker", "master": "{{ roles.master.address }}"}},
    "env": {"WORKER_INDEX": "{{ instance.index }}", "PORTAL_TOKEN": "{{ instance.token }}"},
}


def cloud_with_offering(owner, config, *, name="test cloud", size_id="t2.micro", image_id="ami-1e749f67",
                        fmt="cloud-init", **fields):  # fmt: skip
    cloud = cloud_from_config(owner, config, name=name, **fields)
    offering, _ = ServiceOffering.objects.get_or_create(
        name="small", defaults={"vcpus": 1, "ram_mb": 1024, "disk_gb": 10}
    )
    SizeMapping.objects.create(offering=offering, cloud=cloud, size_id=size_id)
    Image.objects.create(cloud=cloud, name="AlmaLinux 9", provider_id=image_id, format=fmt)
    return cloud


def condor_definition(owner, cloud, *, workers=20) -> ClusterDefinition:
    image = Image.objects.get(cloud=cloud, name="AlmaLinux 9")
    offering = ServiceOffering.objects.get(name="small")
    master = create_profile(owner, "condor master", MASTER)
    worker = create_profile(owner, "condor worker", WORKER)
    definition = ClusterDefinition.objects.create(owner=owner, name="condor")
    Role.objects.create(
        definition=definition, name="master", profile=master, offering=offering, image=image, count=1
    )
    Role.objects.create(definition=definition, name="worker", profile=worker, offering=offering, image=image,
                        count=workers, max_count=100, depends_on=["master"], position=1)  # fmt: skip
    return definition


def states(cluster) -> dict:
    found = {}
    for state in Instance.objects.filter(cluster=cluster).values_list("state", flat=True):
        found[state] = found.get(state, 0) + 1
    return found


def user_data_of(ec2, node_id: str) -> bytes:
    answer = ec2.describe_instance_attribute(InstanceId=node_id, Attribute="userData")
    return base64.b64decode(answer["UserData"]["Value"])


def moto_nodes(ec2, cluster) -> dict[str, str]:
    """{node id: state} of the cluster's nodes as moto sees them (by the portal's cluster tag)."""
    found = {}
    pages = ec2.get_paginator("describe_instances").paginate(
        Filters=[{"Name": "tag:context-portal-cluster", "Values": [str(cluster.pk)]}]
    )
    for page in pages:
        for reservation in page["Reservations"]:
            for node in reservation["Instances"]:
                found[node["InstanceId"]] = node["State"]["Name"]
    return found
