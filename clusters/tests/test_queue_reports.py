"""A cluster's head reports its batch queue through the instance API (docs/elastic.md): the real
`portal-instance report` with the HTCondor collector, against a live portal; the answer names the
workers to drain, and the collector drains them."""

import subprocess
from datetime import timedelta

import pytest
from django.utils import timezone

from clusters.models import QueueSample
from clusters.tests.condor_pool import FakePool
from clusters.tests.instance_helpers import auth, make_cluster, make_instance
from clusters.tests.test_instance_helper import install_helper, sandbox
from contexts.services.condor import COLLECTOR

pytestmark = pytest.mark.django_db(transaction=True)
REPORT = "system condor\nnow 1796149269\n[jobs]\n1\n1\n2\n[workers]\n"


@pytest.fixture
def head(alice):
    cluster = make_cluster(alice)
    return make_instance(cluster, role="head")


def report_once(tmp_path, api, token, pool: FakePool) -> subprocess.CompletedProcess:
    root = sandbox(tmp_path, "head")
    helper = install_helper(root, api, token)
    collector = tmp_path / "queue-report"
    collector.write_text(COLLECTOR)
    collector.chmod(0o755)
    env = {**pool.env(), "TMPDIR": str(root)}
    env["PATH"] = f"{root}/fakebin:{env['PATH']}"
    return subprocess.run(["sh", helper, "report", str(collector), "--once"], env=env, capture_output=True, text=True,
                          timeout=60)  # fmt: skip


def test_the_head_posts_its_queue_and_drains_the_workers_the_answer_names(tmp_path, live_server, head):
    instance, token = head
    busy, _ = make_instance(instance.cluster, role="worker", index=1)
    idle, _ = make_instance(instance.cluster, role="worker", index=2)
    idle.drain_requested_at = timezone.now()
    idle.save()
    pool = FakePool(tmp_path / "pool")
    pool.set(idle_jobs=3, running_jobs=1, workers={busy.name: "busy", idle.name: "idle"})

    done = report_once(tmp_path, f"{live_server.url}/api/v1/instance/", token, pool)

    assert done.returncode == 0, done.stderr
    sample = QueueSample.objects.get(cluster=instance.cluster)
    assert (sample.system, sample.idle_jobs, sample.running_jobs) == ("condor", 3, 1)
    assert {w["name"]: w["state"] for w in sample.workers} == {busy.name: "busy", idle.name: "idle"}
    assert pool.drained() == {idle.name}


def test_the_answer_is_the_names_to_drain_as_text_or_json(client, head):
    instance, token = head
    worker, _ = make_instance(instance.cluster, role="worker", index=1)
    worker.drain_requested_at = timezone.now()
    worker.save()
    text = client.post("/api/v1/instance/queue", REPORT, content_type="text/plain", HTTP_ACCEPT="text/plain",
                       **auth(token))  # fmt: skip
    assert (text.status_code, text.content.decode()) == (200, f"{worker.name}\n")
    answer = client.post("/api/v1/instance/queue", REPORT, content_type="text/plain", **auth(token)).json()
    assert answer["drain"] == [worker.name]


@pytest.mark.parametrize(
    "report, says",
    [
        ("system pbs\nnow 1\n[jobs]\n[workers]\n", "unknown batch system 'pbs'"),
        ("system condor\nnow soon\n[jobs]\n[workers]\n", "'now' line"),
        ("system condor\nnow 1\n", "[jobs] section"),
    ],
)
def test_a_report_that_cannot_be_read_is_refused_in_plain_words(client, head, report, says):
    _, token = head
    answer = client.post("/api/v1/instance/queue", report, content_type="text/plain", **auth(token))
    assert answer.status_code == 400
    assert says in answer.json()["detail"]
    assert not QueueSample.objects.exists()


def test_a_report_needs_an_instance_token(client):
    assert client.post("/api/v1/instance/queue", REPORT, content_type="text/plain").status_code == 401


def test_a_worker_is_idle_at_most_since_the_last_report_that_saw_it_busy(client, head):
    instance, token = head

    def post(state, entered):
        line = f"w1.x slot1@w1.x {state} {entered} 1796149269 1796149269\n"
        client.post("/api/v1/instance/queue", REPORT + line, content_type="text/plain", **auth(token))

    post("Claimed Busy", 1796149000)
    QueueSample.objects.update(created=timezone.now() - timedelta(seconds=40))
    # A partitionable slot's state dates from long ago while its jobs came and went.
    post("Unclaimed Idle", 1796140000)
    newest = QueueSample.objects.first()
    assert newest.workers[0]["state"] == "idle"
    assert 40 <= newest.workers[0]["idle_seconds"] <= 45
