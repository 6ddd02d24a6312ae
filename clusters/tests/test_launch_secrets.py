"""A launch never renders another owner's secrets (issue: Charlie launched Alice's public
definition and his instances' user-data, read back from the cloud API, held her HTCondor pool
password and her password hash).

The cloud side runs in this process against moto's EC2 server, so the user-data checked is what
the cloud received."""

import base64

import pytest

from clusters import launcher, userdata
from clusters.models import ClusterDefinition, Image, Role, ServiceOffering
from clusters.tests.fault_helpers import Queues, run_here
from clusters.tests.launch_helpers import cloud_with_offering, user_data_of
from contexts import secrets
from contexts.models import Profile
from contexts.profiles import create_profile
from portal import crypto

pytestmark = pytest.mark.django_db

USER_PASSWORD, POOL_PASSWORD, ROOT_PASSWORD = "Alice-pw-9137", "Pool-pw-7731", "Root-pw-5521"
WORKER = {
    "schema": 1,
    "users": [
        {"name": "alice", "password": USER_PASSWORD, "ssh_authorized_keys": ["ssh-ed25519 AAAAC3 a@b"]}
    ],
    "root": {"password": ROOT_PASSWORD},
    "services": {"condor": {"role": "worker", "pool_password": POOL_PASSWORD}},
}


def alices_public_definition(alice, *, visibility="public", profile_visibility="public"):
    alices_cloud = cloud_with_offering(alice, _unused_config(), name="alice's cloud")
    profile = create_profile(alice, "condor worker", WORKER, visibility=profile_visibility)
    definition = ClusterDefinition.objects.create(owner=alice, name="alice's pool", visibility=visibility)
    Role.objects.create(definition=definition, name="worker", profile=profile, count=1,
                        image=Image.objects.get(cloud=alices_cloud), offering=ServiceOffering.objects.get())  # fmt: skip
    return definition, profile


def _unused_config():
    from clusters.providers import CloudConfig

    return CloudConfig(
        driver="ec2", credentials={"key": "k", "secret": "s"}, host="127.0.0.1", port=9, secure=False
    )


def launched_user_data(
    user, definition, moto_ec2, django_capture_on_commit_callbacks
) -> tuple[bytes, object]:
    queues = Queues()
    cloud = cloud_with_offering(user, moto_ec2.config(), name=f"{user}'s moto", queue=queues.cloud)
    with django_capture_on_commit_callbacks(execute=True):
        cluster = launcher.launch(definition, user, "pool", {"worker": cloud})
    run_here(queues, 1)
    [(_task, ([outcome],))] = _reports(queues)
    node = outcome["node"]
    return user_data_of(moto_ec2.boto3_client(), node["id"]), cluster


def _reports(queues):
    from clusters.tests.fault_helpers import take_messages

    return take_messages(queues.results, 1)


def alices_secrets_in(data: bytes, profile: Profile) -> list[str]:
    seed = bytes.fromhex(profile.latest.salt)
    text = data.decode()
    found = [s for s in (USER_PASSWORD, POOL_PASSWORD, ROOT_PASSWORD) if s in text]
    found += [s for s in (POOL_PASSWORD, USER_PASSWORD) if base64.b64encode(s.encode()).decode() in text]
    for purpose, password in (("users.alice", USER_PASSWORD), ("root", ROOT_PASSWORD)):
        digest = secrets.password_hash(password, seed, purpose)
        found += [f"{purpose} hash"] if digest in text else []
    return found


def test_charlies_launch_of_alices_public_definition_carries_none_of_her_secrets(
    alice, charlie, moto_ec2, django_capture_on_commit_callbacks
):
    definition, profile = alices_public_definition(alice)

    data, cluster = launched_user_data(charlie, definition, moto_ec2, django_capture_on_commit_callbacks)

    assert alices_secrets_in(data, profile) == []
    assert b"users:" in data and b"name: alice" in data  # the rest of the profile is there
    assert b"hashed_passwd" not in data  # her account gets no password: SSH keys only
    notes = list(cluster.events.values_list("message", flat=True))
    assert any("left out" in note and "alice" in note for note in notes), notes


def test_the_pool_stays_password_protected_with_a_password_of_the_launchers_cluster(
    alice, charlie, moto_ec2, django_capture_on_commit_callbacks
):
    definition, _profile = alices_public_definition(alice)

    data, cluster = launched_user_data(charlie, definition, moto_ec2, django_capture_on_commit_callbacks)

    assert b"SEC_PASSWORD_FILE" in data
    expected = userdata.shared_secret(crypto.decrypt(cluster.secret), "htcondor pool password")
    assert base64.b64encode(expected.encode()) in data


def test_the_owner_launching_her_own_definition_gets_her_secrets(
    alice, moto_ec2, django_capture_on_commit_callbacks
):
    definition, profile = alices_public_definition(alice)

    data, _cluster = launched_user_data(alice, definition, moto_ec2, django_capture_on_commit_callbacks)

    assert set(alices_secrets_in(data, profile)) == {POOL_PASSWORD, "users.alice hash", "root hash"}


def test_a_private_profile_in_a_public_definition_is_refused_to_others_in_plain_words(alice, charlie):
    definition, _profile = alices_public_definition(alice, profile_visibility="private")
    cloud = cloud_with_offering(charlie, _unused_config(), name="charlie's cloud")

    with pytest.raises(launcher.LaunchError) as refused:
        launcher.launch(definition, charlie, "pool", {"worker": cloud})

    assert refused.value.messages == [
        "role worker: the profile “condor worker” is alice's and private: only alice can launch it"
    ]


def test_a_profile_made_private_after_publication_is_refused_too(alice, charlie):
    definition, profile = alices_public_definition(alice)
    cloud = cloud_with_offering(charlie, _unused_config(), name="charlie's cloud")
    Profile.objects.filter(pk=profile.pk).update(visibility="private")

    with pytest.raises(launcher.LaunchError) as refused:
        launcher.launch(definition, charlie, "pool", {"worker": cloud})

    assert "private" in refused.value.messages[0]


def test_the_launch_page_says_which_secrets_are_left_out(alice, charlie, charlie_client):
    definition, _profile = alices_public_definition(alice)
    cloud_with_offering(charlie, _unused_config(), name="charlie's cloud")

    page = charlie_client.get(f"/definitions/{definition.pk}/launch/").content.decode()

    assert "alice" in page and "left out" in page
    assert "the password of the user alice" in page
    assert "a pool password made for this cluster" in page


def test_the_api_launch_reports_the_secrets_left_out(alice, charlie, moto_ec2):
    from rest_framework.test import APIClient

    definition, _profile = alices_public_definition(alice)
    cloud = cloud_with_offering(charlie, moto_ec2.config(), name="charlie's cloud")
    client = APIClient()
    client.force_authenticate(charlie)

    answer = client.post("/api/v1/clusters/", {"definition": definition.pk, "name": "pool", "cloud": cloud.pk},
                         format="json")  # fmt: skip

    assert answer.status_code == 201, answer.json()
    assert any("left out" in note for note in answer.json()["notices"])
