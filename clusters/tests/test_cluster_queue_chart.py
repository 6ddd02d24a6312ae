"""The cluster page's queue chart (docs/elastic.md, "Seeing it"): shown for an elastic cluster or one
with reports, fetched again every 5 s until the cluster is terminated, only for its owner; it reads
only the day it draws, and the hourly task deletes samples older than a week."""

from datetime import timedelta

import pytest
from django.conf import settings
from django.db import connection
from django.test.utils import CaptureQueriesContext

from clusters.models import ClusterEvent, ClusterState, QueueSample
from clusters.tasks import prune_queue_samples
from clusters.tests.queue_sample_helpers import add_sample, elastic_cluster
from portal.celery import app

pytestmark = pytest.mark.django_db
POLLING = 'hx-get="/clusters/{pk}/queue-chart/" hx-trigger="every 5s" hx-swap="outerHTML"'


@pytest.fixture
def cluster(alice):
    return elastic_cluster(alice)


def test_the_owner_sees_the_chart_on_the_cluster_page(alice_client, cluster):
    add_sample(cluster, ago=timedelta(minutes=2), idle_jobs=212, running_jobs=0, instances=0)
    add_sample(cluster, idle_jobs=150, running_jobs=50, instances=5)
    page = alice_client.get(f"/clusters/{cluster.pk}/").content.decode()
    assert '<section class="mb-4" id="cluster-elastic"' in page and POLLING.format(pk=cluster.pk) in page
    assert '<svg xmlns="http://www.w3.org/2000/svg" class="queue-chart"' in page
    assert "idle jobs between 150 and 212, workers between 0 and 5" in page
    assert ": 150 idle jobs, 50 running, 5 workers.</figcaption>" in page


def test_the_chart_has_a_url_of_its_own_for_htmx(alice_client, cluster):
    add_sample(cluster, idle_jobs=1, running_jobs=3, instances=1)
    part = alice_client.get(f"/clusters/{cluster.pk}/queue-chart/", HTTP_HX_REQUEST="true").content.decode()
    assert part.lstrip().startswith('<section class="mb-4" id="cluster-elastic"') and "navbar" not in part
    assert POLLING.format(pk=cluster.pk) in part, "the next refresh polls again"
    assert ": 1 idle job, 3 running, 1 worker.</figcaption>" in part


def test_an_elastic_cluster_without_reports_says_the_head_has_not_reported(alice_client, cluster):
    page = alice_client.get(f"/clusters/{cluster.pk}/").content.decode()
    assert "No queue report yet." in page and "The head has not reported its queue yet" in page


def test_a_fixed_cluster_without_reports_has_no_chart(alice_client, alice):
    fixed = elastic_cluster(alice, "fixed", elastic=False)
    assert "cluster-elastic" not in alice_client.get(f"/clusters/{fixed.pk}/").content.decode()
    assert alice_client.get(f"/clusters/{fixed.pk}/queue-chart/").content.decode().strip() == ""
    add_sample(fixed, idle_jobs=3)
    assert "queue-chart" in alice_client.get(f"/clusters/{fixed.pk}/").content.decode(), "reports show"


def test_a_terminated_cluster_stops_the_polling(alice_client, cluster):
    add_sample(cluster, idle_jobs=3)
    cluster.state = ClusterState.TERMINATED
    cluster.save()
    part = alice_client.get(f"/clusters/{cluster.pk}/queue-chart/").content.decode()
    assert '<section class="mb-4" id="cluster-elastic" aria-labelledby="cluster-elastic-heading">' in part
    assert "hx-get" not in part and 'class="queue-chart"' in part


@pytest.mark.parametrize("user", ["bob", "charlie"])
def test_anyone_but_the_owner_gets_404(client, cluster, user, request):
    add_sample(cluster, idle_jobs=3)
    client.force_login(request.getfixturevalue(user))
    assert client.get(f"/clusters/{cluster.pk}/queue-chart/").status_code == 404


def test_the_elastic_policys_events_show_once_in_the_live_events(alice_client, cluster):
    ClusterEvent.objects.create(cluster=cluster, message="+5 workers: 212 idle jobs, 0 idle workers")
    page = alice_client.get(f"/clusters/{cluster.pk}/").content.decode()
    assert page.count("+5 workers: 212 idle jobs, 0 idle workers") == 1
    live = alice_client.get(f"/clusters/{cluster.pk}/live/").content.decode()
    assert "+5 workers: 212 idle jobs, 0 idle workers" in live


def _queries(client, cluster) -> list[str]:
    with CaptureQueriesContext(connection) as queries:
        assert client.get(f"/clusters/{cluster.pk}/queue-chart/").status_code == 200
    return [query["sql"] for query in queries.captured_queries]


def test_it_reads_only_the_day_it_draws_in_a_fixed_number_of_queries(alice_client, cluster):
    add_sample(cluster, ago=timedelta(days=2), idle_jobs=9999, instances=99)  # before the window
    add_sample(cluster, idle_jobs=5, instances=1)
    few = _queries(alice_client, cluster)
    QueueSample.objects.bulk_create(
        QueueSample(cluster=cluster, system="condor", idle_jobs=7, running_jobs=1, instances=2)
        for _ in range(500)
    )
    many = _queries(alice_client, cluster)
    assert len(many) == len(few)
    (read,) = [sql for sql in many if "clusters_queuesample" in sql]
    assert '"clusters_queuesample"."created" >=' in read and '"workers"' not in read
    assert (
        "idle jobs between 5 and 7, workers between 1 and 2"
        in alice_client.get(f"/clusters/{cluster.pk}/queue-chart/").content.decode()
    )


def test_the_hourly_task_deletes_samples_older_than_a_week(cluster):
    kept = [add_sample(cluster, ago=timedelta(days=6, hours=23)), add_sample(cluster)]
    add_sample(cluster, ago=timedelta(days=7, minutes=1))
    add_sample(cluster, ago=timedelta(days=30))
    assert prune_queue_samples() == 2
    assert set(QueueSample.objects.values_list("pk", flat=True)) == {s.pk for s in kept}
    schedule = settings.CELERY_BEAT_SCHEDULE["prune-queue-samples"]
    assert schedule == {"task": "clusters.prune_queue_samples", "schedule": 3600.0}
    assert schedule["task"] in app.tasks
