"""A gateway agent for real (docs/gateway-agents.md): `celery -A portal.agent worker -Q <queue>` in its own process,
with its own agent.toml (the skeleton the cloud's page shows, credentials filled in) and no database
reachable, serving a cloud on moto's EC2 server. The portal's test worker records the outcomes.

An observer loaded into the agent's process (a `sitecustomize` module on its PYTHONPATH, outside the
agent's code) notes every attempt to import Django's database layer or the portal's models, and
whether Django's settings ever got configured, and writes that down when the process exits."""

import dataclasses
import json
import os
import re
import subprocess
import sys
import time
from pathlib import Path

import pytest

from clusters.agents import agent_toml
from clusters.models import Cluster, ClusterState, Instance
from clusters.queues import queue_status
from clusters.tasks import monitor_clouds
from clusters.tests.cloud_helpers import check_as_the_page_does, drop_queue
from clusters.tests.conftest import free_port
from clusters.tests.launch_helpers import (
    cloud_with_offering,
    condor_definition,
    moto_nodes,
    states,
    user_data_of,
)
from portal.testing.waits import wait_for, wait_until_worker_answers

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]

REPO = Path(__file__).resolve().parents[2]
WORKERS = 5

OBSERVER = """
import atexit, importlib.abc, json, os, sys

WATCHED = ("django.db", "django.apps", "clusters.models")
attempts = []


class Watch(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path=None, target=None):
        if any(name == w or name.startswith(w + ".") for w in WATCHED) and name not in attempts:
            attempts.append(name)
        return None


sys.meta_path.insert(0, Watch())


@atexit.register
def report():
    conf = sys.modules.get("django.conf")
    with open(os.environ["AGENT_OBSERVER_REPORT"], "w") as f:
        json.dump({"attempts": attempts, "settings_configured": bool(conf and conf.settings.configured),
                   "modules": sorted(m for m in sys.modules if m.startswith(("django", "clusters")))}, f)
"""


@dataclasses.dataclass
class Agent:
    name: str
    process: subprocess.Popen
    log: Path
    report: Path

    def stop(self) -> dict:
        """Stop the agent as its operator would (SIGTERM); what the observer saw."""
        if self.process.poll() is None:
            self.process.terminate()
            self.process.wait(timeout=20)
        return json.loads(self.report.read_text())


def start_agent(directory: Path, queue: str, config: str) -> Agent:
    (directory / "agent.toml").write_text(config)
    observer = directory / "observer"
    observer.mkdir()
    (observer / "sitecustomize.py").write_text(OBSERVER)
    name, log, report = f"{queue}@localhost", directory / "agent.log", directory / "observer.json"
    env = {k: v for k, v in os.environ.items() if k not in ("DJANGO_SETTINGS_MODULE", "CELERY_BROKER_URL")}
    env.update(
        PORTAL_AGENT_CONFIG=str(directory / "agent.toml"),
        DATABASE_URL=f"postgres://agent@127.0.0.1:{free_port()}/nothing",  # nobody listens there
        PYTHONPATH=os.pathsep.join([str(observer), str(REPO)]),
        AGENT_OBSERVER_REPORT=str(report),
    )
    celery = Path(sys.executable).with_name("celery")
    command = [str(celery), "-A", "portal.agent", "worker", "-Q", queue, "--hostname", name, "--pool", "solo",
               "--loglevel", "INFO", "--without-mingle", "--without-gossip"]  # fmt: skip
    with open(log, "wb") as out:
        process = subprocess.Popen(command, stdout=out, stderr=subprocess.STDOUT, env=env, cwd=directory)
    try:
        wait_until_worker_answers(process, name, log=log, what="the agent")
    except RuntimeError:
        process.kill()
        raise
    return Agent(name, process, log, report)


def _agent_config(cloud, moto) -> str:
    """The skeleton the cloud's page shows, with the credentials put in place of its placeholders."""
    skeleton = agent_toml(cloud)
    assert '"<Access key ID>"' in skeleton and '"<Secret access key>"' in skeleton
    return skeleton.replace('"<Access key ID>"', json.dumps(moto.key)).replace(
        '"<Secret access key>"', json.dumps(moto.secret)
    )


def test_a_cluster_launches_through_an_agent_that_has_no_database(
    alice_client, alice, moto_ec2, celery_worker_process, tmp_path
):
    queue = f"agent-test-{os.getpid()}-{time.monotonic_ns() % 10**6}"
    no_credentials = dataclasses.replace(moto_ec2.config(), credentials={})
    cloud = cloud_with_offering(alice, no_credentials, name="behind NAT", served_by_agent=True, queue=queue)
    assert cloud.credentials == ""  # only the agent can reach this cloud
    definition = condor_definition(alice, cloud, workers=WORKERS)
    config = _agent_config(cloud, moto_ec2)
    assert "global_keyprefix" in config  # the test run's Redis key prefix, or the agent sees nothing
    agent = start_agent(tmp_path, queue, config)
    try:
        # Served: the queues page and the cloud's own page say who serves the queue.
        assert queue_status([queue]) == {queue: [agent.name]}
        assert agent.name in alice_client.get("/clouds/queues/").content.decode()
        assert agent.name in alice_client.get(f"/clouds/{cloud.pk}/queue/").content.decode()

        # Test connection runs in the agent, with the agent's credentials.
        html, _elapsed = check_as_the_page_does(alice_client, cloud)
        cloud.refresh_from_db()
        assert cloud.check_state == "ok" and cloud.check_message.startswith("connected: ")
        assert cloud.check_message in html

        # The launch page sees the queue served: no warning, the cluster launches.
        response = alice_client.post(
            f"/definitions/{definition.pk}/launch/", {"name": "nat", "cloud": cloud.pk}
        )
        assert response.status_code == 302
        cluster = Cluster.objects.get()
        wait_for(lambda: states(cluster).get("running", 0) == 1 + WORKERS, tick=monitor_clouds.delay,
                 message="all instances running")  # fmt: skip
        cluster.refresh_from_db()
        assert cluster.state == ClusterState.RUNNING
        ec2 = moto_ec2.boto3_client()
        master = Instance.objects.get(cluster=cluster, role="master").private_ips[0]
        for worker in Instance.objects.filter(cluster=cluster, role="worker"):
            data = user_data_of(ec2, worker.node_id).decode()
            assert f"CONDOR_HOST = {master}" in data and f"WORKER_INDEX='{worker.index}'" in data

        from clusters import launcher

        launcher.terminate(cluster)
        wait_for(lambda: Cluster.objects.get(pk=cluster.pk).state == ClusterState.TERMINATED,
                 tick=monitor_clouds.delay, message="the cluster terminated")  # fmt: skip
        assert set(moto_nodes(ec2, cluster).values()) == {"terminated"}
    finally:
        seen = agent.stop()
        drop_queue(queue)

    log = agent.log.read_text(errors="replace")
    for task in ("clusters.cloud_check", "clusters.cloud_create_nodes", "clusters.cloud_list_nodes",
                 "clusters.cloud_destroy_nodes"):  # fmt: skip
        assert re.search(rf"Task {re.escape(task)}\[[-0-9a-f]+\] succeeded", log), (
            f"the agent did not run {task}"
        )
    assert moto_ec2.secret not in log
    # No database, no Django: the observer saw the agent's own modules, and nothing of the portal's
    # database layer or models was ever imported; Django's settings were never configured.
    assert "clusters.cloudside" in seen["modules"]
    assert seen["attempts"] == [] and not seen["settings_configured"]

    # Nobody serves the queue any more: the launch page warns instead of launching.
    assert queue_status([queue]) == {queue: []}
    response = alice_client.post(
        f"/definitions/{definition.pk}/launch/", {"name": "again", "cloud": cloud.pk}
    )
    assert f"nobody serves the queue &#x27;{queue}&#x27; now" in response.content.decode()
    assert Cluster.objects.count() == 1
