import os
import subprocess
import sys
from pathlib import Path

import pytest

from portal import health

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.django_db
def test_health_page_says_worker_ok_when_a_real_worker_answers(client, celery_worker_process):
    response = client.get("/health/")
    assert response.status_code == 200
    assert "worker: ok" in response.content.decode()
    assert "database: ok" in response.content.decode()


@pytest.mark.django_db
def test_health_json_reports_every_part(client, celery_worker_process):
    response = client.get("/health/?format=json")
    assert response.json() == {"web": "ok", "database": "ok", "worker": "ok"}


def test_worker_status_says_no_answer_on_a_queue_nobody_serves():
    ok, status, detail = health.worker_status(timeout=1, queue="nobody-serves-this-queue")
    assert not ok
    assert status == "no answer"
    assert "nobody-serves-this-queue" in detail


def test_worker_status_says_broker_unreachable_when_redis_is_down():
    # A broker URL on a port where nothing listens: the real fault, no mock.
    code = (
        "import django; django.setup();"
        "from portal.health import worker_status;"
        "print(worker_status(timeout=1)[1])"
    )
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "portal.testing.settings",
           "CELERY_BROKER_URL": "redis://127.0.0.1:1/0"}  # fmt: skip
    result = subprocess.run([sys.executable, "-c", code], env=env, cwd=ROOT, capture_output=True,
                            text=True, timeout=60)  # fmt: skip
    assert result.stdout.strip() == "broker unreachable", result.stderr[-2000:]
