"""What the convergence test (test_convergence.py) is made of: a random sequence of launches, scales,
terminations, pauses and faults drawn from a seed alone (so that a seed replays the same sequence);
the faults, played on the real stack; and the comparison of the cloud's live nodes with the portal's
live instances once the monitor has had its cycles.

The faults are real ones: a worker process group SIGKILLed while it has tasks; a record message
taken off the wire between the cloud side and the portal side (the workers report to a queue only
this test reads, and a relay thread passes each report on to the queue the workers take records
from, except the one it is told to drop); a record task's write failing on a database that is
really busy (SQLite: this process holds the write lock longer than the workers' busy timeout;
PostgreSQL: this process locks the instances table and terminates the backends that wait for it).
"""

from __future__ import annotations

import json
import random
import sqlite3
import threading
import time
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import redis
from django.db import OperationalError

from clusters import cloudside, launcher, recording
from clusters.models import (
    Cluster,
    ClusterDefinition,
    ClusterEvent,
    ClusterState,
    Image,
    Instance,
    Role,
    ServiceOffering,
)
from clusters.models.launches import LIVE_STATES
from clusters.tests.fault_helpers import WorkerProcess, Workers
from clusters.tests.launch_helpers import cloud_with_offering
from clusters.userdata import dns_label
from portal.celery import app
from portal.testing.waits import DEADLINE

MAX_COUNT = 8
NEEDS_MASTER = {
    "schema": 1,
    "hostname": "{{ cluster.name }}-{{ role.name }}-{{ instance.index }}",
    "env": {"MASTER": "{{ roles.master.address }}"},
}
# What a drop takes: the next record of what creates or destroys did (three times in four), or the
# next record of any kind (a node list's too).
DROPS = ["outcome", "outcome", "outcome", "any"]
# Records the monitor sends again each cycle, or that change nothing but a note.
ROUTINE_RECORDS = ("clusters.record_node_list", "clusters.record_retry")
TRANSITIONAL = ("requested", "launching", "terminating")
STEADY_OR_FINAL = (ClusterState.RUNNING, ClusterState.DEGRADED, ClusterState.FAILED, ClusterState.TERMINATED)
LIVE_NODE_STATES = ["pending", "running"]


# ---------------------------------------------------------------------------- the plan, from a seed


@dataclass
class RolePlan:
    name: str
    count: int
    needs: str = ""  # the role whose address its user-data uses

    def __str__(self):
        return f"{self.name} ×{self.count}" + (f" (needs {self.needs})" if self.needs else "")


@dataclass
class ClusterPlan:
    key: str
    roles: list[RolePlan]

    def __str__(self):
        return f"{self.key}: " + ", ".join(str(role) for role in self.roles)


@dataclass
class Op:
    kind: str  # launch, scale, terminate, monitor, kill, drop, db_error
    cluster: str = ""
    role: str = ""
    count: int = 0
    pick: float = 0.0  # which of the busy workers a kill takes
    task: str = ""  # which record message a drop takes (DROPS)
    pause: float = 0.0  # seconds to wait after it

    def __str__(self):
        what = {
            "launch": f"launch {self.cluster}",
            "scale": f"scale {self.cluster}.{self.role} to {self.count}",
            "terminate": f"terminate {self.cluster}",
            "monitor": "monitor cycle",
            "kill": "SIGKILL a busy worker",
            "drop": f"drop the next {'record' if self.task == 'any' else 'create or destroy record'} message",
            "db_error": "database error in record tasks",
        }[self.kind]
        return what + (f", pause {self.pause:.2f} s" if self.pause else "")


@dataclass
class Plan:
    seed: int
    clusters: list[ClusterPlan]
    ops: list[Op]

    def cluster(self, key: str) -> ClusterPlan:
        return next(c for c in self.clusters if c.key == key)

    def lines(self) -> list[str]:
        return [f"cluster {c}" for c in self.clusters] + [f"{n:2}. {op}" for n, op in enumerate(self.ops, 1)]


def _pause(rng: random.Random) -> float:
    return round(rng.uniform(0, 1), 2) if rng.random() < 0.6 else 0.0


def _cluster_plan(rng: random.Random, key: str) -> ClusterPlan:
    two_roles, needs = rng.random() < 0.6, rng.random() < 0.5
    master = RolePlan("master", rng.randint(1 if two_roles and needs else 0, MAX_COUNT))
    if not two_roles:
        return ClusterPlan(key, [master])
    return ClusterPlan(
        key, [master, RolePlan("worker", rng.randint(0, MAX_COUNT), "master" if needs else "")]
    )


def plan_sequence(seed: int) -> Plan:
    """1–3 clusters of 1–2 roles launched among 2–6 random changes (a scale, a scale up followed
    within a third of a second by a scale down — often below what is still being created —, a
    terminate, a monitor cycle), each followed by a pause of 0–1 s or none; and faults at random
    places. Drawn from `seed` alone, never from what happened, so that the seed replays it."""
    rng = random.Random(seed)
    clusters = [_cluster_plan(rng, f"c{k}") for k in range(1, rng.randint(1, 3) + 1)]
    waiting, live, ops = [c.key for c in clusters], [], []
    changes = rng.randint(2, 6)
    while waiting or (changes > 0 and live):
        if waiting and (not live or changes <= 0 or rng.random() < 0.4):
            live.append(waiting.pop(0))
            ops.append(Op("launch", live[-1], pause=_pause(rng)))
            continue
        changes -= 1
        key, pick = rng.choice(live), rng.random()
        role = rng.choice(next(c for c in clusters if c.key == key).roles).name
        if pick < 0.45:
            ops.append(Op("scale", key, role, rng.randint(0, MAX_COUNT), pause=_pause(rng)))
        elif pick < 0.75:
            ops.append(Op("scale", key, role, rng.randint(4, MAX_COUNT), pause=round(rng.uniform(0, 0.3), 2)))
            ops.append(Op("scale", key, role, rng.randint(0, 3), pause=_pause(rng)))
        elif pick < 0.87:
            live.remove(key)
            ops.append(Op("terminate", key, pause=_pause(rng)))
        else:
            ops.append(Op("monitor", pause=_pause(rng)))
    for kind, chance in (("kill", 0.3), ("drop", 0.5), ("db_error", 0.4)):
        if rng.random() < chance:
            fault = Op(kind, pick=rng.random(), task=rng.choice(DROPS), pause=_pause(rng))
            ops.insert(rng.randint(1, len(ops)), fault)  # after the first launch
    return Plan(seed, clusters, ops)


# ---------------------------------------------------------------------------- the wire and its relay


def _broker() -> redis.Redis:
    return redis.Redis.from_url(app.conf.broker_url)


def _prefix() -> str:
    return app.conf.broker_transport_options.get("global_keyprefix", "")


def messages_in_flight(queues: list[str]) -> int:
    """Messages waiting in `queues` (every priority) or delivered to a worker and not acknowledged
    yet: running, prefetched, or held for a countdown."""
    client, prefix = _broker(), _prefix()
    keys = [
        prefix + queue + suffix for queue in queues for suffix in ("", "\x06\x163", "\x06\x166", "\x06\x169")
    ]
    waiting = sum(client.llen(key) for key in keys)
    unacked = sum(1 for entry in client.hvals(f"{prefix}unacked") if json.loads(entry)[2] in queues)
    return waiting + unacked


def wait_for_traffic(queues: list[str], seconds: float = 1.5) -> None:
    """Wait (a little) for a message of `queues` to be on its way: a fault then meets work in progress."""
    deadline = time.monotonic() + seconds
    while messages_in_flight(queues) == 0 and time.monotonic() < deadline:
        time.sleep(0.02)


class Relay(threading.Thread):
    """Passes every report the cloud side sends on `wire` to `results`, where the workers take
    records from, keeping its task id; drops the next one of a kind when armed."""

    def __init__(self, wire: str, results: str):
        super().__init__(name="report-relay", daemon=True)
        self.wire, self.results = wire, results
        self.armed = ""
        self.dropped: list[tuple[float, str]] = []
        self.errors: list[str] = []
        self.holding = False
        self._lock = threading.Lock()
        self._stop_event = threading.Event()

    def arm(self, task: str) -> None:
        with self._lock:
            self.armed = task

    def disarm(self) -> str:
        with self._lock:
            armed, self.armed = self.armed, ""
        return armed

    def stop(self) -> None:
        self._stop_event.set()
        self.join(timeout=10)

    def run(self) -> None:
        while not self._stop_event.is_set():
            try:
                self._relay()
            except Exception as exc:  # noqa: BLE001 - the test fails on it at its end; the relay goes on
                self.errors.append(f"{type(exc).__name__}: {exc}")
                self.holding = False
                time.sleep(0.5)

    def _relay(self) -> None:
        with app.connection_for_read() as broker:
            wire = broker.SimpleQueue(self.wire, no_ack=True)
            try:
                while not self._stop_event.is_set():
                    try:
                        message = wire.get(timeout=0.2)
                    except wire.Empty:
                        continue
                    self.holding = True
                    self._pass_on(message)
                    self.holding = False
            finally:
                wire.close()

    def _pass_on(self, message) -> None:
        task = message.headers["task"]
        args, kwargs, _embed = message.decode()
        with self._lock:
            if (
                self.armed
                and task.startswith("clusters.record_")
                and (self.armed == "any" or task not in ROUTINE_RECORDS)
            ):
                self.armed = ""
                self.dropped.append((time.monotonic(), f"{task}{tuple(_short(a) for a in args)}"))
                return
        app.send_task(task, args=args, kwargs=kwargs, queue=self.results, task_id=message.headers["id"])


def _short(value):
    """A report's argument for the log: nodes by their id and state, not all their fields."""
    if isinstance(value, dict) and "id" in value:
        return f"node {value['id']} {value.get('state')}"
    if isinstance(value, dict):
        return {key: _short(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_short(item) for item in value] if len(value) <= 3 else f"[{len(value)} items]"
    return value


# ---------------------------------------------------------------------------- workers


class Crew:
    """`size` workers taking the cloud's tasks and the records, reporting on the wire; a killed one
    is replaced at once by a new process, which the others do not wait for."""

    def __init__(self, workers: Workers, consume: list[str], report_to: str, *, size: int = 2):
        self.workers, self.consume, self.report_to = workers, consume, report_to
        self.alive = [self._spawn() for _ in range(size)]
        self.ready()

    def _spawn(self) -> WorkerProcess:
        log_path = self.workers.directory / f"worker-{len(self.workers.started)}.log"
        worker = WorkerProcess(log_path, self.consume, self.report_to, concurrency=2)
        self.workers.started.append(worker)
        return worker

    def ready(self) -> None:
        for worker in self.alive:
            worker.wait_ready()

    def kill_busy(self, pick: float) -> str:
        """SIGKILL a worker (and its pool) that has a task of ours in hand — the one `pick` points
        at among them — and start another in its place."""
        self.ready()
        wait_for_traffic(self.consume)
        names = [worker.name for worker in self.alive]
        active = app.control.inspect(destination=names, timeout=10).active() or {}  # returns once all answer
        candidates = [worker for worker in self.alive if active.get(worker.name)] or self.alive
        victim = candidates[min(int(pick * len(candidates)), len(candidates) - 1)]
        tasks = [task["name"].removeprefix("clusters.") for task in active.get(victim.name, [])]
        victim.kill()
        self.alive.remove(victim)
        self.alive.append(self._spawn())
        return f"killed {victim.name.split('@')[0]} in the middle of {tasks or 'nothing (no task in hand)'}"

    def logs(self) -> list[Path]:
        return [worker.log_path for worker in self.workers.started]


# ---------------------------------------------------------------------------- database faults


class LogWatch:
    """How many times `text` appeared in the workers' logs since the watch began."""

    def __init__(self, logs: list[Path], text: str):
        self.text = text
        self.offsets = {path: path.stat().st_size if path.exists() else 0 for path in logs}

    def count(self) -> int:
        found = 0
        for path, offset in self.offsets.items():
            with open(path, "rb") as log:
                log.seek(offset)
                found += log.read().decode(errors="replace").count(self.text)
        return found


def sqlite_write_lock(path: str, seconds: float, logs: list[Path]) -> str:
    """Hold SQLite's write lock (BEGIN IMMEDIATE, from a connection of this process) for `seconds`,
    longer than the workers' busy timeout: their writes meanwhile fail with "database is locked"."""
    watch = LogWatch(logs, "database is locked")
    holder = sqlite3.connect(path, timeout=30, isolation_level=None)
    try:
        holder.execute("BEGIN IMMEDIATE")
        time.sleep(seconds)
        holder.execute("ROLLBACK")
    finally:
        holder.close()
    time.sleep(0.2)  # for the workers' last log lines of it: they are only counted for the report
    return f"write lock held {seconds:.1f} s: {watch.count()} worker writes met 'database is locked'"


def postgres_backends_terminated(url: str, seconds: float, logs: list[Path]) -> str:
    """Lock the instances table against writes for `seconds` and terminate (pg_terminate_backend)
    every backend that waits for it meanwhile: a record task's connection lost in the middle of
    its transaction."""
    import psycopg

    watch, terminated = LogWatch(logs, "terminating connection due to administrator command"), set()
    with psycopg.connect(url) as holder, psycopg.connect(url, autocommit=True) as admin:
        holder.execute("LOCK TABLE clusters_instance IN EXCLUSIVE MODE")
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            waiting = admin.execute(
                "SELECT pid FROM pg_stat_activity WHERE datname = current_database() "
                "AND wait_event_type = 'Lock' AND pid NOT IN (pg_backend_pid(), %s)",
                [holder.info.backend_pid],
            ).fetchall()
            for (pid,) in waiting:
                admin.execute("SELECT pg_terminate_backend(%s)", [pid])
                terminated.add(pid)
            time.sleep(0.05)
        holder.rollback()
    time.sleep(0.2)  # for the workers' last log lines of it: they are only counted for the report
    return (f"instances locked {seconds:.1f} s: {len(terminated)} worker backends terminated while waiting, "
            f"{watch.count()} record tasks met it")  # fmt: skip


# ---------------------------------------------------------------------------- the portal's side of it


def retrying(action, note: list[str]):
    """`action()`, again when the database said it was busy (as a user clicks again). SQLite answers a
    write that would wait for a committing worker with "database is locked" at once."""
    for attempt in range(1, 11):
        try:
            return action()
        except OperationalError as exc:
            if attempt == 10:
                raise
            note.append(f"again after: {exc}")
            time.sleep(0.2 * attempt)


def definition_for(owner, cluster: ClusterPlan, name: str, cloud, profiles: dict) -> ClusterDefinition:
    image, offering = Image.objects.get(cloud=cloud), ServiceOffering.objects.get(name="small")
    definition = ClusterDefinition.objects.create(owner=owner, name=name)
    for position, role in enumerate(cluster.roles):
        profile = profiles["needs" if role.needs else "plain"]
        Role.objects.create(definition=definition, name=role.name, profile=profile,
                            image=image, offering=offering, count=role.count, position=position,
                            depends_on=[role.needs] if role.needs else [])  # fmt: skip
    return definition


def launch(owner, cluster: ClusterPlan, name: str, cloud, profiles: dict, note: list[str]) -> Cluster:
    """Launch `cluster` once: a launch whose commit went through but whose dispatch failed on a busy
    database is not launched again, its waiting instances are dispatched."""
    definition = retrying(lambda: definition_for(owner, cluster, name, cloud, profiles), note)

    def once():
        made = Cluster.objects.filter(owner=owner, name=dns_label(name)).first()
        if made:
            launcher.advance(made.pk)
            return made
        return launcher.launch(definition, owner, name, {role.name: cloud for role in cluster.roles})

    return retrying(once, note)


def role_states(cluster: Cluster, role: str) -> str:
    found: dict[str, int] = {}
    for state in cluster.instances.filter(role=role).values_list("state", flat=True):
        found[state] = found.get(state, 0) + 1
    return ", ".join(f"{n} {state}" for state, n in sorted(found.items())) or "none"


def scale(cluster: Cluster, role: str, count: int, note: list[str]) -> str:
    before = role_states(cluster, role)

    def once():
        cluster.refresh_from_db()
        launcher.scale(cluster, role, count)

    try:
        retrying(once, note)
    except launcher.LaunchError as exc:
        return f"refused: {exc} (had {before})"
    return f"had {before}"


def terminate(cluster: Cluster, note: list[str]) -> str:
    def once():
        cluster.refresh_from_db()
        launcher.terminate(cluster)

    retrying(once, note)
    return "done"


def monitor(note: list[str]) -> str:
    return f"{retrying(recording.monitor_clouds, note)} clouds listed"


# ---------------------------------------------------------------------------- the comparison


def cloud_nodes(ec2, cloud, states: list[str] | None = None) -> dict[str, dict]:
    """{node id: {"state", "name", "tags"}} of the nodes moto has with this portal's and this cloud's tags."""
    filters = [{"Name": f"tag:{cloudside.PORTAL_TAG}", "Values": [launcher.portal_id()]},
               {"Name": f"tag:{cloudside.CLOUD_TAG}", "Values": [str(cloud.pk)]}]  # fmt: skip
    if states:
        filters.append({"Name": "instance-state-name", "Values": states})
    found = {}
    for page in ec2.get_paginator("describe_instances").paginate(Filters=filters):
        for reservation in page["Reservations"]:
            for node in reservation["Instances"]:
                tags = {tag["Key"]: tag["Value"] for tag in node.get("Tags", [])}
                found[node["InstanceId"]] = {"state": node["State"]["Name"], "name": tags.get("Name", ""),
                                             "tags": tags}  # fmt: skip
    return found


@dataclass
class Comparison:
    nodes_without_instance: list[str] = field(default_factory=list)
    instances_without_node: list[str] = field(default_factory=list)
    transitional: list[str] = field(default_factory=list)
    unsteady: list[str] = field(default_factory=list)
    live_nodes: int = 0

    @property
    def converged(self) -> bool:
        return not (self.nodes_without_instance or self.instances_without_node or self.transitional
                    or self.unsteady)  # fmt: skip

    def agreement(self) -> str:
        return f"they agree: {self.live_nodes} live nodes, each the node of one live instance"

    def lines(self) -> list[str]:
        return (
            [f"node without a live instance: {line}" for line in self.nodes_without_instance]
            + [f"live instance without a live node: {line}" for line in self.instances_without_node]
            + [f"instance still in a transitional state: {line}" for line in self.transitional]
            + [f"cluster neither steady nor final: {line}" for line in self.unsteady]
        )


def _instance_line(instance: Instance) -> str:
    node = f" node {instance.node_id}" if instance.node_id else " no node"
    error = f", last error: {instance.last_error}" if instance.last_error else ""
    return f"{instance.name} ({instance.state},{node}, attempts {instance.attempts}{error})"


def compare(ec2, cloud, clusters: list[Cluster]) -> Comparison:
    """The cloud's live nodes of this portal and cloud against the portal's live instances there."""
    nodes = cloud_nodes(ec2, cloud, LIVE_NODE_STATES)
    instances = list(Instance.objects.filter(cloud=cloud).order_by("cluster_id", "role", "index"))
    by_token = {str(i.idempotency_token): i for i in instances}
    live = [i for i in instances if i.state in LIVE_STATES]
    live_node_ids = [i.node_id for i in live if i.node_id]
    found = Comparison(live_nodes=len(nodes))
    for node_id, node in sorted(nodes.items()):
        if node_id not in live_node_ids:
            owner = by_token.get(node["tags"].get(cloudside.INSTANCE_TAG, ""))
            whose = f"its instance {_instance_line(owner)}" if owner else "no instance has its token"
            found.nodes_without_instance.append(f"{node_id} {node['name']} ({node['state']}): {whose}")
    for instance in live:
        if instance.node_id not in nodes or live_node_ids.count(instance.node_id) > 1:
            found.instances_without_node.append(_instance_line(instance))
    found.transitional = [_instance_line(i) for i in instances if i.state in TRANSITIONAL]
    found.unsteady = [f"{c.name} ({c.state})" for c in Cluster.objects.filter(pk__in=[c.pk for c in clusters])
                      if c.state not in STEADY_OR_FINAL]  # fmt: skip
    return found


def recent_events(clusters: list[Cluster], count: int = 25) -> list[str]:
    events = (
        ClusterEvent.objects.filter(cluster__in=clusters).select_related("cluster").order_by("-id")[:count]
    )
    return [f"{e.created:%H:%M:%S.%f} {e.cluster.name}: {e.message}" for e in reversed(list(events))]


# ---------------------------------------------------------------------------- one sequence


@dataclass
class Stack:
    """What every sequence of a test runs on: the workers, the wire's relay, moto, a user and profiles."""

    owner: object
    moto: object  # conftest.MotoEC2
    queues: list[str]  # the cloud's, the records', the wire
    crew: Crew
    relay: Relay
    profiles: dict
    database_fault: Callable[[float, list[Path]], str]  # (seconds, the workers' logs) -> what it did
    settle_seconds: float
    replay: str  # the command that runs one seed again, with {seed} in it

    @property
    def cloud_queue(self) -> str:
        return self.queues[0]


@dataclass
class Outcome:
    plan: Plan
    done: list[str]
    found: Comparison
    converged: bool
    quiet: bool
    created: int
    cycles: int
    seconds: float
    events: list[str]

    @property
    def left_over(self) -> int:
        return len(self.found.nodes_without_instance)

    def summary(self) -> str:
        verdict = "converged" if self.converged else f"DID NOT CONVERGE, {self.left_over} nodes left over"
        return (f": {len(self.plan.ops)} operations, {self.created} nodes, {verdict} after {self.cycles} "
                f"monitor cycles, {self.seconds:.1f} s")  # fmt: skip

    def report(self, replay: str, settle_seconds: float) -> str:
        return "\n".join(
            [f"seed {self.plan.seed} did not converge within {settle_seconds:.0f} s of monitor cycles "
             f"({self.cycles}); replay it with: {replay.format(seed=self.plan.seed)}"] + self.details()
        )  # fmt: skip

    def details(self) -> list[str]:
        busy = [] if self.quiet else ["messages were still in flight at the end"]
        found = self.found.lines() + busy or [self.found.agreement()]
        return (
            ["the sequence:"]
            + [f"    {line}" for line in self.plan.lines()]
            + ["what happened:"] + [f"    {line}" for line in self.done]
            + ["what the cloud and the portal say after it:"] + [f"    {line}" for line in found]
            + (["the clusters' last events:"] if self.events else [])
            + [f"    {line}" for line in self.events]
        )  # fmt: skip


def reset_moto(moto) -> None:
    """moto's EC2 emptied: each sequence counts its own nodes and lists only them."""
    request = urllib.request.Request(f"{moto.url}/moto-api/reset", data=b"", method="POST")
    urllib.request.urlopen(request, timeout=DEADLINE).close()


def quiet(stack: Stack, until: float) -> bool:
    """Wait until no message of the test's queues is waiting or in a worker's hands (twice in a row,
    the relay holding none either); False when `until` came first."""
    calm = 0
    while time.monotonic() < until:
        calm = calm + 1 if messages_in_flight(stack.queues) == 0 and not stack.relay.holding else 0
        if calm >= 2:
            return True
        time.sleep(0.1)
    return False


def settle(
    stack: Stack, ec2, cloud, clusters: list[Cluster], note: list[str]
) -> tuple[Comparison, bool, bool, int]:
    """Monitor cycles, each run to its end (its lists, records and destroys done), until the cloud
    and the portal agree after two cycles in a row, or `settle_seconds` have gone by."""
    deadline = time.monotonic() + stack.settle_seconds
    agreed = cycles = 0
    while True:
        retrying(recording.monitor_clouds, note)
        cycles += 1
        calm = quiet(stack, until=time.monotonic() + DEADLINE)  # a cycle's own work, even past the deadline
        found = compare(ec2, cloud, clusters)
        agreed = agreed + 1 if calm and found.converged else 0
        if agreed >= 2 or time.monotonic() > deadline:
            return found, agreed >= 2, calm, cycles
        time.sleep(1.0)


def run_sequence(stack: Stack, seed: int, number: int) -> Outcome:
    """The sequence of `seed`, the `number`th of the test (names its cloud and clusters apart)."""
    started = time.monotonic()
    stack.crew.ready()
    reset_moto(stack.moto)
    ec2 = stack.moto.boto3_client()
    cloud = cloud_with_offering(
        stack.owner, stack.moto.config(), name=f"moto {number}", queue=stack.cloud_queue
    )
    plan, clusters, done = plan_sequence(seed), {}, []
    dropped_before = len(stack.relay.dropped)
    for op in plan.ops:
        note: list[str] = []
        at = time.monotonic() - started
        if op.kind == "launch":
            name = f"s{seed}-{number}-{op.cluster}"
            clusters[op.cluster] = launch(
                stack.owner, plan.cluster(op.cluster), name, cloud, stack.profiles, note
            )
            result = f"cluster {clusters[op.cluster].name}"
        elif op.kind == "scale":
            result = scale(clusters[op.cluster], op.role, op.count, note)
        elif op.kind == "terminate":
            result = terminate(clusters[op.cluster], note)
        elif op.kind == "monitor":
            result = monitor(note)
        elif op.kind == "kill":
            result = stack.crew.kill_busy(op.pick)
        elif op.kind == "drop":
            stack.relay.arm(op.task)
            result = "armed"
        else:
            wait_for_traffic(stack.queues)
            result = stack.database_fault(2.0, stack.crew.logs())
        done.append((at, f"{op}: {result}" + "".join(f" [{n}]" for n in note)))
        time.sleep(op.pause)
    if stack.relay.disarm():
        done.append((time.monotonic() - started, "the armed drop found no record message to drop"))
    done.extend((at - started, f"dropped {what}") for at, what in stack.relay.dropped[dropped_before:])
    stack.crew.ready()  # a replacement for a killed worker, as a restarted service would be
    done.append((time.monotonic() - started, "monitor cycles begin"))
    note = []
    found, converged, calm, cycles = settle(stack, ec2, cloud, list(clusters.values()), note)
    done.extend((time.monotonic() - started, f"monitor: again after {n}") for n in note)
    done = [f"{at:5.1f} s  {line}" for at, line in sorted(done, key=lambda entry: entry[0])]
    created = len(cloud_nodes(ec2, cloud))
    events = [] if converged else recent_events(list(clusters.values()))
    return Outcome(plan, done, found, converged, calm, created, cycles, time.monotonic() - started, events)
