"""The elastic task applied to clusters in the database (clusters/elastic/scaler.py): growth from
the head's report, drain then delete, the drain deadline, stale reports, manual scale-down through
the drain, and the budget. The decisions themselves are tested in test_elastic_decide.py."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from clusters import launcher
from clusters.elastic import reports, scaler
from clusters.models import Cluster, ClusterEvent, Instance, InstanceState, QueueSample
from clusters.tests.cloud_helpers import make_cloud
from contexts.profiles import create_profile

pytestmark = pytest.mark.django_db
S = InstanceState
POLICY = {"jobs_per_worker": 1, "idle_seconds": 600, "cooldown_seconds": 0, "drain_deadline_seconds": 1800}


def make_elastic_cluster(owner, *, workers=0, low=0, high=5, price="0", policy=None, **fields) -> Cluster:
    cloud = make_cloud(owner, name="elastic cloud")
    revision = create_profile(owner, "node", {"schema": 1}).latest
    role = {"cloud": cloud.pk, "revision": revision.pk, "depends_on": [], "price_per_hour": price, "cores": 2,
            "offering": "small", "size_id": "t2.micro", "image": "Alma", "image_id": "ami-1", "format": "cloud-init",
            "spot": False}  # fmt: skip
    snapshot = {"roles": [
        {**role, "name": "head", "count": 1, "min": 0, "max": None, "elastic": None},
        {**role, "name": "worker", "count": low, "min": low, "max": high, "elastic": policy or POLICY},
    ]}  # fmt: skip
    fields = {"state": "running", **fields}
    cluster = Cluster.objects.create(
        owner=owner, name="demo", snapshot=snapshot, secret="x", elastic=True, **fields
    )
    now = timezone.now()
    for index, role in enumerate(["head"] + ["worker"] * workers):
        Instance.objects.create(cluster=cluster, role=role, index=index, cloud=cloud, revision=revision,
                                name=f"demo-{role}-{index}", state=S.RUNNING, node_id=f"i-{role}{index}",
                                launched_at=now - timedelta(hours=1))  # fmt: skip
    return cluster


def report(cluster, idle_jobs=0, running_jobs=0, workers=(), age=0):
    sample = QueueSample.objects.create(
        cluster=cluster, system="condor", idle_jobs=idle_jobs, running_jobs=running_jobs,
        workers=[{"name": n, "state": s, "idle_seconds": i} for n, s, i in workers],
    )  # fmt: skip
    QueueSample.objects.filter(pk=sample.pk).update(created=timezone.now() - timedelta(seconds=age))


def workers(cluster, *states):
    found = Instance.objects.filter(cluster=cluster, role="worker")
    return found.filter(state__in=states) if states else found


def events(cluster):
    return list(ClusterEvent.objects.filter(cluster=cluster).values_list("message", flat=True))


def test_idle_jobs_grow_the_elastic_role_up_to_its_max(alice):
    cluster = make_elastic_cluster(alice, high=5)
    report(cluster, idle_jobs=200)
    assert scaler.tick() == 1
    assert workers(cluster, S.REQUESTED).count() == 5
    assert any(m.startswith("+5 workers") for m in events(cluster))


def test_idle_workers_are_drained_then_terminated_once_they_report_drained(alice):
    cluster = make_elastic_cluster(alice, workers=2)
    report(cluster, workers=[("demo-worker-1", "idle", 700), ("demo-worker-2", "idle", 900)])
    scaler.tick()
    assert workers(cluster).filter(drain_requested_at__isnull=False).count() == 2
    assert workers(cluster, S.RUNNING).count() == 2  # still alive while the head drains them
    assert reports.draining(cluster) == ["demo-worker-1", "demo-worker-2"]

    report(cluster, workers=[("demo-worker-1", "drained", 5), ("demo-worker-2", "idle", 910)])
    scaler.tick()
    ended = workers(cluster).get(name="demo-worker-1")
    assert (ended.state, ended.end_reason) == (S.TERMINATING, "drained")
    assert workers(cluster).get(name="demo-worker-2").state == S.RUNNING
    assert "demo-worker-1 terminated: drained" in events(cluster)


def test_a_busy_worker_is_never_drained(alice):
    cluster = make_elastic_cluster(alice, workers=2)
    report(cluster, workers=[("demo-worker-1", "busy", None), ("demo-worker-2", "idle", 700)])
    scaler.tick()
    assert list(workers(cluster).filter(drain_requested_at__isnull=False).values_list("name", flat=True)) == [
        "demo-worker-2"
    ]


def test_a_worker_still_draining_past_its_deadline_is_terminated_anyway(alice):
    cluster = make_elastic_cluster(alice, workers=1)
    workers(cluster).update(drain_requested_at=timezone.now() - timedelta(seconds=1801))
    report(cluster, running_jobs=1, workers=[("demo-worker-1", "draining", None)])
    scaler.tick()
    ended = workers(cluster).get()
    assert (ended.state, ended.end_reason) == (S.TERMINATING, "drain deadline")


def test_a_stale_report_freezes_the_size(alice):
    cluster = make_elastic_cluster(alice, workers=1)
    report(cluster, idle_jobs=50, workers=[("demo-worker-1", "idle", 5000)], age=3600)
    scaler.tick()
    assert workers(cluster).count() == 1
    assert not workers(cluster).filter(drain_requested_at__isnull=False).exists()


def test_the_minimum_is_kept_even_without_a_report(alice):
    cluster = make_elastic_cluster(alice, low=2)
    scaler.tick()
    assert workers(cluster, S.REQUESTED).count() == 2


def test_a_terminating_cluster_is_left_alone(alice):
    cluster = make_elastic_cluster(alice, state="terminating")
    report(cluster, idle_jobs=200)
    assert scaler.tick() == 0
    assert workers(cluster).count() == 0


def test_a_manual_scale_down_drains_the_workers_the_head_reports_idle_ones_first(alice):
    cluster = make_elastic_cluster(alice, workers=3)
    report(cluster, running_jobs=2, workers=[
        ("demo-worker-1", "idle", 10), ("demo-worker-2", "busy", None), ("demo-worker-3", "busy", None)])  # fmt: skip
    launcher.scale(cluster, "worker", 1)
    draining = workers(cluster).filter(drain_requested_at__isnull=False).order_by("name")
    assert [w.name for w in draining] == ["demo-worker-1", "demo-worker-3"]
    assert workers(cluster, S.RUNNING).count() == 3  # none stopped before it is drained


def test_a_manual_scale_down_of_a_role_without_a_queue_stops_its_instances_at_once(alice):
    cluster = make_elastic_cluster(alice, workers=2)
    launcher.scale(cluster, "worker", 0)
    assert workers(cluster, S.TERMINATING).count() == 2


def test_the_budget_stops_growth_below_the_maximum(alice):
    # 2.00 an hour each; 5 instances (the head and 4 workers) fit a total budget of 10.50 for the next hour.
    cluster = make_elastic_cluster(alice, high=20, price="2.00", budget_total=Decimal("10.50"))
    Instance.objects.filter(cluster=cluster).update(launched_at=timezone.now())
    report(cluster, idle_jobs=200)
    scaler.tick()
    assert workers(cluster).count() == 4


def test_the_page_and_the_api_show_which_workers_drain_and_why_one_ended(alice, alice_client):
    cluster = make_elastic_cluster(alice, workers=2)
    report(cluster, workers=[("demo-worker-1", "idle", 700), ("demo-worker-2", "busy", None)])
    scaler.tick()
    report(cluster, workers=[("demo-worker-1", "drained", 5), ("demo-worker-2", "busy", None)])
    workers(cluster).filter(name="demo-worker-2").update(drain_requested_at=timezone.now())
    scaler.tick()

    shown = {i["name"]: i for i in alice_client.get(f"/api/v1/clusters/{cluster.pk}/").json()["instances"]}
    assert (shown["demo-worker-1"]["draining"], shown["demo-worker-1"]["end_reason"]) == (False, "drained")
    assert (shown["demo-worker-2"]["draining"], shown["demo-worker-2"]["end_reason"]) == (True, "")
    page = alice_client.get(f"/clusters/{cluster.pk}/").content.decode()
    assert page.count(">draining</span>") == 1 and "drained" in page
