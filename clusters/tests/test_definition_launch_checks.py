"""Everything a launch can fail on is said when the definition is saved, in plain words — not found
by the first VM (issue: the README's cluster saved fine and failed at launch)."""

import pytest

from clusters import launcher
from clusters.definitions import definition_problems
from clusters.models import ClusterDefinition, Image
from clusters.tests.cloud_helpers import make_cloud
from clusters.tests.definition_helpers import definition_data, make_offering, make_profile, role
from clusters.tests.launch_helpers import cloud_with_offering

pytestmark = pytest.mark.django_db

NEEDS_MASTER = {"schema": 1, "env": {"CONDOR_HOST": "{{ roles.master.address }}"}}
NAMES_ITSELF = {"schema": 1, "env": {"ME": "{{ roles.master.address }}"}}


@pytest.fixture
def parts(alice):
    cloud = make_cloud(alice, name="My EC2")
    return {
        "image": Image.objects.create(cloud=cloud, name="AlmaLinux 9", provider_id="ami-1"),
        "offering": make_offering("small"),
    }


def roles(parts, *shapes):
    base = {"pinned_revision": None, "offering": parts["offering"], "size": "", "image": parts["image"],
            "count": 1, "min_count": 0, "max_count": None, "depends_on": []}  # fmt: skip
    return [{**base, **shape} for shape in shapes]


def problems(owner, roles_data):
    return definition_problems(ClusterDefinition(owner=owner, name="new"), roles_data)


def test_a_role_naming_another_roles_address_must_depend_on_it(alice, parts):
    found = problems(alice, roles(parts,
        {"name": "master", "profile": make_profile(alice, "master")},
        {"name": "worker", "profile": make_profile(alice, "worker", document=NEEDS_MASTER)},
    ))  # fmt: skip
    assert found == [
        "role 'worker': its profile uses the address of role master (roles.master), so it must depend on "
        "master: add master to the roles it needs"
    ]


def test_a_role_may_name_its_own_address(alice, parts):
    found = problems(
        alice, roles(parts, {"name": "master", "profile": make_profile(alice, "m", document=NAMES_ITSELF)})
    )
    assert found == []


def test_user_data_over_the_clouds_limit_is_found_when_saving(alice, parts):
    big = {"schema": 1, "files": [{"path": "/etc/big", "content": "x" * 20000}]}
    parts["image"].format = "amiconfig"  # not compressed: 20 KB is over EC2's 16 KiB
    parts["image"].save()
    found = problems(
        alice, roles(parts, {"name": "node", "profile": make_profile(alice, "big", document=big)})
    )
    assert len(found) == 1
    assert found[0].startswith(
        "role 'node': its user-data cannot be made for AlmaLinux 9 on My EC2: user-data is "
    )
    assert found[0].endswith("bytes; the ec2 limit is 16,384 bytes")


def test_a_template_that_fails_with_the_roles_real_names_is_found_when_saving(alice, parts):
    bad_hostname = {"schema": 1, "hostname": "{{ role.name }} {{ instance.index }}"}  # a space
    found = problems(
        alice, roles(parts, {"name": "node", "profile": make_profile(alice, "h", document=bad_hostname)})
    )
    assert found == [
        "role 'node': its user-data cannot be made for AlmaLinux 9 on My EC2: hostname: 'node 0' "
        "is not a valid host name (letters, digits and '-', in labels separated by '.')"
    ]


def test_the_editor_shows_the_missing_dependency(alice, alice_client, parts):
    master, worker = make_profile(alice, "master"), make_profile(alice, "worker", document=NEEDS_MASTER)
    page = alice_client.post("/definitions/new/", definition_data(
        role("master", master, parts["image"], offering=parts["offering"]),
        role("worker", worker, parts["image"], offering=parts["offering"]),
    ))  # fmt: skip
    assert page.status_code == 200
    assert "so it must depend on master" in page.content.decode()


def test_the_launch_checks_the_user_data_on_the_chosen_cloud_before_anything_is_created(alice):
    from clusters.providers import CloudConfig

    config = CloudConfig(
        driver="ec2", credentials={"key": "k", "secret": "s"}, host="127.0.0.1", port=9, secure=False
    )
    cloud = cloud_with_offering(alice, config, fmt="amiconfig")
    big = make_profile(
        alice, "big", document={"schema": 1, "files": [{"path": "/etc/big", "content": "x" * 20000}]}
    )
    definition = ClusterDefinition.objects.create(owner=alice, name="big")
    definition.roles.create(name="node", profile=big, image=Image.objects.get(cloud=cloud), size="t2.micro")

    with pytest.raises(launcher.LaunchError) as refused:
        launcher.launch(definition, alice, "big", {"node": cloud})

    assert "the ec2 limit is 16,384 bytes" in refused.value.messages[0]
    assert not alice.clusters.exists()
