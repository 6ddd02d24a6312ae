"""Per-cloud queues (docs/gateway-agents.md): who serves each queue, asked of the real workers."""

import pytest

from clusters.queues import queue_status, queues_in_use, send_to_cloud_queue
from clusters.tasks import check_cloud_task
from clusters.tests.cloud_helpers import idle_queue, make_cloud, published_tasks


def test_the_test_worker_serves_default_and_nobody_a_made_up_queue(celery_worker_process):
    status = queue_status(["default", "made-up-queue-nobody-serves"])
    assert any(worker.startswith("test-worker-") for worker in status["default"])
    assert status["made-up-queue-nobody-serves"] == []


@pytest.mark.django_db
def test_queues_in_use_are_the_clouds_queues_and_default(alice, bob):
    make_cloud(alice, name="a", queue="cern-agent")
    make_cloud(bob, name="b", queue="desy-agent")
    make_cloud(None, name="c")
    assert queues_in_use() == ["cern-agent", "default", "desy-agent"]


@pytest.mark.django_db
def test_send_to_cloud_queue_routes_by_the_cloud(alice):
    with idle_queue() as queue, published_tasks() as published:
        cloud = make_cloud(alice, queue=queue)
        send_to_cloud_queue(check_cloud_task, cloud, cloud.pk)
    assert [(m["queue"], list(m["body"][0])) for m in published] == [(queue, [cloud.pk])]


@pytest.mark.django_db
def test_the_queues_page_shows_who_serves_each_queue(alice_client, alice, bob, celery_worker_process):
    make_cloud(alice, name="Alice EC2", queue="alice-agent")
    make_cloud(bob, name="Bob EC2", queue="bob-agent")
    html = alice_client.get("/clouds/queues/").content.decode()
    assert "<code>default</code>" in html and "test-worker-" in html
    assert "<code>alice-agent</code>" in html and "nobody serves this queue" in html
    assert "bob-agent" not in html  # another user's queue names are theirs


@pytest.mark.django_db
def test_the_cloud_page_warns_when_nobody_serves_its_queue(alice_client, alice, celery_worker_process):
    lonely, served = make_cloud(alice, name="a", queue="alice-agent"), make_cloud(alice, name="b")
    html = alice_client.get(f"/clouds/{lonely.pk}/queue/").content.decode()
    assert "No worker serves the queue <code>alice-agent</code>" in html
    html = alice_client.get(f"/clouds/{served.pk}/queue/").content.decode()
    assert "No worker serves" not in html and "test-worker-" in html
