"""`make run` end to end: the portal served by gunicorn with a Celery worker, a demo login that
works, and the status page saying the worker answers. Real processes, real Redis."""

import http.cookiejar
import json
import os
import re
import signal
import socket
import subprocess
import sys
import urllib.parse
import urllib.request
from pathlib import Path

import pytest

from portal.testing.waits import STARTING, serves, wait_for, wait_until_started

ROOT = Path(__file__).resolve().parents[2]
pytestmark = [pytest.mark.slow, pytest.mark.database_agnostic]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def running_portal(tmp_path_factory):
    tmp_path = tmp_path_factory.mktemp("make-run")
    port = _free_port()
    env = {**os.environ, "PORT": str(port), "DEMO_CLOUD_PORT": str(_free_port()), "PORTAL_VAR_DIR": str(tmp_path / "var"),
           "CELERY_BROKER_URL": "redis://127.0.0.1:6379/14", "REDIS_KEY_PREFIX": f"make-run-{os.getpid()}:"}  # fmt: skip
    env.pop("DJANGO_SETTINGS_MODULE", None)
    log = tmp_path / "run.log"
    with open(log, "wb") as out:
        process = subprocess.Popen(["bash", "scripts/run.sh"], cwd=ROOT, env=env, stdout=out,
                                   stderr=subprocess.STDOUT, start_new_session=True)  # fmt: skip
    base = f"http://127.0.0.1:{port}"
    try:
        wait_until_started(process, serves(base + "/accounts/login/"), what="make run", log=log, timeout=180)
        login = re.search(r"demo login: (\S+) / (\S+)", log.read_text())
        yield base, login.group(1), login.group(2), env
    finally:
        os.killpg(process.pid, signal.SIGTERM)
        process.wait(timeout=30)


def test_make_run_serves_the_portal_with_a_working_demo_login(running_portal):
    base, username, password, _env = running_portal
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
    base, _, _, _env = running_portal
    health = []

    def worker_answers() -> bool:
        try:
            health.append(
                json.loads(urllib.request.urlopen(base + "/health/?format=json", timeout=30).read())
            )
        except urllib.error.HTTPError as exc:  # 503 until the worker is up
            health.append(json.loads(exc.read()))
        return health[-1]["worker"] == "ok"

    wait_for(worker_answers, timeout=STARTING, every=1, message="the worker's answer on the status page")
    assert health[-1] == {"web": "ok", "database": "ok", "worker": "ok"}


LAUNCH_ON_THE_DEMO_CLOUD = """
from django.contrib.auth.models import User
from clusters import launcher
from clusters.demo import DEMO_CLOUD_NAME
from clusters.models import Cloud, ClusterDefinition, Image, Role, ServiceOffering
from contexts.profiles import create_profile
user = User.objects.create_user("tester")
cloud = Cloud.objects.get(name=DEMO_CLOUD_NAME)
profile = create_profile(user, "node", {"schema": 1, "hostname": "{{ cluster.name }}-{{ instance.index }}"})
definition = ClusterDefinition.objects.create(owner=user, name="pair")
Role.objects.create(definition=definition, name="node", profile=profile, count=2,
                    offering=ServiceOffering.objects.get(name="small"), image=Image.objects.get(cloud=cloud, name="AlmaLinux 9"))
print(launcher.launch(definition, user, "pair", {"node": cloud}).pk)
"""


def _shell(env, code):
    result = subprocess.run([sys.executable, "manage.py", "shell", "-v", "0", "-c", code], cwd=ROOT, env=env,
                            capture_output=True, text=True, timeout=120)  # fmt: skip
    assert result.returncode == 0, result.stderr[-2000:]
    return result.stdout.strip()


def test_a_cluster_launched_on_the_demo_cloud_comes_up_through_the_worker_and_its_monitor(running_portal):
    _base, _, _, env = running_portal
    cluster_id = _shell(env, LAUNCH_ON_THE_DEMO_CLOUD).splitlines()[-1]
    state = f"from clusters.models import Cluster; print(Cluster.objects.get(pk={cluster_id}).state)"
    # The beat's monitor cycle runs every 10 s.
    wait_for(lambda: _shell(env, state) == "running", timeout=180, every=2, message="the cluster running")
