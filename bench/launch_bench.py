"""Launching clusters at the cloud API's own speed (docs/performance.md): the portal's launch beside a plain loop
of the same create calls, and one monitoring cycle over a large cluster.

Usage: .venv/bin/python bench/launch_bench.py [--quick] [--sizes 100,1000] [--workers 1,2,4]
           [--repeat 2] [--monitor 1000] [--timeout 300] [--postgres [URL]]

It starts what it needs (bench/stack.py): Redis when none answers on 127.0.0.1:6379, moto's EC2
server on a free port, a fresh database (a temporary SQLite file; with --postgres a database created
on URL's server — TEST_POSTGRES_URL's by default — and dropped) and, for each N of --workers, one
`celery -A portal worker` of the portal's own code and settings with a prefork pool of N processes,
as `make run` runs it (`--concurrency 2`): N processes take tasks, as the plain loop's N processes
take creates, and no extra idle parent processes share the two cores.

For each N and each K of --sizes, runs alternate — plain, portal, plain, portal (--repeat pairs) —
and moto is reset before each:
- plain: K creates through the portal's EC2 provider in N processes, with the portal's tags,
  ClientToken and the same user-data size (bench/plain_loop.py);
- portal: `launcher.launch` of a one-role definition of K instances on a cloud registered for that
  moto server, timed from the call until every instance has a node id (its create recorded) or
  failed; the monitor does not run. Duplicates (nodes beyond one per instance, by the instance tag)
  and orphans (nodes no instance has) are counted once every queue is empty.
A row gives the medians and the median of the pairs' ratios (each pair's in brackets).

Monitor: a cluster of --monitor instances whose nodes exist in moto (made directly, as the create
records would have reported them) gets two cycles, run in this process task by task as a worker
would run them: the first brings every instance to running, the second changes nothing. Cloud API
calls are counted at a proxy in front of moto (clusters/testing/fault_proxy.py), queries in this
process, as clusters/tests/test_monitor.py does.

--quick is a subset for CI (K=100, N=1,2, one pair each, the monitor at 300) in about a minute.
Prints a Markdown table; exits 1 when a launch left a duplicate, an orphan or a failed instance, or
did not finish within --timeout.
"""

from __future__ import annotations

import argparse
import base64
import logging
import os
import platform
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.plain_loop import PlainLoop  # noqa: E402
from bench.stack import LOCALHOST, Moto, Stack, Worker  # noqa: E402

AMI, SIZE = "ami-1e749f67", "t2.micro"  # an image in moto's us-east-1 list; any size will do
CREDENTIALS = {"key": "bench-access-key", "secret": "bench-secret-key"}  # moto takes any
# The profile of the fault tests' one-role definition: the user-data every instance gets is the
# portal's whole cloud-init document around it (the check-in helper and its token).
NODE = {"schema": 1, "hostname": "{{ cluster.name }}-{{ role.name }}-{{ instance.index }}"}
POLL = 0.1  # seconds between two looks at the launch's progress
SETTLE = 120.0  # seconds the queues get to empty after a launch


@dataclass
class Run:
    seconds: float | None  # None: not finished within the timeout
    count: int
    made: int
    failed: int = 0
    duplicates: int = 0
    orphans: int = 0
    nodes: int = 0  # live nodes in moto once the run was over
    call: float = 0.0  # seconds the launch call itself took (the portal's)
    busy: float = 0.0  # share of the machine's CPU in use meanwhile


@dataclass
class Row:
    count: int
    processes: int
    plain: list[Run] = field(default_factory=list)
    portal: list[Run] = field(default_factory=list)


@dataclass
class Executed:
    task: str
    seconds: float
    queries: int
    writes: int
    error: str = ""  # what a record said went wrong (a node list that failed)


@dataclass
class Cycle:
    seconds: float
    calls: dict
    executed: list[Executed]
    running: int


def main() -> int:
    args = parse_arguments()
    work = Path(tempfile.mkdtemp(prefix="portal-launch-bench-"))
    load_before = os.getloadavg()
    try:
        with Stack(work) as stack:
            moto = stack.moto()
            env = stack.environment(stack.database(args.postgres), stack.redis())
            os.environ.update(env)
            import django

            django.setup()
            from django.core.management import call_command

            call_command("migrate", verbosity=0)
            logging.getLogger("celery.app.trace").setLevel(logging.WARNING)  # the monitor's tasks run here
            bench = Bench(stack, moto, env, args.timeout)
            rows = [
                row
                for processes in args.workers
                for row in bench.launches(processes, args.sizes, args.repeat)
            ]
            cycles = bench.monitor(args.monitor) if args.monitor else []
            print(report(args, bench, rows, cycles, load_before))
    except BaseException:
        print(f"launch_bench: logs kept in {work}", file=sys.stderr)
        raise
    runs = [run for row in rows for run in row.portal + row.plain]
    wrong = any(run.seconds is None or run.duplicates or run.orphans or run.failed for run in runs)
    if wrong:
        print(f"launch_bench: logs kept in {work}", file=sys.stderr)
    else:
        shutil.rmtree(work, ignore_errors=True)
    return 1 if wrong else 0


def parse_arguments() -> argparse.Namespace:
    def numbers(text: str) -> list[int]:
        try:
            values = [int(part) for part in text.split(",") if part.strip()]
        except ValueError:
            raise argparse.ArgumentTypeError(f"not a list of whole numbers: {text!r}") from None
        if not values or min(values) < 1:
            raise argparse.ArgumentTypeError(f"give one or more numbers of at least 1: {text!r}")
        return values

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--quick", action="store_true", help="a subset for CI: K=100, N=1,2, 1 pair, monitor 300"
    )
    parser.add_argument("--sizes", type=numbers, help="instances per launch (100,1000)")
    parser.add_argument("--workers", type=numbers, help="worker processes (1,2,4)")
    parser.add_argument("--repeat", type=int, help="plain/portal pairs per row (2)")
    parser.add_argument("--monitor", type=int, help="instances of the monitor's cycle (1000; 0 skips it)")
    parser.add_argument("--timeout", type=float, help="seconds a launch may take (300; 90 with --quick)")
    parser.add_argument("--postgres", nargs="?", metavar="URL", const="",
                        help="PostgreSQL instead of SQLite: a throwaway database on URL's server "
                             "(TEST_POSTGRES_URL, or postgres://postgres@127.0.0.1:5432/postgres)")  # fmt: skip
    args = parser.parse_args()
    quick = args.quick
    args.sizes = args.sizes or ([100] if quick else [100, 1000])
    args.workers = args.workers or ([1, 2] if quick else [1, 2, 4])
    args.repeat = args.repeat or (1 if quick else 2)
    args.monitor = (300 if quick else 1000) if args.monitor is None else args.monitor
    args.timeout = args.timeout or (90.0 if quick else 300.0)
    if args.postgres is not None:
        args.postgres = args.postgres or os.environ.get(
            "TEST_POSTGRES_URL", "postgres://postgres@127.0.0.1:5432/postgres"
        )
    return args


class Bench:
    """The portal's side of the benchmark: its records, its launches, its workers."""

    def __init__(self, stack: Stack, moto: Moto, env: dict, timeout: float):
        from django.contrib.auth.models import User

        from contexts.profiles import create_profile

        self.stack, self.moto, self.env, self.timeout = stack, moto, env, timeout
        self.owner = User.objects.create_user("bench")
        self.profile = create_profile(self.owner, "plain node", NODE)
        self.cloud = make_cloud(self.owner, moto.port, name="moto", queue="default")
        self.user_data = b""
        self.database = database_name()
        self.queues = worker_queues([self.cloud])

    # ------------------------------------------------------------------ launches

    def launches(self, processes: int, sizes: list[int], repeat: int) -> list[Row]:
        worker = Worker(self.stack, self.env, processes, self.queues).start()
        loop = None
        try:
            self.portal_run(2 * processes, worker)  # every pool process connects and imports once
            if not self.user_data:
                self.user_data = self.user_data_sent()
            loop = PlainLoop(
                processes, self.cloud.config(), size_id=SIZE, image_id=AMI, user_data=self.user_data
            )
            rows = []
            for count in sizes:
                row = Row(count, processes)
                for _pair in range(repeat):
                    row.plain.append(self.plain_run(loop, count))
                    row.portal.append(self.portal_run(count, worker))
                    say(f"K={count} N={processes}: plain {row.plain[-1].seconds:.1f} s, "
                        f"portal {seconds_text(row.portal[-1])} s")  # fmt: skip
                rows.append(row)
            return rows
        finally:
            if loop:
                loop.close()
            worker.stop()

    def plain_run(self, loop: PlainLoop, count: int) -> Run:
        from clusters.cloudside import CLOUD_TAG, CLUSTER_TAG, INSTANCE_TAG, PORTAL_TAG

        self.moto.reset()
        tags = {PORTAL_TAG: self.env["PORTAL_ID"], CLUSTER_TAG: "0", CLOUD_TAG: str(self.cloud.pk)}
        jobs = []
        for index in range(count):
            token = str(uuid.uuid4())
            jobs.append((f"plain-node-{index}", token, {**tags, INSTANCE_TAG: token}))
        cpu = CpuMeter()
        started = time.perf_counter()
        results = loop.run(jobs)
        seconds = time.perf_counter() - started
        busy = cpu.busy()
        failed = sum(1 for _token, _node, error in results if error)
        duplicates, orphans, nodes = self.census({token for _name, token, _tags in jobs})
        return Run(seconds, count, count - failed, failed, duplicates, orphans, nodes, busy=busy)

    def portal_run(self, count: int, worker: Worker | None = None) -> Run:
        from clusters import launcher
        from clusters.models import Instance

        self.moto.reset()
        definition = one_role_definition(self.owner, self.cloud, self.profile, count)
        cpu = CpuMeter()
        started = time.perf_counter()
        cluster = launcher.launch(definition, self.owner, f"bench{count}", {"node": self.cloud})
        call = time.perf_counter() - started
        made, failed = progress(cluster)
        reported = started
        while made + failed < count and time.perf_counter() - started < self.timeout:
            time.sleep(POLL)
            made, failed = progress(cluster)
            if time.perf_counter() - reported > 30:
                reported = time.perf_counter()
                say(
                    f"K={count}: {made} recorded, {failed} failed after {reported - started:.0f} s; "
                    f"{waiting(self.queues)} messages waiting"
                )
        seconds = time.perf_counter() - started if made + failed >= count else None
        busy = cpu.busy()
        if not (seconds and settle(self.queues, SETTLE)) and worker:
            # Unfinished: what is left is dropped, and the worker starts afresh for the next run.
            worker.stop()
            purge(self.queues)
            worker.start()
        tokens = {
            str(t)
            for t in Instance.objects.filter(cluster=cluster).values_list("idempotency_token", flat=True)
        }
        duplicates, orphans, nodes = self.census(tokens)
        return Run(seconds, count, made, failed, duplicates, orphans, nodes, call=call, busy=busy)

    def user_data_sent(self) -> bytes:
        """The user-data of a node the portal made (the last launch's): the plain loop sends as much."""
        ec2 = self.ec2()
        node = ec2.describe_instances()["Reservations"][0]["Instances"][0]["InstanceId"]
        answer = ec2.describe_instance_attribute(InstanceId=node, Attribute="userData")
        return base64.b64decode(answer["UserData"]["Value"])

    def ec2(self):
        """boto3's EC2 client for moto, with a patient timeout: the referee, not the portal's provider."""
        import boto3
        from botocore.config import Config

        return boto3.client("ec2", region_name="us-east-1", endpoint_url=self.moto.url,
                            aws_access_key_id=CREDENTIALS["key"], aws_secret_access_key=CREDENTIALS["secret"],
                            config=Config(read_timeout=300, retries={"max_attempts": 1}))  # fmt: skip

    def census(self, tokens: set[str]) -> tuple[int, int, int]:
        """(duplicates, orphans, nodes) in moto: nodes beyond one per instance token, nodes whose
        token is none of `tokens`, and all its live nodes."""
        from clusters.cloudside import INSTANCE_TAG

        per_token = Counter()
        for page in (
            self.ec2().get_paginator("describe_instances").paginate(PaginationConfig={"PageSize": 500})
        ):
            for reservation in page["Reservations"]:
                for node in reservation["Instances"]:
                    if node["State"]["Name"] not in ("shutting-down", "terminated"):
                        tags = {tag["Key"]: tag["Value"] for tag in node.get("Tags", [])}
                        per_token[tags.get(INSTANCE_TAG)] += 1
        duplicates = sum(n - 1 for token, n in per_token.items() if token in tokens)
        orphans = sum(n for token, n in per_token.items() if token not in tokens)
        return duplicates, orphans, sum(per_token.values())

    # ------------------------------------------------------------------ the monitor

    def monitor(self, count: int) -> list[Cycle]:
        """Two monitoring cycles over a cluster of `count` instances whose nodes exist (see the module)."""
        from clusters import launcher
        from clusters.models import Instance, InstanceState
        from clusters.testing.fault_proxy import FaultProxy
        from portal.celery import app

        # The launches' clusters are over: only this cluster's cloud has instances to watch.
        Instance.objects.exclude(state=InstanceState.TERMINATED).update(state=InstanceState.TERMINATED)
        self.moto.reset()
        with FaultProxy(self.moto.url) as proxy:
            cloud = make_cloud(self.owner, proxy.port, name="monitored", queue="bench-monitor")
            queues = [cloud.queue, *self.queues]  # no worker runs now: this process takes them all
            started = time.perf_counter()
            cluster = launcher.launch(one_role_definition(self.owner, cloud, self.profile, count), self.owner,
                                      "watched", {"node": cloud})  # fmt: skip
            run_here(queues)  # the dispatch; its creates are left out, made below
            instances = list(Instance.objects.filter(cluster=cluster).order_by("index"))
            waiting = [i for i in instances if i.state != InstanceState.LAUNCHING]
            if waiting:
                raise RuntimeError(f"{len(waiting)} of {count} instances were not sent: {waiting[0].state}")
            direct = make_cloud(self.owner, self.moto.port, name="direct", queue="bench-direct")
            loop = PlainLoop(2, direct.config(), size_id=SIZE, image_id=AMI, user_data=b"")
            try:
                made = loop.run(
                    [(i.name, str(i.idempotency_token), node_tags(cluster, i)) for i in instances]
                )
            finally:
                loop.close()
            node_ids = {token: node for token, node, _error in made}
            for instance in instances:  # as the create records would have: node ids, still launching
                instance.node_id = node_ids[str(instance.idempotency_token)]
            Instance.objects.bulk_update(instances, ["node_id"])
            say(f"monitor: {count} instances and their nodes ready in {time.perf_counter() - started:.0f} s")
            cycles = []
            for _cycle in range(2):
                proxy.reset_counts()
                cycle_started = time.perf_counter()
                executed = [execute(app, monitor_task(), [], {})] + run_here(queues)
                seconds = time.perf_counter() - cycle_started
                running = Instance.objects.filter(cluster=cluster, state=InstanceState.RUNNING).count()
                cycles.append(Cycle(seconds, dict(proxy.calls), executed, running))
                say(f"monitor cycle: {seconds:.2f} s, {running} running")
        return cycles


# ---------------------------------------------------------------------------- the portal's records


def make_cloud(owner, port: int, *, name: str, queue: str):
    """An EC2 cloud for moto (or the proxy in front of it) with the offering "small" and one image."""
    from clusters.models import Cloud, Image, ServiceOffering, SizeMapping

    cloud = Cloud(owner=owner, name=name, driver="ec2", host=LOCALHOST, port=port, path="/", secure=False,
                  region="us-east-1", queue=queue)  # fmt: skip
    cloud.set_credentials(CREDENTIALS)
    cloud.save()
    offering, _ = ServiceOffering.objects.get_or_create(
        name="small", defaults={"vcpus": 1, "ram_mb": 1024, "disk_gb": 10}
    )
    SizeMapping.objects.create(offering=offering, cloud=cloud, size_id=SIZE)
    Image.objects.create(cloud=cloud, name="AlmaLinux 9", provider_id=AMI, format="cloud-init")
    return cloud


def node_tags(cluster, instance) -> dict:
    """The tags the portal puts on an instance's node (the names are on real nodes: they stay)."""
    from django.conf import settings

    from clusters.cloudside import CLOUD_TAG, CLUSTER_TAG, INSTANCE_TAG, PORTAL_TAG

    return {PORTAL_TAG: settings.PORTAL_ID, CLUSTER_TAG: str(cluster.pk), CLOUD_TAG: str(instance.cloud_id),
            INSTANCE_TAG: str(instance.idempotency_token)}  # fmt: skip


def one_role_definition(owner, cloud, profile, count: int):
    from clusters.models import ClusterDefinition, Image, Role, ServiceOffering

    definition = ClusterDefinition.objects.create(owner=owner, name=f"nodes {uuid.uuid4().hex[:6]}")
    Role.objects.create(definition=definition, name="node", profile=profile, image=Image.objects.get(cloud=cloud),
                        offering=ServiceOffering.objects.get(name="small"), count=count)  # fmt: skip
    return definition


def progress(cluster) -> tuple[int, int]:
    """(instances with a node id, instances failed without one)."""
    from django.db.models import Count, Q

    from clusters.models import InstanceState

    counts = cluster.instances.aggregate(
        made=Count("pk", filter=~Q(node_id="")),
        failed=Count("pk", filter=Q(node_id="", state=InstanceState.FAILED)),
    )
    return counts["made"], counts["failed"]


def worker_queues(clouds) -> list[str]:
    """The queues a portal worker must serve for these clouds' launches: the default one, the clouds'
    own, and whatever queues the portal's settings route tasks to (records, dispatch)."""
    from django.conf import settings

    from portal.celery import app

    names = {settings.CELERY_TASK_DEFAULT_QUEUE, *(cloud.queue for cloud in clouds)}
    routes = app.conf.task_routes or {}
    for table in routes if isinstance(routes, (list, tuple)) else [routes]:
        if isinstance(table, dict):
            names |= {
                route["queue"] for route in table.values() if isinstance(route, dict) and "queue" in route
            }
    names |= {queue.name for queue in app.conf.task_queues or ()}
    if app.conf.get("portal_results_queue"):
        names.add(app.conf.portal_results_queue)
    return sorted(names)


def settle(queues: list[str], timeout: float) -> bool:
    """Wait until no message waits on `queues` and none is being worked on (each task's message is
    unacknowledged until it is done: acks_late); whether that came within `timeout`."""
    from portal.celery import app

    deadline, quiet = time.monotonic() + timeout, 0
    with app.connection_for_read() as connection:
        channel = connection.default_channel
        client = channel.client  # it adds the run's key prefix itself
        while time.monotonic() < deadline:
            busy = sum(client.llen(queue) for queue in queues) + client.hlen(channel.unacked_key)
            quiet = 0 if busy else quiet + 1
            if quiet >= 3:
                return True
            time.sleep(0.2)
    return False


def waiting(queues: list[str]) -> int:
    from portal.celery import app

    with app.connection_for_read() as connection:
        return sum(connection.default_channel.client.llen(queue) for queue in queues)


def purge(queues: list[str]) -> None:
    from portal.celery import app

    with app.connection_for_write() as connection:
        channel = connection.default_channel
        for queue in queues:
            channel.queue_purge(queue)
        channel.client.delete(channel.unacked_key, channel.unacked_index_key)


def monitor_task() -> str:
    """The task the beat runs every MONITOR_INTERVAL."""
    from django.conf import settings

    return next(
        entry["task"] for entry in settings.CELERY_BEAT_SCHEDULE.values() if "monitor" in entry["task"]
    )


def is_create(task: str) -> bool:
    return task.startswith("clusters.cloud_create")


def run_here(queues: list[str]) -> list[Executed]:
    """Run every task message waiting on `queues` in this process, and the ones those send, until
    none is left — except creates, which are dropped (the monitor's cluster has its nodes made
    directly). As a worker would, one message at a time."""
    from portal.celery import app

    executed = []
    with app.connection_for_write() as connection:
        inboxes = [connection.SimpleQueue(queue, no_ack=True) for queue in queues]
        try:
            found = True
            while found:
                found = False
                for inbox in inboxes:
                    try:
                        message = inbox.get(block=False)
                    except inbox.Empty:
                        continue
                    found = True
                    task = message.headers["task"]
                    if not is_create(task):
                        args, kwargs, _embed = message.decode()
                        executed.append(execute(app, task, args, kwargs))
        finally:
            for inbox in inboxes:
                inbox.close()
    return executed


def execute(app, task: str, args, kwargs) -> Executed:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as captured:
        started = time.perf_counter()
        result = app.tasks[task].apply(args=args, kwargs=kwargs)
        seconds = time.perf_counter() - started
    if result.failed():
        raise RuntimeError(f"{task} failed:\n{result.traceback}")
    writes = sum(
        1 for q in captured.captured_queries if re.match(r"\s*(UPDATE|INSERT|DELETE)", q["sql"], re.I)
    )
    error = result.result.get("error", "") if isinstance(result.result, dict) else ""
    return Executed(task, seconds, len(captured), writes, error or "")


# ---------------------------------------------------------------------------- measuring


class CpuMeter:
    """The share of the machine's CPU time in use (by anyone) since it was made, from /proc/stat."""

    def __init__(self):
        self.start = self._sample()

    @staticmethod
    def _sample() -> tuple[int, int]:
        try:
            fields = [int(v) for v in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
        except OSError:
            return 0, 0
        return sum(fields), fields[3] + fields[4]  # total, idle + iowait

    def busy(self) -> float:
        total, idle = self._sample()
        spent = total - self.start[0]
        return 1 - (idle - self.start[1]) / spent if spent else 0.0


def say(message: str) -> None:
    print(f"launch_bench: {message}", file=sys.stderr, flush=True)


def seconds_text(run: Run) -> str:
    return f"{run.seconds:.1f}" if run.seconds is not None else f"unfinished ({run.made} of {run.count} made)"


def database_name() -> str:
    from django.db import connection

    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("SHOW server_version")
            return f"PostgreSQL {cursor.fetchone()[0].split()[0]}"
        cursor.execute("SELECT sqlite_version()")
        return f"SQLite {cursor.fetchone()[0]} (WAL)"


# ---------------------------------------------------------------------------- the report


def report(args, bench: Bench, rows: list[Row], cycles: list[Cycle], load_before) -> str:
    lines = ["## Launch benchmark", "", *(f"- {fact}" for fact in facts(args, bench, load_before)), ""]
    if rows:
        lines += launch_table(rows, args.timeout)
    if cycles:
        lines += ["", *monitor_table(cycles)]
    return "\n".join(lines)


def facts(args, bench: Bench, load_before) -> list[str]:
    from importlib.metadata import version

    cpu = next((line.split(":", 1)[1].strip() for line in Path("/proc/cpuinfo").read_text().splitlines()
                if line.startswith("model name")), platform.processor())  # fmt: skip
    commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True,
                            text=True).stdout.strip() or "? (not a git checkout)"  # fmt: skip
    changed = subprocess.run(["git", "status", "--porcelain", "clusters", "portal"], cwd=ROOT,
                             capture_output=True, text=True).stdout  # fmt: skip
    load_after = os.getloadavg()
    command = " ".join([".venv/bin/python bench/launch_bench.py", *sys.argv[1:]])
    return [
        f"Command: `{command}`, {time.strftime('%Y-%m-%d %H:%M %Z')}, commit {commit}"
        f"{' with local changes in clusters/ or portal/' if changed else ''}",
        f"Machine: {os.cpu_count()} cores ({cpu}), Python {platform.python_version()}, load average "
        f'{load_before[0]:.2f} before, {load_after[0]:.2f} after (1 min); "CPU busy" is the whole '
        "machine's, whoever used it",
        f"Cloud: moto {version('moto')} EC2 server (one process, reset before each run); apache-libcloud "
        f"{version('apache-libcloud')}; database: {bench.database}",
        f"Portal: one `celery -A portal worker --pool prefork --concurrency N` on queues "
        f"{', '.join(bench.queues)}, no beat; the launch call runs in this process; "
        f"user-data {len(bench.user_data):,} bytes per node (plain loop: the same bytes)",
        f"Plain loop: N processes, each with one EC2 provider of clusters/providers, one create per call; "
        f"{args.repeat} plain/portal pair(s) per row, interleaved; timeout {args.timeout:.0f} s per launch",
    ]


def launch_table(rows: list[Row], timeout: float) -> list[str]:
    lines = [
        "| instances | worker processes | plain loop s | portal s | ratio (pairs) | portal inst/s | "
        "plain inst/s | launch call s | CPU busy | duplicates | orphans | failed |",
        "| ---: | ---: | ---: | ---: | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    for row in rows:
        plain = statistics.median(run.seconds for run in row.plain)
        finished = [run for run in row.portal if run.seconds is not None]
        ratios = [
            p.seconds / q.seconds if p.seconds is not None else None
            for p, q in zip(row.portal, row.plain, strict=True)
        ]
        if len(finished) == len(row.portal):
            portal_s = statistics.median(run.seconds for run in row.portal)
            portal_cell, rate = f"{portal_s:.1f}", row.count / portal_s
            ratio = f"**{statistics.median(ratios):.2f}×**"
        else:
            best = max(row.portal, key=lambda run: run.made)
            made = best.made
            portal_cell = (
                f"> {timeout:.0f} ({len(row.portal) - len(finished)} of {len(row.portal)} unfinished; "
            )
            portal_cell += f"at best {made:,} of {row.count:,} recorded, {best.nodes:,} nodes in moto)"
            rate = made / timeout
            ratio = f"**> {timeout / plain:.1f}×**"
        pairs = ", ".join(f"{r:.2f}" if r is not None else "—" for r in ratios)
        runs = row.portal + row.plain
        cells = [
            f"{row.count:,}", str(row.processes), f"{plain:.1f}", portal_cell, f"{ratio} ({pairs})", f"{rate:.1f}",
            f"{row.count / plain:.1f}", f"{statistics.median(run.call for run in row.portal):.1f}",
            f"{statistics.median(run.busy for run in row.portal):.0%}",
            f"{sum(run.duplicates for run in runs)}", f"{sum(run.orphans for run in runs)}",
            f"{sum(run.failed for run in runs)}",
        ]  # fmt: skip
        lines.append("| " + " | ".join(cells) + " |")
    lines += ["", "Duplicates, orphans and failures are summed over the row's runs (plain and portal); "
              "\"launch call\" is `launcher.launch` itself, inside the portal's time."]  # fmt: skip
    return lines


def monitor_table(cycles: list[Cycle]) -> list[str]:
    lines = [
        "| monitor cycle | instances running after | seconds | tick s | cloud side s | records s | "
        "cloud API calls | queries: tick + records (writes) | error |",
        "| --- | ---: | ---: | ---: | ---: | ---: | --- | --- | --- |",
    ]
    for name, cycle in zip(
        ("first (all launching → running)", "second (nothing changes)"), cycles, strict=False
    ):
        tick, rest = cycle.executed[0], cycle.executed[1:]
        cloud = [e for e in rest if e.task.startswith("clusters.cloud_")]
        records = [e for e in rest if not e.task.startswith("clusters.cloud_")]
        calls = ", ".join(f"{action} {n}" for action, n in sorted(cycle.calls.items())) or "none"
        queries = sum(e.queries for e in records)
        writes = sum(e.writes for e in [tick, *records])
        cells = [name, f"{cycle.running:,}", f"{cycle.seconds:.2f}", f"{tick.seconds:.2f}",
                 f"{sum(e.seconds for e in cloud):.2f}", f"{sum(e.seconds for e in records):.2f}",
                 f"{sum(cycle.calls.values())} ({calls})", f"{tick.queries} + {queries} ({writes})",
                 "; ".join(" ".join(e.error.split()) for e in cycle.executed if e.error) or "none"]  # fmt: skip
        lines.append("| " + " | ".join(cells) + " |")
    lines += ["", "A cycle's tasks run one after another in this process (no broker wait); the cloud calls "
              "go through a counting proxy in front of moto."]  # fmt: skip
    return lines


if __name__ == "__main__":
    sys.exit(main())
