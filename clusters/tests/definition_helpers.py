"""Helpers shared by the cluster definition tests: profiles, offerings and images to build roles
from, a stored definition, and the POST data the definition editor sends."""

from clusters.models import ClusterDefinition, Image, Role, ServiceOffering
from clusters.tests.cloud_helpers import make_cloud
from contexts.profiles import create_profile

WORKER_DOCUMENT = {"schema": 1, "env": {"CONDOR_HOST": "{{ roles.master.address }}"}}


def make_profile(owner, name="Condor", *, document=None, visibility="private"):
    return create_profile(owner, name, document or {"schema": 1}, visibility=visibility)


def make_offering(name="medium", *, active=True):
    return ServiceOffering.objects.create(name=name, vcpus=2, ram_mb=4096, active=active)


def make_image(owner, name="CernVM 4", *, cloud_name="My EC2"):
    return Image.objects.create(cloud=make_cloud(owner, name=cloud_name), name=name, provider_id="ami-1")


def make_definition(owner, name="Condor pool", *, visibility="private", roles=()):
    """A stored definition; each role a dict of Role fields."""
    definition = ClusterDefinition.objects.create(owner=owner, name=name, visibility=visibility)
    for position, fields in enumerate(roles):
        Role.objects.create(definition=definition, position=position, **fields)
    return definition


def role(name, profile, image, *, offering=None, depends_on="", **fields) -> dict:
    """One role as the editor posts it."""
    values = {"name": name, "profile": profile.pk, "pinned_number": "", "offering": offering.pk if offering else "",
              "size": "", "image": image.pk, "count": 1, "min_count": 0, "max_count": "", "depends_on": depends_on}  # fmt: skip
    values.update(fields)
    return values


def definition_data(*roles: dict, name="Condor pool", visibility="private", stored=()) -> dict:
    """The editor's POST: the definition's fields and `roles` (the first ones those in `stored`,
    the Role rows already saved, in order)."""
    data = {"name": name, "description": "An HTCondor pool.", "visibility": visibility,
            "roles-TOTAL_FORMS": len(roles), "roles-INITIAL_FORMS": len(stored),
            "roles-MIN_NUM_FORMS": 0, "roles-MAX_NUM_FORMS": 1000}  # fmt: skip
    for index, values in enumerate(roles):
        for field, value in values.items():
            data[f"roles-{index}-{field}"] = value
        data[f"roles-{index}-id"] = stored[index].pk if index < len(stored) else ""
    return data
