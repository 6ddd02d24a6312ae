"""A site of its own for a fault test (docs/reliability.md): its Redis, its PostgreSQL, its Celery
workers and its beat, each a real process that the test stops, kills or restarts — never the
machine's Redis or PostgreSQL, which other test runs use. Only moto's EC2 server (behind the fault
proxy) is the session's.

The portal's processes run with clusters/tests/fault_settings.py on the site's database and Redis;
clusters/tests/fault_site_portal.py sets a launch up and starts it, in a process of the site's too.
The test reads the site's database with SQL of its own (its Django connection is the test run's).
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import uuid
from collections import Counter
from contextlib import suppress
from pathlib import Path

import psycopg

from clusters.cloudside import CLUSTER_TAG, INSTANCE_TAG
from clusters.tests.conftest import LOCALHOST, free_port
from clusters.tests.process_helpers import server_command
from portal.testing.waits import STARTING, serves, wait_until_started

ROOT = Path(__file__).resolve().parents[2]
CLOUD_QUEUE = "cloud-faults"
UP = ("running", "ready")
# The portal's clocks, in seconds rather than minutes (the processes read them from the environment).
QUICK = {
    "MONITOR_INTERVAL": "2",  # the beat's monitor cycle (10 s)
    "ELASTIC_INTERVAL": "3",  # and its elastic tick (15 s)
    "LAUNCH_STALE_AFTER": "20",  # a create with no news is sent again (600 s)
    "MONITOR_CYCLE_TIMEOUT": "15",  # a list never recorded holds its cloud back (120 s)
}


class Process:
    """A process of the site, in a session of its own (so that it is stopped with its children)."""

    def __init__(self, name: str, command: list[str], env: dict, log_path: Path):
        self.name, self.command, self.env, self.log_path = name, command, env, log_path
        self.process: subprocess.Popen | None = None

    def start(self, ready: str | None = None) -> Process:
        """Start it; with `ready`, wait until that text shows in its log."""
        with open(self.log_path, "ab") as log:
            self.process = subprocess.Popen(self.command, cwd=ROOT, env=self.env, stdout=log,
                                            stderr=subprocess.STDOUT, start_new_session=True)  # fmt: skip
        if ready:
            wait_until_started(self.process, lambda: ready in self.log(), what=self.name, log=self.log_path)
        return self

    def running(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def signal(self, number: int, wait: float = 30.0) -> None:
        if not self.running():
            return
        os.killpg(self.process.pid, number)
        try:
            self.process.wait(timeout=wait)
        except subprocess.TimeoutExpired:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait(timeout=10)

    def stop(self) -> None:
        self.signal(signal.SIGTERM)

    def kill(self) -> None:
        self.signal(signal.SIGKILL)

    def log(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""


class RedisServer:
    """redis-server on a free port, its files in `directory`. `persistent`: as deploy/compose.yaml runs
    it, with the append-only file on (every write logged, flushed each second and at shutdown), so
    queued messages and the created-node markers outlive a restart; otherwise as `make run` starts
    one (scripts/common.sh: no snapshot, no append-only file), which forgets everything."""

    def __init__(self, directory: Path, *, persistent: bool = True):
        self.directory, self.persistent, self.port = directory, persistent, free_port()
        directory.mkdir(parents=True, exist_ok=True)
        keeping = ["--appendonly", "yes"] if persistent else ["--save", "", "--appendonly", "no"]
        command = [shutil.which("redis-server") or "redis-server", "--port", str(self.port), "--bind", LOCALHOST,
                   "--dir", str(directory), *keeping]  # fmt: skip
        self.process = Process("redis", command, dict(os.environ), directory / "redis.log")

    @property
    def url(self) -> str:
        return f"redis://{LOCALHOST}:{self.port}/0"

    def start(self) -> RedisServer:
        self.process.start(ready="Ready to accept connections")
        return self

    def stop(self) -> None:
        self.process.stop()  # SIGTERM: Redis flushes its append-only file and exits, as on a service restart

    def restart(self, down: float) -> None:
        self.stop()
        time.sleep(down)
        self.start()


class PostgresServer:
    """A PostgreSQL server of its own, run by pg_ctl in a temporary directory on a free port, with trust
    authentication on 127.0.0.1 only. initdb refuses to run as root: as root it runs as the
    `postgres` user (the directory is in /tmp, which that user can reach)."""

    def __init__(self):
        binaries = sorted(Path("/usr/lib/postgresql").glob("*/bin/pg_ctl"), key=lambda p: int(p.parts[-3]))
        if not binaries:
            raise RuntimeError("PostgreSQL's server is not installed (apt-get install postgresql)")
        self.bin = binaries[-1].parent
        self.directory = Path(tempfile.mkdtemp(prefix="portal-faults-pg-"))
        self.data, self.port = self.directory / "data", free_port()
        if os.geteuid() == 0:
            shutil.chown(self.directory, "postgres", "postgres")

    def _run(self, *command: str) -> None:
        as_user = ["runuser", "-u", "postgres", "--"] if os.geteuid() == 0 else []
        subprocess.run([*as_user, *command], check=True, capture_output=True, timeout=STARTING)

    def init(self) -> PostgresServer:
        self._run(
            str(self.bin / "initdb"), "-D", str(self.data), "--auth=trust", "-U", "postgres", "--no-sync"
        )
        return self.start()

    def start(self) -> PostgresServer:
        # fsync off: a test's server stops cleanly, and the machine is busy enough.
        options = f"-p {self.port} -k {self.directory} -c listen_addresses={LOCALHOST} -c fsync=off"
        self._run(str(self.bin / "pg_ctl"), "-D", str(self.data), "-l", str(self.directory / "server.log"),
                  "-w", "-o", options, "start")  # fmt: skip
        return self

    def stop(self) -> None:
        """A fast shutdown, as a service restart does: every session is ended, transactions rolled back."""
        self._run(str(self.bin / "pg_ctl"), "-D", str(self.data), "-m", "fast", "-w", "stop")

    def restart(self, down: float) -> None:
        self.stop()
        time.sleep(down)
        self.start()

    def start_if_stopped(self) -> None:
        """After a test that failed in the middle of a restart: the next test needs the server."""
        try:
            self._run(str(self.bin / "pg_ctl"), "-D", str(self.data), "status")
        except subprocess.CalledProcessError:  # pg_ctl status exits 3 when the server is not running
            self.start()

    def url(self, database: str = "postgres") -> str:
        return f"postgres://postgres@{LOCALHOST}:{self.port}/{database}"

    def execute(self, statement: str) -> None:
        with psycopg.connect(self.url(), autocommit=True, connect_timeout=10) as connection:
            connection.execute(statement)

    def remove(self) -> None:
        with suppress(subprocess.CalledProcessError):  # not running
            self.stop()
        shutil.rmtree(self.directory, ignore_errors=True)


def migrated_template(server: PostgresServer, log_path: Path) -> str:
    """A database migrated once, which each site's database is created from (a copy, not a migrate)."""
    server.execute('CREATE DATABASE "portal_template"')
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "clusters.tests.fault_settings",
           "DATABASE_URL": server.url("portal_template")}  # fmt: skip
    with open(log_path, "wb") as log:
        subprocess.run([sys.executable, "manage.py", "migrate", "--no-input"], cwd=ROOT, env=env, stdout=log,
                       stderr=subprocess.STDOUT, check=True, timeout=600)  # fmt: skip
    return "portal_template"


class Site:
    """The portal's processes on a Redis and a database of their own, with the quick clocks (QUICK)."""

    def __init__(self, directory: Path, redis: RedisServer, postgres: PostgresServer, template: str, **env):
        self.directory, self.redis, self.postgres = directory, redis, postgres
        self.database = f"site_{uuid.uuid4().hex[:8]}"
        postgres.execute(f'CREATE DATABASE "{self.database}" TEMPLATE "{template}"')
        self.env = {**os.environ, **QUICK, "DJANGO_SETTINGS_MODULE": "clusters.tests.fault_settings",
                    "DATABASE_URL": postgres.url(self.database), "CELERY_BROKER_URL": redis.url,
                    "CELERY_RESULT_BACKEND": redis.url, "PORTAL_RESULTS_QUEUE": "records", **env}  # fmt: skip
        self.processes: list[Process] = []

    def _process(self, name: str, command: list[str], **env) -> Process:
        log_path = self.directory / f"{name}-{len(self.processes)}.log"
        process = Process(name, command, {**self.env, **env}, log_path)
        self.processes.append(process)
        return process

    def worker(self, concurrency: int = 2, **env) -> Process:
        """A portal worker as scripts/run.sh starts one (prefork), on the portal's queues and the cloud's."""
        command = [sys.executable, "-m", "celery", "-A", "portal", "worker", "--loglevel", "INFO", "--pool",
                   "prefork", "--concurrency", str(concurrency), "--queues", f"default,records,{CLOUD_QUEUE}",
                   "--hostname", f"site-{uuid.uuid4().hex[:6]}@localhost", "--without-mingle", "--without-gossip"]  # fmt: skip
        return self._process("worker", command, **env).start(ready=" ready.")

    def beat(self) -> Process:
        """Celery's beat with the portal's schedule (MONITOR_INTERVAL, ELASTIC_INTERVAL of QUICK)."""
        command = [sys.executable, "-m", "celery", "-A", "portal", "beat", "--loglevel", "INFO",
                   "--schedule", str(self.directory / "celerybeat-schedule")]  # fmt: skip
        return self._process("beat", command).start(ready="beat: Starting")

    def web(self) -> str:
        """The portal's web server as scripts/run.sh starts it (portal/gunicorn.conf.py); its URL."""
        port = free_port()
        process = self._process("web", server_command(port)).start()
        url = f"http://{LOCALHOST}:{port}"
        wait_until_started(
            process.process, serves(url + "/accounts/login/"), what="the web server", log=process.log_path
        )
        return url

    def launch(self, cloud_host: str, cloud_port: int, count: int) -> int:
        """Alice's cloud (the EC2 API at cloud_host:cloud_port) and a launch of `count` plain nodes on
        it, set up by a process of the site's; the cluster's id."""
        command = [sys.executable, "-m", "clusters.tests.fault_site_portal", "--host", cloud_host,
                   "--port", str(cloud_port), "--count", str(count), "--queue", CLOUD_QUEUE]  # fmt: skip
        done = subprocess.run(
            command, cwd=ROOT, env=self.env, capture_output=True, text=True, timeout=STARTING
        )
        if done.returncode:
            raise RuntimeError(f"the launch did not start:\n{done.stdout}\n{done.stderr[-3000:]}")
        return json.loads(done.stdout.strip().splitlines()[-1])["cluster"]

    def rows(self, query: str, *params) -> list[tuple]:
        """The answer of the site's database: a new connection each time, so that one survives a restart."""
        with psycopg.connect(self.postgres.url(self.database), connect_timeout=10) as connection:
            return connection.execute(query, params).fetchall()

    def states(self, cluster_id: int) -> dict[str, int]:
        return dict(self.rows("SELECT state, count(*) FROM clusters_instance WHERE cluster_id = %s GROUP BY state",
                              cluster_id))  # fmt: skip

    def cluster_state(self, cluster_id: int) -> str:
        return self.rows("SELECT state FROM clusters_cluster WHERE id = %s", cluster_id)[0][0]

    def events(self, cluster_id: int) -> list[tuple[str, str]]:
        return self.rows("SELECT level, message FROM clusters_clusterevent WHERE cluster_id = %s ORDER BY id",
                         cluster_id)  # fmt: skip

    def stop_all(self) -> None:
        for process in reversed(self.processes):
            process.stop()


def cluster_nodes(ec2, cluster_id: int) -> list[dict]:
    """Every node moto has with the cluster's tag, whatever its state: {id, state, token}."""
    found = []
    pages = ec2.get_paginator("describe_instances").paginate(
        Filters=[{"Name": f"tag:{CLUSTER_TAG}", "Values": [str(cluster_id)]}]
    )
    for page in pages:
        for reservation in page["Reservations"]:
            for node in reservation["Instances"]:
                tags = {tag["Key"]: tag["Value"] for tag in node.get("Tags", [])}
                found.append(
                    {
                        "id": node["InstanceId"],
                        "state": node["State"]["Name"],
                        "token": tags.get(INSTANCE_TAG),
                    }
                )
    return found


def outcome(site: Site, ec2, cluster_id: int) -> dict:
    """What the table counts (docs/reliability.md): the cluster's live nodes on the cloud; the nodes
    made beyond one per instance (duplicates, even if destroyed since); and the lost records — a live
    node its instance does not record as up with that node, or an instance up whose node is not live."""
    nodes = cluster_nodes(ec2, cluster_id)
    live = {n["id"]: n for n in nodes if n["state"] in ("pending", "running")}
    per_token = Counter(n["token"] for n in nodes)
    instances = site.rows("SELECT idempotency_token::text, node_id, state FROM clusters_instance WHERE cluster_id = %s",
                          cluster_id)  # fmt: skip
    recorded = {node_id: token for token, node_id, state in instances if state in UP and node_id}
    unrecorded = [n for n in live.values() if recorded.get(n["id"]) != n["token"]]
    missing = [node_id for node_id in recorded if node_id not in live]
    return {
        "found": len(live),
        "duplicates": sum(count - 1 for count in per_token.values()),
        "lost": len(unrecorded) + len(missing),
        "states": dict(Counter(state for _token, _node, state in instances)),
    }
