"""What the fault tests share: Celery worker processes a test starts and kills, queues of the
test's own, the messages on them, and a cluster definition of one plain role."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
import uuid
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import redis
from django.conf import settings

from clusters.models import ClusterDefinition, Image, Role, ServiceOffering
from contexts.profiles import create_profile
from portal.celery import app
from portal.testing.waits import DEADLINE, wait_until_worker_answers

NODE = {"schema": 1, "hostname": "{{ cluster.name }}-{{ role.name }}-{{ instance.index }}"}


@dataclass
class Queues:
    """A test's own queues: the cloud's (creates, destroys, lists) and the one the cloud side
    reports to, so that no other worker of the session takes their messages."""

    cloud: str = field(default_factory=lambda: f"faults-{uuid.uuid4().hex[:8]}")
    results: str = ""

    def __post_init__(self):
        self.results = self.results or f"{self.cloud}-results"


class WorkerProcess:
    """`celery worker` in a process group of its own, with clusters/tests/fault_settings.py, on
    the test database; `kill()` is a power cut for it and its pool (SIGKILL, no warm shutdown)."""

    def __init__(self, log_path: Path, queues: list[str], results_queue: str, *, concurrency: int = 2,
                 env: dict | None = None):  # fmt: skip
        from conftest import _database_url  # the session worker's: the same test database

        self.name = f"fault-worker-{uuid.uuid4().hex[:8]}@localhost"
        self.log_path = log_path
        env = {**os.environ, "DJANGO_SETTINGS_MODULE": "clusters.tests.fault_settings",
               "DATABASE_URL": _database_url(settings.DATABASES["default"]), "PORTAL_RESULTS_QUEUE": results_queue,
               **(env or {})}  # fmt: skip
        command = [sys.executable, "-m", "celery", "-A", "portal", "worker", "--loglevel", "INFO",
                   "--pool", "prefork", "--concurrency", str(concurrency), "--queues", ",".join(queues),
                   "--hostname", self.name, "--without-mingle", "--without-gossip", "--without-heartbeat"]  # fmt: skip
        with open(log_path, "ab") as log:
            self.process = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT, env=env,
                                            cwd=settings.BASE_DIR, start_new_session=True)  # fmt: skip

    def wait_ready(self) -> WorkerProcess:
        try:
            wait_until_worker_answers(self.process, self.name, log=self.log_path)
        except RuntimeError:
            self.stop()
            raise
        return self

    def kill(self) -> None:
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGKILL)  # the main process and its pool children
        self.process.wait(timeout=10)

    def stop(self) -> None:
        if self.process.poll() is not None:
            return
        os.killpg(self.process.pid, signal.SIGTERM)
        try:
            self.process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            self.kill()

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")


class Workers:
    """Starts workers for one test and stops whatever is left of them at its end."""

    def __init__(self, directory: Path):
        self.directory = directory
        self.started: list[WorkerProcess] = []

    def start(self, queues: Queues, *, serve_results: bool = True, concurrency: int = 2,
              env: dict | None = None) -> WorkerProcess:  # fmt: skip
        """A worker on the test's queues; `env` adds to (or changes) its environment."""
        names = [queues.cloud, queues.results] if serve_results else [queues.cloud]
        log_path = self.directory / f"worker-{len(self.started)}.log"
        worker = WorkerProcess(log_path, names, queues.results, concurrency=concurrency, env=env)
        self.started.append(worker)
        return worker.wait_ready()

    def stop_all(self) -> None:
        for worker in self.started:
            worker.stop()


def take_messages(queue: str, count: int, timeout: float = DEADLINE) -> list[tuple[str, list]]:
    """Take `count` task messages off `queue`: [(task name, args)]."""
    taken = []
    deadline = time.monotonic() + timeout
    with app.connection_for_read() as connection:
        simple = connection.SimpleQueue(queue, no_ack=True)
        try:
            while len(taken) < count:
                try:
                    message = simple.get(timeout=max(0.1, deadline - time.monotonic()))
                except simple.Empty:
                    raise AssertionError(f"{len(taken)} of {count} messages arrived on {queue}") from None
                args, _kwargs, _embed = message.decode()
                taken.append((message.headers["task"], args))
        finally:
            simple.close()
    return taken


def unacked_on(queue: str) -> int:
    """Messages of `queue` delivered to a worker and not acknowledged (kombu's Redis ack emulation)."""
    prefix = app.conf.broker_transport_options.get("global_keyprefix", "")
    entries = redis.Redis.from_url(app.conf.broker_url).hvals(f"{prefix}unacked")
    return sum(1 for entry in entries if json.loads(entry)[2] == queue)


@contextmanager
def reports_to(queue: str):
    """Cloud-side tasks run in this process report on `queue` (as a worker's settings would say)."""
    before = app.conf.get("portal_results_queue")
    app.conf.portal_results_queue = queue
    try:
        yield
    finally:
        app.conf.portal_results_queue = before


def one_role_definition(owner, cloud, count: int) -> ClusterDefinition:
    """A definition of `count` plain nodes, on a cloud set up by launch_helpers.cloud_with_offering."""
    profile = create_profile(owner, "plain node", NODE)
    definition = ClusterDefinition.objects.create(owner=owner, name="nodes")
    Role.objects.create(definition=definition, name="node", profile=profile, image=Image.objects.get(cloud=cloud),
                        offering=ServiceOffering.objects.get(name="small"), count=count)  # fmt: skip
    return definition


def every(seconds: float, action):
    """`action`, at most once per `seconds`: a monitor tick for wait_for that does not pile up
    list tasks behind a backlog of creates."""
    last = [float("-inf")]

    def tick():
        if time.monotonic() - last[0] >= seconds:
            last[0] = time.monotonic()
            action()

    return tick


def tagged_nodes(ec2, cluster) -> dict[str, dict]:
    """{node id: its tags} of every node moto has with the cluster's tag, whatever its state."""
    found = {}
    pages = ec2.get_paginator("describe_instances").paginate(
        Filters=[{"Name": "tag:context-portal-cluster", "Values": [str(cluster.pk)]}]
    )
    for page in pages:
        for reservation in page["Reservations"]:
            for node in reservation["Instances"]:
                found[node["InstanceId"]] = {tag["Key"]: tag["Value"] for tag in node.get("Tags", [])}
    return found


def run_here(queues: Queues, count: int) -> list[tuple[str, list]]:
    """Take `count` cloud-side messages off the test's cloud queue and run them in this process,
    as the cloud's worker would (their reports go to the results queue): real cloud calls."""
    from clusters import cloudside

    taken = take_messages(queues.cloud, count)
    tasks = {
        t.name: t
        for t in (cloudside.cloud_create_nodes, cloudside.cloud_destroy_nodes, cloudside.cloud_list_nodes)
    }
    with reports_to(queues.results):
        for name, args in taken:
            tasks[name].apply(args=args).get()
    return taken


def monitor_cycle(cloud, queues: Queues, django_capture_on_commit_callbacks) -> dict:
    """One monitoring cycle of `cloud`, its cloud side run here: the destroys already queued, the
    list and its record, then the destroys the record sent (creates it sets off stay queued). The
    records of destroys are left on the results queue: the next list is what counts."""
    from clusters import recording

    run_destroys(queues)
    with django_capture_on_commit_callbacks(execute=True):
        recording.monitor_cloud(cloud)
    [(cloud_id, nodes, error)] = run_destroys(queues, lists=True)
    assert (cloud_id, error) == (cloud.pk, "")
    with django_capture_on_commit_callbacks(execute=True):
        outcome = recording.node_list(cloud_id, nodes, error)
    run_destroys(queues)
    return outcome


def run_destroys(queues: Queues, *, lists: bool = False) -> list[tuple]:
    """Run the destroys (and, with `lists`, the node lists) waiting on the cloud queue here, and put
    every other message back; the lists' reports, as (cloud id, nodes, error)."""
    from clusters import cloudside

    pending = _length(queues.cloud)
    listed = []
    for task, args in take_messages(queues.cloud, pending) if pending else []:
        if task == "clusters.cloud_destroy_nodes":
            with reports_to(queues.results):
                cloudside.cloud_destroy_nodes.apply(args=args).get()
        elif task == "clusters.cloud_list_nodes" and lists:
            with reports_to(queues.results):
                cloudside.cloud_list_nodes.apply(args=args).get()
            reports = take_messages(queues.results, _length(queues.results))
            listed += [tuple(a[i] for i in (0, 2, 3)) for t, a in reports if t == "clusters.record_node_list"]
        else:
            send_again(queues.cloud, task, args)
    return listed


def _length(queue: str) -> int:
    with app.connection_for_read() as connection:  # its client adds the run's key prefix itself
        return connection.default_channel.client.llen(queue)


def send_again(queue: str, task: str, args: list) -> None:
    app.send_task(task, args=args, queue=queue)
