"""The page of a big cluster (docs/launches.md, docs/performance.md): its progress and roles count every instance, its table
shows them a hundred at a time, and its live part keeps the page the user is on."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from clusters.models import Cluster, ClusterState, Instance, InstanceState
from clusters.tests.instance_helpers import make_cluster, make_instance

pytestmark = pytest.mark.django_db
WORKERS = 250


@pytest.fixture
def cluster(alice):
    """A running cluster: a master and 250 workers, the last ten failed."""
    master, _token = make_instance(make_cluster(alice), role="master")
    cluster = master.cluster
    Instance.objects.bulk_create(
        Instance(cluster=cluster, role="worker", index=index, cloud=master.cloud, revision=master.revision,
                 name=f"demo-worker-{index}", node_id=f"i-{index:04d}", private_ips=[f"10.0.{index // 200}.{index % 200}"],
                 state=InstanceState.FAILED if index >= WORKERS - 10 else InstanceState.READY)
        for index in range(WORKERS)
    )  # fmt: skip
    role = {
        "min": 0,
        "max": None,
        "depends_on": [],
        "cloud": master.cloud_id,
        "revision": master.revision_id,
        "offering": "small",
        "size_id": "t2.micro",
        "image": "cernvm",
        "image_id": "ami-1",
        "format": "cloud-init",
    }
    roles = [{**role, "name": "master", "count": 1}, {**role, "name": "worker", "count": WORKERS}]
    Cluster.objects.filter(pk=cluster.pk).update(state=ClusterState.DEGRADED, snapshot={"roles": roles})
    return cluster


def names(html: str) -> set[str]:
    return {f"demo-worker-{i}" for i in range(WORKERS) if f"demo-worker-{i}<" in html} | (
        {"demo-master-0"} if "demo-master-0<" in html else set()
    )


def test_progress_and_roles_count_every_instance(alice_client, cluster):
    html = alice_client.get(f"/clusters/{cluster.pk}/").content.decode()
    assert "241 of 251 instances running, 10 failed" in html
    assert "failed 10, ready 240" in html


def test_the_table_shows_a_hundred_instances_a_page(alice_client, cluster):
    first = alice_client.get(f"/clusters/{cluster.pk}/").content.decode()
    assert names(first) == {"demo-master-0", *(f"demo-worker-{i}" for i in range(99))}
    third = alice_client.get(f"/clusters/{cluster.pk}/?page=3").content.decode()
    assert names(third) == {f"demo-worker-{i}" for i in range(199, WORKERS)}
    assert f'href="/clusters/{cluster.pk}/?page=2"' in third


def test_the_live_part_keeps_the_page(alice_client, cluster):
    page = alice_client.get(f"/clusters/{cluster.pk}/?page=2").content.decode()
    assert f'hx-get="/clusters/{cluster.pk}/live/?page=2"' in page
    live = alice_client.get(f"/clusters/{cluster.pk}/live/?page=2", HTTP_HX_REQUEST="true").content.decode()
    assert f'hx-get="/clusters/{cluster.pk}/live/?page=2"' in live, "the next refresh keeps the page too"
    assert names(live) == {f"demo-worker-{i}" for i in range(99, 199)}
    assert "241 of 251 instances running" in live


def test_a_page_past_the_end_shows_the_last(alice_client, cluster):
    html = alice_client.get(f"/clusters/{cluster.pk}/live/?page=99").content.decode()
    assert "demo-worker-249<" in html and "demo-worker-0<" not in html


def test_the_page_reads_only_what_it_shows_of_each_instance(alice_client, cluster):
    with CaptureQueriesContext(connection) as queries:
        alice_client.get(f"/clusters/{cluster.pk}/live/")
    read = " ".join(query["sql"] for query in queries.captured_queries)
    assert "checkin_token_hash" not in read and "checkin_message" not in read
    assert len(queries) < 10, "a few queries for the page, not one per instance"
