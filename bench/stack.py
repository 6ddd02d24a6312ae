"""What bench/launch_bench.py starts for itself and stops when it ends: Redis (only when none answers
on 127.0.0.1:6379), moto's EC2 server in its own process, a throwaway database (a temporary SQLite
file, or a PostgreSQL database created and dropped on the server given) and Celery worker processes
of the portal, all isolated from `make run` and the tests (bench/launch_settings.py)."""

from __future__ import annotations

import os
import secrets
import signal
import socket
import subprocess
import sys
import time
import urllib.request
import uuid
from contextlib import ExitStack
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent  # the venv's: moto_server and celery
LOCALHOST = "127.0.0.1"
REDIS_PORT = 6379
# Redis database 14 is the launch benchmark's (`make run` uses 0, the tests 15); its keys also carry
# the run's prefix, and its semaphores the run's PORTAL_ID.
BROKER_URL = f"redis://{LOCALHOST}:{REDIS_PORT}/14"
STOP_GRACE = 20.0  # seconds a process gets to stop after SIGTERM (a worker finishes its task)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind((LOCALHOST, 0))
        return probe.getsockname()[1]


def wait_until(check, seconds: float, failure: str) -> None:
    deadline = time.monotonic() + seconds
    while not check():
        if time.monotonic() > deadline:
            raise RuntimeError(failure)
        time.sleep(0.1)


def redis_answers(url: str) -> bool:
    import redis

    try:
        return bool(redis.Redis.from_url(url, socket_connect_timeout=1, socket_timeout=2).ping())
    except redis.RedisError:
        return False


@dataclass
class Moto:
    port: int

    @property
    def url(self) -> str:
        return f"http://{LOCALHOST}:{self.port}"

    def reset(self) -> None:
        """Every node and reservation gone, as on a fresh start (moto's own reset call)."""
        request = urllib.request.Request(f"{self.url}/moto-api/reset", data=b"", method="POST")  # noqa: S310 - ours
        with urllib.request.urlopen(request, timeout=30) as answer:  # noqa: S310 - our own http:// server
            answer.read()


class Stack:
    """The processes and the database of one benchmark run, in a work directory; everything it
    started is stopped (and the database dropped) on leaving the `with` block, whatever happened."""

    def __init__(self, work: Path):
        self.work = work
        self.run_id = uuid.uuid4().hex[:8]
        self._exit = ExitStack()

    def __enter__(self) -> Stack:
        return self

    def __exit__(self, *exc_info) -> None:
        self._exit.close()

    def log(self, name: str) -> Path:
        return self.work / f"{name}.log"

    def start(self, name: str, command: list[str], env: dict | None = None) -> subprocess.Popen:
        """A process in a session of its own (so that it is stopped with its children), logging to
        the work directory; stopped when the stack closes, unless stopped before."""
        with open(self.log(name), "ab") as log:
            process = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT, env=env, cwd=ROOT,
                                       start_new_session=True)  # fmt: skip
        self._exit.callback(stop, process)
        return process

    # ------------------------------------------------------------------ Redis

    def redis(self) -> str:
        """The broker's URL: the local Redis, started here (and stopped at the end) when none answers."""
        if not redis_answers(BROKER_URL):
            server = BIN / "redis-server" if (BIN / "redis-server").exists() else "redis-server"
            try:
                process = self.start("redis", [str(server), "--port", str(REDIS_PORT), "--bind", LOCALHOST,
                                               "--save", "", "--appendonly", "no", "--dir", str(self.work)])  # fmt: skip
            except FileNotFoundError:
                sys.exit("launch_bench: no Redis answers on 127.0.0.1:6379 and redis-server is not installed "
                         "(apt-get install redis-server, or run `make bench`, which installs it)")  # fmt: skip
            wait_until(lambda: process.poll() is None and redis_answers(BROKER_URL), 10,
                       f"Redis did not start: {self.log('redis').read_text()[-2000:]}")  # fmt: skip
        self._exit.callback(self._forget_keys)
        return BROKER_URL

    def _forget_keys(self) -> None:
        """The run's queues, results and semaphores: removed, so that runs leave nothing behind."""
        import redis

        if not redis_answers(BROKER_URL):
            return
        client = redis.Redis.from_url(BROKER_URL)
        for pattern in (f"bench-{self.run_id}:*", f"*bench-{self.run_id}-*"):
            for key in client.scan_iter(match=pattern, count=1000):
                client.delete(key)

    # ------------------------------------------------------------------ moto

    def moto(self) -> Moto:
        port = free_port()
        process = self.start("moto", [str(BIN / "moto_server"), "-H", LOCALHOST, "-p", str(port)])

        def answers() -> bool:
            try:
                with socket.create_connection((LOCALHOST, port), timeout=1):
                    return True
            except OSError:
                return False

        wait_until(lambda: process.poll() is None and answers(), 30,
                   f"moto_server did not start: {self.log('moto').read_text()[-2000:]}")  # fmt: skip
        return Moto(port)

    # ------------------------------------------------------------------ the database

    def database(self, postgres_url: str | None) -> str:
        """The URL of a new, empty database: a SQLite file in the work directory, or a database
        created on the PostgreSQL server of `postgres_url` and dropped at the end."""
        if not postgres_url:
            return f"sqlite:///{self.work / 'portal.sqlite3'}"
        import psycopg

        name = f"portal_bench_{self.run_id}"
        try:
            with psycopg.connect(postgres_url, autocommit=True, connect_timeout=5) as connection:
                connection.execute(f'CREATE DATABASE "{name}"')
        except psycopg.OperationalError as exc:
            sys.exit(f"launch_bench: no PostgreSQL at {postgres_url}: {exc}".strip())

        def drop() -> None:
            if "django" in sys.modules:
                from django.db import connections

                connections.close_all()
            with psycopg.connect(postgres_url, autocommit=True) as connection:
                connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')

        self._exit.callback(drop)
        return postgres_url.rsplit("/", 1)[0] + "/" + name

    # ------------------------------------------------------------------ the portal

    def environment(self, database_url: str, broker_url: str) -> dict:
        """What the portal's processes of this run (this one and the workers) are configured with:
        the portal's settings (bench/launch_settings.py adds only a key prefix), keys of the run's own."""
        from cryptography.fernet import Fernet

        var = self.work / "var"
        var.mkdir(exist_ok=True)
        return {
            "DJANGO_SETTINGS_MODULE": "bench.launch_settings",
            "PORTAL_BENCH_RUN": self.run_id,
            "DATABASE_URL": database_url,
            "CELERY_BROKER_URL": broker_url,
            "CELERY_RESULT_BACKEND": broker_url,
            "PORTAL_ID": f"bench-{self.run_id}",
            "PORTAL_VAR_DIR": str(var),
            "SECRET_KEY": secrets.token_urlsafe(40),
            "PORTAL_ENCRYPTION_KEY": Fernet.generate_key().decode(),
            "PYTHONPATH": os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")]).rstrip(os.pathsep),
        }


def stop(process: subprocess.Popen) -> None:
    """SIGTERM to the process's session (a Celery worker finishes its tasks), SIGKILL if it lingers."""
    if process.poll() is not None:
        return
    try:
        os.killpg(process.pid, signal.SIGTERM)
        process.wait(timeout=STOP_GRACE)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait(timeout=10)
    except ProcessLookupError:
        pass


class Worker:
    """`celery -A portal worker` as `make run` starts it — prefork — with `concurrency` pool
    processes on `queues`; no beat (the launch does not need the monitor)."""

    def __init__(self, stack: Stack, env: dict, concurrency: int, queues: list[str]):
        self.stack, self.env, self.concurrency, self.queues = stack, env, concurrency, queues
        self.process: subprocess.Popen | None = None
        self.name = ""

    def start(self) -> Worker:
        from portal.celery import app

        self.name = f"bench-{self.stack.run_id}-{uuid.uuid4().hex[:6]}@localhost"
        command = [str(BIN / "celery"), "-A", "portal", "worker", "--loglevel", "INFO", "--pool", "prefork",
                   "--concurrency", str(self.concurrency), "--queues", ",".join(self.queues),
                   "--hostname", self.name, "--without-mingle", "--without-gossip"]  # fmt: skip
        self.process = self.stack.start(f"worker-{self.concurrency}", command, {**os.environ, **self.env})
        deadline = time.monotonic() + 90
        while not app.control.ping(destination=[self.name], timeout=0.5):
            if self.process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"the Celery worker did not start:\n{self.log()[-3000:]}")
        return self

    def stop(self) -> None:
        if self.process is not None:
            stop(self.process)

    def log(self) -> str:
        return self.stack.log(f"worker-{self.concurrency}").read_text(errors="replace")
