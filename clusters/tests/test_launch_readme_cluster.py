"""The README's HTCondor cluster launches (issue: a master whose profile names
`{{ roles.master.address }}` saved and previewed fine, then failed at launch with Jinja's "'dict
object' has no attribute 'master'", and the cluster stayed "launching 0/6" for ever).

The cloud side runs in this process against moto's EC2 server; the portal's records of what it did
run here too, so the launch goes role after role as it does with workers."""

from pathlib import Path

import pytest

from clusters import launcher, recording
from clusters.models import ClusterDefinition, ClusterState, Image, Instance, Role, ServiceOffering
from clusters.tests.fault_helpers import Queues, monitor_cycle, run_here, take_messages
from clusters.tests.launch_helpers import cloud_with_offering, user_data_of
from contexts.document import parse_yaml
from contexts.profiles import add_revision, create_profile

pytestmark = pytest.mark.django_db
EXAMPLES = Path(__file__).resolve().parents[2] / "examples"


def readme_definition(owner, cloud, workers=5) -> ClusterDefinition:
    master = create_profile(
        owner, "condor master", parse_yaml((EXAMPLES / "htcondor-master.yaml").read_text())
    )
    worker = create_profile(
        owner, "condor worker", parse_yaml((EXAMPLES / "htcondor-worker.yaml").read_text())
    )
    definition = ClusterDefinition.objects.create(owner=owner, name="condor pool")
    image, offering = Image.objects.get(cloud=cloud), ServiceOffering.objects.get()
    Role.objects.create(definition=definition, name="master", profile=master, image=image, offering=offering)
    Role.objects.create(definition=definition, name="worker", profile=worker, image=image, offering=offering,
                        count=workers, depends_on=["master"], position=1)  # fmt: skip
    return definition


def record_reports(queues, count, django_capture_on_commit_callbacks):
    """The portal's records of `count` cloud-side reports, and what they set off."""
    for name, (outcomes,) in take_messages(queues.results, count):
        assert name == "clusters.record_outcomes"
        with django_capture_on_commit_callbacks(execute=True):
            recording.outcomes(outcomes)


def quota_failure(instance) -> dict:
    return {"instance": instance.pk, "failed": "InstanceLimitExceeded: too many instances", "permanent": True}


def test_the_readme_condor_cluster_launches_every_role(alice, moto_ec2, django_capture_on_commit_callbacks):
    queues = Queues()
    cloud = cloud_with_offering(alice, moto_ec2.config(), queue=queues.cloud)
    with django_capture_on_commit_callbacks(execute=True):
        cluster = launcher.launch(
            readme_definition(alice, cloud), alice, "demo", {"master": cloud, "worker": cloud}
        )
    master = Instance.objects.get(cluster=cluster, role="master")
    assert (master.state, master.last_error) == ("launching", "")

    run_here(queues, 1)
    record_reports(queues, 1, django_capture_on_commit_callbacks)
    monitor_cycle(cloud, queues, django_capture_on_commit_callbacks)  # the master runs: workers go
    run_here(queues, 5)
    record_reports(queues, 5, django_capture_on_commit_callbacks)

    assert Instance.objects.get(cluster=cluster, role="master").state == "running"
    assert set(Instance.objects.filter(cluster=cluster, role="worker").values_list("state", flat=True)) == {
        "launching"
    }
    master.refresh_from_db()
    data = user_data_of(moto_ec2.boto3_client(), master.node_id).decode()
    assert "hostname: demo-master\n" in data
    assert "manage_etc_hosts: true" in data  # so that its own name resolves (HTCondor needs it)
    assert 'host = "demo-master"' in data  # ganglia's collector: roles.master.address, its own name


def test_a_role_that_names_its_own_address_gets_its_own_host_name_when_the_profile_sets_none(
    alice, moto_ec2, django_capture_on_commit_callbacks
):
    queues = Queues()
    cloud = cloud_with_offering(alice, moto_ec2.config(), queue=queues.cloud)
    profile = create_profile(alice, "head", {"schema": 1, "env": {"HEAD": "{{ roles.head.address }}"}})
    definition = ClusterDefinition.objects.create(owner=alice, name="solo")
    Role.objects.create(definition=definition, name="head", profile=profile, image=Image.objects.get(cloud=cloud),
                        offering=ServiceOffering.objects.get())  # fmt: skip
    with django_capture_on_commit_callbacks(execute=True):
        cluster = launcher.launch(definition, alice, "solo", {"head": cloud})
    run_here(queues, 1)
    record_reports(queues, 1, django_capture_on_commit_callbacks)

    head = Instance.objects.get(cluster=cluster)
    data = user_data_of(moto_ec2.boto3_client(), head.node_id).decode()
    assert "hostname: solo-head-0\n" in data
    assert "export HEAD='solo-head-0'" in data


def test_a_cluster_whose_first_role_failed_ends_failed_instead_of_launching_for_ever(
    alice, moto_ec2, django_capture_on_commit_callbacks
):
    cluster, _master = failed_cluster(alice, moto_ec2, django_capture_on_commit_callbacks)

    cluster.refresh_from_db()
    assert cluster.state == ClusterState.FAILED
    workers = Instance.objects.filter(cluster=cluster, role="worker")
    assert {(w.state, w.last_error) for w in workers} == {
        ("failed", "not launched: it needs the address of role master, which has no instance left")
    }


def test_a_cluster_whose_needed_role_partly_failed_still_launches_on_the_live_ones(
    alice, moto_ec2, django_capture_on_commit_callbacks
):
    """Only a role with no live instance at all stops the roles that need it."""
    queues = Queues()
    cloud = cloud_with_offering(alice, moto_ec2.config(), queue=queues.cloud)
    definition = readme_definition(alice, cloud)
    definition.roles.filter(name="master").update(count=2)
    with django_capture_on_commit_callbacks(execute=True):
        cluster = launcher.launch(definition, alice, "demo", {"master": cloud, "worker": cloud})
    first, second = Instance.objects.filter(cluster=cluster, role="master").order_by("index")

    with django_capture_on_commit_callbacks(execute=True):
        recording.outcomes([quota_failure(first)])
    take_messages(queues.cloud, 2)  # both creates; the second one is made here
    assert set(Instance.objects.filter(cluster=cluster, role="worker").values_list("state", flat=True)) == {
        "requested"
    }
    cluster.refresh_from_db()
    assert cluster.state == ClusterState.LAUNCHING


def failed_cluster(alice, moto_ec2, django_capture_on_commit_callbacks):
    queues = Queues()
    cloud = cloud_with_offering(alice, moto_ec2.config(), queue=queues.cloud)
    with django_capture_on_commit_callbacks(execute=True):
        cluster = launcher.launch(
            readme_definition(alice, cloud), alice, "demo", {"master": cloud, "worker": cloud}
        )
    master = Instance.objects.get(cluster=cluster, role="master")
    with django_capture_on_commit_callbacks(execute=True):
        recording.outcomes([quota_failure(master)])
    return cluster, master


def test_retry_failed_says_which_revision_it_uses_and_offers_the_latest(
    alice, alice_client, moto_ec2, django_capture_on_commit_callbacks
):
    cluster, master = failed_cluster(alice, moto_ec2, django_capture_on_commit_callbacks)
    page = alice_client.get(f"/clusters/{cluster.pk}/").content.decode()
    assert "Retry failed sends role <strong>master</strong> with revision 1 of “condor master”." in page
    assert "the latest is" not in page and 'value="latest"' not in page

    fixed = master.revision.profile
    add_revision(fixed, {**parse_yaml((EXAMPLES / "htcondor-master.yaml").read_text()), "timezone": "UTC"},
                 author=alice)  # fmt: skip
    page = alice_client.get(f"/clusters/{cluster.pk}/").content.decode()
    assert "with revision 1 of “condor master”; the latest is revision 2." in page
    assert "Retry failed with the latest revisions" in page

    with django_capture_on_commit_callbacks(execute=True):
        alice_client.post(f"/clusters/{cluster.pk}/retry/", {"revision": "latest"})
    master.refresh_from_db()
    assert (master.revision.number, master.state) == (2, "launching")
    cluster.refresh_from_db()
    assert cluster.role("master")["revision"] == master.revision_id  # scale-ups use it too
    assert cluster.events.filter(message="role master now uses revision 2 of “condor master”").exists()


def test_retry_through_the_api_names_the_revisions_it_used(
    alice, moto_ec2, django_capture_on_commit_callbacks
):
    from rest_framework.test import APIClient

    cluster, master = failed_cluster(alice, moto_ec2, django_capture_on_commit_callbacks)
    client = APIClient()
    client.force_authenticate(alice)

    answer = client.post(f"/api/v1/clusters/{cluster.pk}/retry/", {}, format="json").json()

    assert answer["retried"] == 6
    assert answer["revisions"] == [{"role": "master", "profile": "condor master", "revision": 1},
                                   {"role": "worker", "profile": "condor worker", "revision": 1}]  # fmt: skip
    bad = client.post(f"/api/v1/clusters/{cluster.pk}/retry/", {"revision": "newest"}, format="json")
    assert bad.status_code == 400
