"""The launch form and the cluster pages: who may see and change a cluster, and what a bad
launch says. (Dispatching to the cloud happens after the transaction commits, which these
tests never do: they check the pages and the rows, the end-to-end test checks the cloud.)"""

import pytest

from clusters.models import Cluster, ClusterState, Instance, SizeMapping
from clusters.providers import CloudConfig
from clusters.tests.launch_helpers import cloud_with_offering, condor_definition

pytestmark = pytest.mark.django_db
CONFIG = CloudConfig(
    driver="ec2", credentials={"key": "k", "secret": "s"}, host="127.0.0.1", port=1, secure=False
)


@pytest.fixture
def definition(alice):
    cloud = cloud_with_offering(alice, CONFIG)
    return condor_definition(alice, cloud, workers=3)


def _launch(client, definition, **data):
    cloud = definition.roles.first().image.cloud
    form = {"name": "demo", "cloud": cloud.pk, "confirm_unserved": "1", **data}
    return client.post(f"/definitions/{definition.pk}/launch/", form)


def test_launching_creates_the_cluster_and_its_instances(alice_client, definition):
    response = _launch(alice_client, definition)
    cluster = Cluster.objects.get()
    assert response.status_code == 302 and response.url == f"/clusters/{cluster.pk}/"
    assert cluster.state == ClusterState.LAUNCHING
    assert sorted(Instance.objects.values_list("name", flat=True)) == [
        "demo-master-0", "demo-worker-0", "demo-worker-1", "demo-worker-2",
    ]  # fmt: skip
    roles = {r["name"]: r for r in cluster.snapshot["roles"]}
    assert roles["worker"]["size_id"] == "t2.micro" and roles["worker"]["depends_on"] == ["master"]


def test_a_cloud_without_a_size_for_the_offering_is_explained(alice_client, definition):
    SizeMapping.objects.all().delete()
    response = _launch(alice_client, definition)
    assert response.status_code == 200
    assert "has no size for offering small" in response.content.decode()
    assert not Cluster.objects.exists()


def test_a_queue_nobody_serves_is_warned_about_before_launching(alice_client, definition):
    cloud = definition.roles.first().image.cloud
    cloud.queue = "nobody-serves-this"
    cloud.save()
    response = _launch(alice_client, definition, confirm_unserved="")
    assert response.status_code == 200
    assert "nobody serves the queue" in response.content.decode()
    assert not Cluster.objects.exists()


def test_a_bad_cluster_name_is_a_form_error(alice_client, definition):
    response = _launch(alice_client, definition, name="Not A Host Name!")
    assert response.status_code == 200
    assert not Cluster.objects.exists()


def test_the_cluster_page_shows_progress_roles_and_instances(alice_client, definition):
    _launch(alice_client, definition)
    cluster = Cluster.objects.get()
    html = alice_client.get(f"/clusters/{cluster.pk}/").content.decode()
    assert "0 of 4 instances running" in html
    assert 'data-role="worker"' in html and "demo-worker-2" in html
    assert "launch requested: 4 instances" in html


LIVE_PART = '<div id="cluster-live" hx-get="/clusters/{pk}/live/" hx-trigger="every 2s" hx-swap="outerHTML">'


def test_the_live_part_polls_until_the_cluster_is_terminated(alice_client, definition):
    _launch(alice_client, definition)
    cluster = Cluster.objects.get()
    page = alice_client.get(f"/clusters/{cluster.pk}/").content.decode()
    assert LIVE_PART.format(pk=cluster.pk) in page and "navbar" in page
    live = alice_client.get(f"/clusters/{cluster.pk}/live/", HTTP_HX_REQUEST="true").content.decode()
    assert live.lstrip().startswith(LIVE_PART.format(pk=cluster.pk)) and "navbar" not in live
    assert "0 of 4 instances running" in live

    Cluster.objects.filter(pk=cluster.pk).update(state=ClusterState.TERMINATED)
    live = alice_client.get(f"/clusters/{cluster.pk}/live/", HTTP_HX_REQUEST="true").content.decode()
    assert live.lstrip().startswith('<div id="cluster-live">'), "a terminated cluster stops the polling"
    assert "hx-trigger" not in alice_client.get(f"/clusters/{cluster.pk}/").content.decode()


def test_scaling_beyond_the_roles_maximum_is_refused(alice_client, definition):
    _launch(alice_client, definition)
    cluster = Cluster.objects.get()
    response = alice_client.post(
        f"/clusters/{cluster.pk}/scale/", {"role": "worker", "count": 500}, follow=True
    )
    assert "the count must be between 0 and 100" in response.content.decode()
    assert Instance.objects.filter(role="worker").count() == 3


def test_scaling_up_adds_instances_with_the_next_indexes(alice_client, definition):
    _launch(alice_client, definition)
    cluster = Cluster.objects.get()
    alice_client.post(f"/clusters/{cluster.pk}/scale/", {"role": "worker", "count": 5})
    indexes = sorted(Instance.objects.filter(role="worker").values_list("index", flat=True))
    assert indexes == [0, 1, 2, 3, 4]


def test_terminating_instances_without_nodes_ends_them_at_once(alice_client, definition):
    _launch(alice_client, definition)
    cluster = Cluster.objects.get()
    alice_client.post(f"/clusters/{cluster.pk}/terminate/")
    cluster.refresh_from_db()
    assert set(Instance.objects.values_list("state", flat=True)) == {"terminated"}
    assert cluster.state == ClusterState.TERMINATING  # until the state is refreshed after commit


@pytest.mark.parametrize("page", ["", "live/"])
def test_a_stranger_gets_404_on_a_cluster(alice_client, charlie_client, definition, page):
    _launch(alice_client, definition)
    cluster = Cluster.objects.get()
    assert charlie_client.get(f"/clusters/{cluster.pk}/{page}").status_code == 404


@pytest.mark.parametrize("action", ["scale/", "terminate/", "retry/"])
def test_a_stranger_cannot_change_a_cluster(alice_client, charlie_client, definition, action):
    _launch(alice_client, definition)
    cluster = Cluster.objects.get()
    response = charlie_client.post(f"/clusters/{cluster.pk}/{action}", {"role": "worker", "count": 0})
    assert response.status_code == 404
    assert Instance.objects.filter(state="requested").count() == 4


def test_a_stranger_cannot_launch_a_private_definition(charlie_client, definition):
    assert charlie_client.get(f"/definitions/{definition.pk}/launch/").status_code == 404
