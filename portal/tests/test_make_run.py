"""`make run` end to end: the portal served by gunicorn with a Celery worker, a demo login that
works, and the status page saying the worker answers. Real processes, real Redis."""

import http.cookiejar
import json
import os
import re
import signal
import socket
import subprocess
import time
import urllib.parse
import urllib.request
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
pytestmark = pytest.mark.slow


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def running_portal(tmp_path):
    port = _free_port()
    env = {**os.environ, "PORT": str(port), "DEMO_CLOUD_PORT": str(_free_port()), "PORTAL_VAR_DIR": str(tmp_path / "var"),
           "CELERY_BROKER_URL": "redis://127.0.0.1:6379/14"}  # fmt: skip
    env.pop("DJANGO_SETTINGS_MODULE", None)
    log = tmp_path / "run.log"
    with open(log, "wb") as out:
        process = subprocess.Popen(["bash", "scripts/run.sh"], cwd=ROOT, env=env, stdout=out,
                                   stderr=subprocess.STDOUT, start_new_session=True)  # fmt: skip
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 120
        while True:
            try:
                urllib.request.urlopen(base + "/accounts/login/", timeout=2)
                break
            except OSError:
                if process.poll() is not None or time.monotonic() > deadline:
                    pytest.fail(f"make run did not serve the portal:\n{log.read_text()[-3000:]}")
                time.sleep(0.5)
        login = re.search(r"demo login: (\S+) / (\S+)", log.read_text())
        yield base, login.group(1), login.group(2)
    finally:
        os.killpg(process.pid, signal.SIGTERM)
        process.wait(timeout=30)


def test_make_run_serves_the_portal_with_a_working_demo_login(running_portal):
    base, username, password = running_portal
    opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(http.cookiejar.CookieJar()))
    page = opener.open(base + "/accounts/login/").read().decode()
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page).group(1)
    form = urllib.parse.urlencode({"username": username, "password": password, "csrfmiddlewaretoken": token})
    request = urllib.request.Request(base + "/accounts/login/", data=form.encode(),
                                     headers={"Referer": base + "/accounts/login/"})  # fmt: skip
    landing = opener.open(request)
    assert landing.url.endswith("/profiles/")
    assert username in landing.read().decode()
    clouds = opener.open(base + "/clouds/").read().decode()
    assert "Local demo cloud" in clouds


def test_make_run_starts_a_worker_that_answers(running_portal):
    base, _, _ = running_portal
    deadline = time.monotonic() + 60
    while True:
        try:
            status = json.loads(urllib.request.urlopen(base + "/health/?format=json", timeout=10).read())
            break
        except urllib.error.HTTPError as exc:  # 503 until the worker is up
            status = json.loads(exc.read())
            if time.monotonic() > deadline:
                break
            time.sleep(1)
    assert status == {"web": "ok", "database": "ok", "worker": "ok"}
