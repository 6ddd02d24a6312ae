"""The web server under load (docs/performance.md): instance check-ins, the marketplace and a 1,000-instance
cluster page, on the real server started as `make run` starts it.

Usage: .venv/bin/python bench/web_bench.py [--sqlite] [--quick] [--seconds S] [--clients N]
           [--page-clients N] [--profiles N] [--only checkin,ceiling,search,tag,cluster,live,render]

It makes a throwaway database (PostgreSQL at TEST_POSTGRES_URL, or SQLite with --sqlite), fills it
(a cluster of 1,000 instances with their check-in tokens, 10,000 public profiles with tags and
stars), starts `gunicorn --config portal/gunicorn.conf.py` on it with bench/settings.py (the
portal plus a no-database view, the ceiling), loads it with `wrk` and prints a Markdown table.
Queries per request are counted in this process, for one request each. --quick (under a minute)
measures 3 s instead of 10. Exits 1 when a request failed, not when a target
is missed: timings depend on what else runs on the cores (the table shows the load average).

Targets: check-in ≥ 500 req/s with p99 ≤ 100 ms at 100 clients on 2 cores; the marketplace and
the cluster page p95 ≤ 150 ms with a number of queries that does not grow with the data.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import random
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
import uuid
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

CHECKIN_TARGET_RPS, CHECKIN_TARGET_P99_MS, PAGE_TARGET_P95_MS = 500, 100, 150
INSTANCES = 1000
SEARCH_WORD, TAG = "worker", "grid"
MEASUREMENTS = ("checkin", "ceiling", "search", "tag", "cluster", "live", "render")
TOPICS = ["atlas", "cms", "lhcb", "alice", "belle", "dune", "icecube", "ligo", "km3net", "auger"]
KINDS = ["worker", "master", "submitter", "gateway", "squid", "client"]
TAGS = ["grid", "htcondor", "cvmfs", "puppet", "mpi", "ansible", "ganglia", "proof", "slurm", "docker",
        "gpu", "batch", "analysis", "simulation", "storage", "monitoring", "xrootd", "frontier", "cernvm",
        "ubuntu", "debian", "alma", "rocky", "centos", "jupyter", "spark", "dask", "kubernetes", "test",
        "production"]  # fmt: skip

# wrk's Lua: requests spread over the check-in tokens (one token per line of BENCH_TOKENS), and a
# summary line this script reads. Each wrk thread runs its own copy, started at its own offset.
WRK_REPORT = r"""
done = function(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    'WRKJSON {"requests": %d, "duration_us": %d, "p50_us": %d, "p95_us": %d, "p99_us": %d, "max_us": %d, ' ..
    '"errors": {"connect": %d, "read": %d, "write": %d, "status": %d, "timeout": %d}}\n',
    summary.requests, summary.duration, latency:percentile(50), latency:percentile(95),
    latency:percentile(99), latency.max, e.connect, e.read, e.write, e.status, e.timeout))
end
"""
WRK_CHECKIN = (
    r"""
local tokens = {}
for line in io.lines(os.getenv("BENCH_TOKENS")) do tokens[#tokens + 1] = line end
local next_id, position = 0, 0
setup = function(thread)
  thread:set("id", next_id)
  next_id = next_id + 1
end
init = function(args)
  position = (id or 0) * 7919
end
request = function()
  position = position + 1
  local token = tokens[position % #tokens + 1]
  return wrk.format("POST", nil, {
    ["Content-Type"] = "application/x-www-form-urlencoded",
    ["Authorization"] = "Instance " .. token,
  }, "status=booted")
end
"""
    + WRK_REPORT
)


@dataclass
class Data:
    tokens: list[str]
    cluster_id: int
    owner_id: int
    session_cookie: str
    profiles: int


@dataclass
class Row:
    name: str
    clients: int
    rps: float = 0.0
    p50: float = 0.0
    p95: float = 0.0
    p99: float = 0.0
    errors: int = 0
    queries: int | None = None
    target: str = ""
    met: bool | None = None


LOAD_AT_START = " ".join(Path("/proc/loadavg").read_text().split()[:3])


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sqlite", action="store_true", help="SQLite instead of PostgreSQL")
    parser.add_argument("--quick", action="store_true", help="a subset in under a minute")
    parser.add_argument("--seconds", type=float, help="seconds per measurement (10; 3 with --quick)")
    parser.add_argument("--clients", type=int, default=100, help="concurrent check-in clients (100)")
    parser.add_argument("--page-clients", type=int, default=2, help="concurrent page clients (2)")
    parser.add_argument("--profiles", type=int, default=10_000, help="public profiles (10,000)")
    parser.add_argument("--only", type=lambda text: set(text.split(",")), default=set(MEASUREMENTS),
                        help=f"some of {','.join(MEASUREMENTS)} (all)")  # fmt: skip
    args = parser.parse_args()
    if args.only - set(MEASUREMENTS):
        parser.error(f"--only takes some of {','.join(MEASUREMENTS)}")
    seconds = args.seconds or (3.0 if args.quick else 10.0)
    profiles = args.profiles
    if not shutil.which("wrk"):
        sys.exit("web_bench: wrk is missing: apt-get install wrk")

    work = Path(tempfile.mkdtemp(prefix="portal-web-bench-"))
    try:
        with database(args.sqlite, work) as database_url, redis_url() as broker_url:
            env = {
                **os.environ,
                "DJANGO_SETTINGS_MODULE": "bench.settings",
                "DATABASE_URL": database_url,
                "CELERY_BROKER_URL": broker_url,
                "PORTAL_VAR_DIR": str(work / "var"),
                "LOG_LEVEL": "WARNING",
            }
            os.environ.update(env)
            started = time.monotonic()
            data = fill(profiles)
            fill_seconds = time.monotonic() - started
            with server(env, work) as url:
                rows = measure(url, data, env, work, seconds, args)
            renders = render_seconds() if "render" in args.only else {}
            print(report(rows, renders, seconds, profiles, fill_seconds))
        if any(row.errors for row in rows):
            problems = [line for line in (work / "server.log").read_text().splitlines() if "Error" in line]
            print("\nThe server's log says:\n" + "\n".join(problems[-20:]), file=sys.stderr)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return 1 if any(row.errors for row in rows) else 0


# ---------------------------------------------------------------------------- the database


@contextmanager
def database(sqlite: bool, work: Path):
    """The URL of a new, empty database, dropped afterwards."""
    if sqlite:
        yield f"sqlite:///{work / 'bench.sqlite3'}"
        return
    import psycopg

    admin_url = os.environ.get("TEST_POSTGRES_URL", "postgres://postgres@127.0.0.1:5432/postgres")
    name = f"portal_bench_{uuid.uuid4().hex[:8]}"
    try:
        with psycopg.connect(admin_url, autocommit=True, connect_timeout=5) as conn:
            conn.execute(f'CREATE DATABASE "{name}"')
    except psycopg.OperationalError as exc:
        sys.exit(f"web_bench: no PostgreSQL at {admin_url} ({exc}); set TEST_POSTGRES_URL or use --sqlite")
    try:
        yield admin_url.rsplit("/", 1)[0] + "/" + name
    finally:
        from django.db import connections

        connections.close_all()
        with psycopg.connect(admin_url, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE "{name}" WITH (FORCE)')


@contextmanager
def redis_url():
    """The broker's Redis (CELERY_BROKER_URL or the default); a private one when none answers."""
    url = os.environ.get("CELERY_BROKER_URL", "redis://127.0.0.1:6379/0")
    import redis

    try:
        redis.Redis.from_url(url, socket_connect_timeout=2).ping()
        yield url
        return
    except redis.RedisError:
        if not url.startswith("redis://") or not shutil.which("redis-server"):
            sys.exit(f"web_bench: no Redis answers at {url}: start one (apt-get install redis-server)")
    port = free_port()
    process = subprocess.Popen(["redis-server", "--port", str(port), "--bind", "127.0.0.1", "--save", ""],
                               stdout=subprocess.DEVNULL)  # fmt: skip
    try:
        own = f"redis://127.0.0.1:{port}/0"
        if not within(10, lambda: _answers(own)):
            sys.exit("web_bench: the bench's Redis did not start")
        yield own
    finally:
        process.terminate()
        process.wait(timeout=10)


def _answers(url: str) -> bool:
    import redis

    try:
        return bool(redis.Redis.from_url(url, socket_connect_timeout=1).ping())
    except redis.RedisError:
        return False


def fill(profile_count: int) -> Data:
    """Migrate, then the cluster, its instances' tokens, the marketplace and a logged-in session."""
    import django

    django.setup()
    from django.conf import settings
    from django.contrib.auth.hashers import make_password
    from django.contrib.auth.models import User
    from django.core.management import call_command
    from django.db import connection, transaction
    from django.db.models import OuterRef, Subquery
    from django.test import Client

    from clusters.instance_auth import new_instance_token
    from clusters.models import Cloud, Cluster, ClusterEvent, ClusterState, Instance, InstanceState
    from contexts.models import Profile, ProfileRevision, Star, Tag, Visibility
    from contexts.profiles import create_profile

    call_command("migrate", verbosity=0, interactive=False)
    rng = random.Random(11)
    unusable = make_password(None)
    with transaction.atomic():
        owner = User.objects.create(username="bench-owner", password=unusable)
        authors = User.objects.bulk_create(
            [User(username=f"author-{n}", password=unusable) for n in range(200)]
        )
        cloud = Cloud(owner=owner, name="bench cloud", driver="ec2", host="127.0.0.1", port=1, secure=False)
        cloud.set_credentials({"key": "bench", "secret": "bench"})
        cloud.save()
        document = {"schema": 1, "hostname": "{{ cluster.name }}-{{ role.name }}-{{ instance.index }}"}
        revision = create_profile(owner, "bench worker", document).latest
        role = {"min": 0, "max": None, "depends_on": [], "cloud": cloud.pk, "revision": revision.pk,
                "offering": "small", "size_id": "t2.micro", "image": "cernvm", "image_id": "ami-bench",
                "format": "cloud-init"}  # fmt: skip
        roles = [{**role, "name": "master", "count": 1},
                 {**role, "name": "worker", "count": INSTANCES - 1, "depends_on": ["master"]}]  # fmt: skip
        cluster = Cluster.objects.create(owner=owner, name="bench", snapshot={"definition": "bench", "roles": roles},
                                         secret="not-used", state=ClusterState.DEGRADED)  # noqa: S106  # fmt: skip
        tokens, instances = [], []
        for number in range(INSTANCES):
            token, token_hash = new_instance_token()
            tokens.append(token)
            role_name, index = ("master", 0) if number == 0 else ("worker", number - 1)
            state = (InstanceState.FAILED if number % 100 == 7 else
                     InstanceState.READY if number % 3 else InstanceState.RUNNING)  # fmt: skip
            instances.append(Instance(
                cluster=cluster, role=role_name, index=index, cloud=cloud, revision=revision,
                name=f"bench-{role_name}-{index}", state=state, node_id=f"i-{number:017x}",
                private_ips=[f"10.0.{number // 250}.{number % 250 + 1}"], public_ips=[],
                checkin_token_hash=token_hash, checkin_status="ready" if state == InstanceState.READY else "",
                last_error="the node stopped answering" if state == InstanceState.FAILED else "",
            ))  # fmt: skip
        Instance.objects.bulk_create(instances)
        ClusterEvent.objects.bulk_create(
            [ClusterEvent(cluster=cluster, message=f"bench-worker-{n} is ready") for n in range(200)]
        )

        tags = Tag.objects.bulk_create([Tag(name=name) for name in TAGS])
        profiles = []
        for number in range(profile_count):
            topic, kind = TOPICS[number % len(TOPICS)], KINDS[(number // len(TOPICS)) % len(KINDS)]
            name = f"{topic} {kind} {number}"
            profiles.append(Profile(
                owner=authors[number % len(authors)], name=name, slug=name.replace(" ", "-"),
                visibility=Visibility.PUBLIC,
                description=f"A {kind} for the {topic.upper()} pool: CernVM-FS, HTCondor and the usual tools.",
            ))  # fmt: skip
        profiles = Profile.objects.bulk_create(profiles, batch_size=2000)
        revisions = ProfileRevision.objects.bulk_create(
            [ProfileRevision(profile=p, number=1, document=document, author_id=p.owner_id, message="Created")
             for p in profiles], batch_size=2000,
        )  # fmt: skip
        Profile.objects.update(
            latest=Subquery(ProfileRevision.objects.filter(profile=OuterRef("pk")).values("pk")[:1])
        )
        Profile.tags.through.objects.bulk_create(
            [Profile.tags.through(profile_id=p.pk, tag_id=tag.pk)
             for p in profiles for tag in rng.sample(tags, 3)], batch_size=5000,
        )  # fmt: skip
        # Stars fall mostly on a few profiles, as they do; every author stars 50.
        weights = [1 / (rank + 1) for rank in range(len(profiles))]
        stars = {(a.pk, p.pk) for a in authors for p in rng.choices(profiles, weights, k=50)}
        Star.objects.bulk_create([Star(user_id=u, profile_id=p) for u, p in stars], batch_size=5000)
        Profile.objects.bulk_create(
            [Profile(owner=owner, name=f"fork {n}", slug=f"fork-{n}", forked_from=source)
             for n, source in enumerate(rng.sample(revisions, min(500, len(revisions))))]
        )  # fmt: skip
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")  # statistics for the planner, as a database in use has them
    client = Client()
    client.force_login(owner)
    cookie = client.cookies[settings.SESSION_COOKIE_NAME].value
    return Data(tokens, cluster.pk, owner.pk, cookie, profile_count)


# ---------------------------------------------------------------------------- the server


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def within(seconds: float, check) -> bool:
    """Whether `check()` comes true within `seconds`."""
    deadline = time.monotonic() + seconds
    while not check():
        if time.monotonic() > deadline:
            return False
        time.sleep(0.2)
    return True


def status_of(url: str, **headers) -> int:
    try:
        request = urllib.request.Request(url, headers=headers)  # noqa: S310 - our own http:// server
        with urllib.request.urlopen(request, timeout=5) as answer:  # noqa: S310
            return answer.status
    except urllib.error.HTTPError as error:
        return error.code
    except OSError:
        return 0


@contextmanager
def server(env: dict, work: Path):
    """The portal's server as `make run` starts it (scripts/run.sh), on a free port; its URL."""
    port = free_port()
    log_path = work / "server.log"
    command = [sys.executable, "-m", "gunicorn", "--config", "portal/gunicorn.conf.py",
               "--bind", f"127.0.0.1:{port}"]  # fmt: skip
    with open(log_path, "wb") as log:
        process = subprocess.Popen(command, cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    try:
        answered = within(60, lambda: process.poll() is not None or status_of(url + "/") == 200)
        if process.poll() is not None or not answered:
            sys.exit(f"web_bench: the server did not start:\n{log_path.read_text()[-3000:]}")
        yield url
    finally:
        process.terminate()
        try:
            process.wait(timeout=40)
        except subprocess.TimeoutExpired:
            process.kill()


# ---------------------------------------------------------------------------- measuring


def wrk(url: str, clients: int, seconds: float, script: str, work: Path, env: dict, headers=()) -> dict:
    """One wrk run (one thread: wrk shares the server's two cores); its summary."""
    path = work / f"wrk-{uuid.uuid4().hex[:6]}.lua"
    path.write_text(script)
    command = ["wrk", "-t1", f"-c{clients}", f"-d{max(1, round(seconds))}s", "--timeout", "10s",
               "-s", str(path)]  # fmt: skip
    for header in headers:
        command += ["-H", header]
    result = subprocess.run([*command, url], env=env, capture_output=True, text=True, timeout=seconds + 60)
    line = next((x for x in result.stdout.splitlines() if x.startswith("WRKJSON ")), None)
    if line is None:
        raise RuntimeError(f"wrk gave no summary:\n{result.stdout}\n{result.stderr}")
    return json.loads(line.removeprefix("WRKJSON "))


def load(name, url, clients, seconds, script, work, env, headers=()) -> Row:
    wrk(url, clients, min(2.0, seconds), script, work, env, headers)  # a warm-up: connections, caches
    summary = wrk(url, clients, seconds, script, work, env, headers)
    return Row(
        name=name,
        clients=clients,
        rps=summary["requests"] / (summary["duration_us"] / 1e6),
        p50=summary["p50_us"] / 1000,
        p95=summary["p95_us"] / 1000,
        p99=summary["p99_us"] / 1000,
        errors=sum(summary["errors"].values()),
    )


def queries(path: str, *, method="get", user_id=None, **request) -> int:
    """The number of SQL queries one request to `path` makes (in this process, through Django)."""
    from django.contrib.auth.models import User
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    client = Client()
    if user_id:
        client.force_login(User.objects.get(pk=user_id))
    getattr(client, method)(path, **request)  # the first one fills per-process caches
    with CaptureQueriesContext(connection) as captured:
        response = getattr(client, method)(path, **request)
    if response.status_code != 200:
        raise RuntimeError(f"{method.upper()} {path} answered {response.status_code}")
    return len(captured)


def measure(url: str, data: Data, env: dict, work: Path, seconds: float, args) -> list[Row]:
    tokens_path = work / "tokens.txt"
    tokens_path.write_text("\n".join(data.tokens) + "\n")
    env = {**env, "BENCH_TOKENS": str(tokens_path)}
    checkin = {"method": "post", "data": "status=booted", "content_type": "application/x-www-form-urlencoded",
               "HTTP_AUTHORIZATION": f"Instance {data.tokens[1]}"}  # fmt: skip
    posts = {
        "checkin": ("check-in: POST /api/v1/instance/checkin, 1,000 tokens", "/api/v1/instance/checkin"),
        "ceiling": ("ceiling: the same POST to a no-database view", "/bench/ceiling"),
    }
    pages = {
        "search": (f"marketplace search “{SEARCH_WORD}”, {data.profiles:,} public profiles",
                   f"/marketplace/?q={SEARCH_WORD}", None),
        "tag": (f"marketplace tag filter “{TAG}”", f"/marketplace/?tag={TAG}", None),
        "cluster": ("cluster page, 1,000 instances (logged in)", f"/clusters/{data.cluster_id}/", data.owner_id),
        "live": ("its live partial (every 2 s while open)", f"/clusters/{data.cluster_id}/live/", data.owner_id),
    }  # fmt: skip
    rows = []
    for key, (name, path) in posts.items():
        if key not in args.only:
            continue
        row = load(name, url + path, args.clients, seconds, WRK_CHECKIN, work, env)
        row.queries = queries(path, **checkin)
        if key == "checkin":
            row.target = f"≥ {CHECKIN_TARGET_RPS} req/s, p99 ≤ {CHECKIN_TARGET_P99_MS} ms"
            row.met = row.rps >= CHECKIN_TARGET_RPS and row.p99 <= CHECKIN_TARGET_P99_MS
        rows.append(row)
    cookie = f"Cookie: sessionid={data.session_cookie}"
    for key, (name, path, user_id) in pages.items():
        if key not in args.only:
            continue
        headers = (cookie,) if user_id else ()
        if status_of(url + path, **dict(h.split(": ", 1) for h in headers)) != 200:
            raise RuntimeError(f"GET {path} does not answer 200")
        row = load(name, url + path, args.page_clients, seconds, WRK_REPORT, work, env, headers)
        row.queries = queries(path, user_id=user_id)
        row.target = f"p95 ≤ {PAGE_TARGET_P95_MS} ms"
        row.met = row.p95 <= PAGE_TARGET_P95_MS
        rows.append(row)
    return rows


def render_seconds() -> dict[str, float]:
    """bench/render_bench.py's measurement: seconds to render 1,000 instances' user-data, per format."""
    result = subprocess.run([sys.executable, str(ROOT / "bench" / "render_bench.py"), "--instances", "1000"],
                            cwd=ROOT, capture_output=True, text=True, timeout=300)  # fmt: skip
    seconds = {line.split()[0]: float(line.split()[2]) for line in result.stdout.splitlines()[1:]}
    if not seconds:
        raise RuntimeError(f"render_bench.py printed nothing:\n{result.stderr[-2000:]}")
    return seconds


# ---------------------------------------------------------------------------- the report


def facts(seconds: float, profiles: int, fill_seconds: float) -> list[str]:
    import django
    from django.conf import settings
    from django.db import connection

    cpu = next((line.split(":", 1)[1].strip() for line in Path("/proc/cpuinfo").read_text().splitlines()
                if line.startswith("model name")), platform.processor())  # fmt: skip
    memory_kib = int(re.search(r"MemTotal:\s+(\d+)", Path("/proc/meminfo").read_text()).group(1))
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("SHOW server_version")
            database = f"PostgreSQL {cursor.fetchone()[0].split()[0]}"
        else:
            cursor.execute("SELECT sqlite_version()")
            database = f"SQLite {cursor.fetchone()[0]}"
    options = settings.DATABASES["default"].get("OPTIONS", {})
    pooled = (
        "pooled connections"
        if options.get("pool")
        else f"CONN_MAX_AGE={settings.DATABASES['default'].get('CONN_MAX_AGE')}"
    )
    wrk_version = subprocess.run(["wrk", "--version"], capture_output=True, text=True).stdout.split()[1]
    commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True,
                            text=True).stdout.strip()  # fmt: skip
    changed = subprocess.run(
        ["git", "status", "--porcelain"], cwd=ROOT, capture_output=True, text=True
    ).stdout
    workers = os.environ.get("WEB_CONCURRENCY", "2")
    return [
        f"Command: `{' '.join(['.venv/bin/python bench/web_bench.py', *sys.argv[1:]])}`, "
        f"{time.strftime('%Y-%m-%d %H:%M %Z')}, commit {commit}{' with local changes' if changed else ''}",
        f"Machine: {os.cpu_count()} cores ({cpu}), {memory_kib / 2**20:.0f} GiB, {platform.system()} "
        f"{platform.release()}, Python {platform.python_version()}, Django {django.get_version()}; "
        f"load average {LOAD_AT_START} at the start (anything else running on the cores shows here)",
        f"Server: gunicorn --config portal/gunicorn.conf.py, {workers} workers; {database} ({pooled}); "
        f"load: wrk {wrk_version}, 1 thread, on the same cores; {seconds:g} s per measurement after a warm-up",
        f"Data: {profiles:,} public profiles (30 tags, 3 each; 200 authors' stars), a cluster of "
        f"{INSTANCES:,} instances; filled in {fill_seconds:.0f} s",
    ]


def report(rows: list[Row], renders: dict, seconds: float, profiles: int, fill_seconds: float) -> str:
    lines = ["## Web benchmark", "", *(f"- {fact}" for fact in facts(seconds, profiles, fill_seconds)), ""]
    lines += ["| what | clients | req/s | p50 ms | p95 ms | p99 ms | errors | queries | target | met |",
              "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | --- | --- |"]  # fmt: skip
    for row in rows:
        met = "" if row.met is None else ("yes" if row.met else "**no**")
        cells = [row.name, str(row.clients), f"{row.rps:,.0f}", f"{row.p50:.1f}", f"{row.p95:.1f}",
                 f"{row.p99:.1f}", str(row.errors), str(row.queries), row.target, met]  # fmt: skip
        lines.append("| " + " | ".join(cells) + " |")
    if not renders:
        return "\n".join(lines)
    lines += ["", "| render 1,000 instances' user-data (bench/render_bench.py) | seconds | target | met |",
              "| --- | ---: | --- | --- |"]  # fmt: skip
    for fmt, total in renders.items():
        lines.append(f"| {fmt} | {total:.2f} | ≤ 1 s | {'yes' if total <= 1.0 else '**no**'} |")
    return "\n".join(lines)


if __name__ == "__main__":
    sys.exit(main())
