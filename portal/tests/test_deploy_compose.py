"""The deployment of deploy/ comes up and a cluster launches through it (issue 15's first acceptance
item). No container runtime is usable on the test machines, so the portal's services of
deploy/compose.yaml run as processes from the file's own commands (portal/testing/compose.py)
against this machine's PostgreSQL (a database of the test's own) and Redis (a key prefix of its
own), with the production settings compose gives them. The cloud is moto's EC2 server; the
launch goes through the REST API with a token, as `portalctl` does."""

import json
import os
import secrets
import shutil
import subprocess
import sys
import urllib.error
import urllib.request
from pathlib import Path

import psycopg
import pytest
import yaml
from cryptography.fernet import Fernet

from clusters.tests.conftest import free_port
from portal.testing.compose import COMPOSE_FILE, ComposeProcesses, interpolate
from portal.testing.waits import DEADLINE, wait_for

ROOT = Path(__file__).resolve().parents[2]
POSTGRES = os.environ.get("TEST_POSTGRES_URL", "postgres://postgres@127.0.0.1:5432/postgres")


def test_the_compose_file_builds_the_portal_and_names_every_service():
    services = yaml.safe_load(COMPOSE_FILE.read_text())["services"]
    assert set(services) == {"postgres", "redis", "migrate", "web", "worker", "beat"}
    assert services["web"]["command"][:3] == ["gunicorn", "--config", "portal/gunicorn.conf.py"]
    assert all(
        services[name]["environment"]["PORTAL_PRODUCTION"] == "true" for name in ("web", "worker", "beat")
    )
    assert (ROOT / "deploy" / "Dockerfile").read_text().startswith("# The portal's image")


def test_every_variable_of_the_env_example_is_documented():
    documented = (ROOT / "docs" / "deploy.md").read_text()
    example = (ROOT / "deploy" / ".env.example").read_text()
    names = {
        line.lstrip("# ").split("=")[0]
        for line in example.splitlines()
        if "=" in line and "  " not in line[:3]
    }
    names = {name for name in names if name.isupper() and name.replace("_", "").isalnum()}
    assert {"PORTAL_URL", "SECRET_KEY", "PORTAL_ENCRYPTION_KEY", "POSTGRES_PASSWORD"} <= names
    assert [name for name in names if f"`{name}`" not in documented] == []


def test_interpolation_follows_compose():
    variables = {"SET": "x", "EMPTY": ""}
    assert interpolate("${SET}-${EMPTY:-d}-${UNSET:-d}-${EMPTY-d}-$$HOME", variables) == "x-d-d--$HOME"
    with pytest.raises(Exception, match="UNSET: say so"):
        interpolate("${UNSET:?say so}", variables)


def test_docker_compose_validates_the_file(tmp_path):
    """`docker compose config` (or Debian's docker-compose) parses the file without pulling images."""
    commands = [["docker", "compose"], ["docker-compose"]]
    available = [
        c
        for c in commands
        if shutil.which(c[0]) and subprocess.run([*c, "version"], capture_output=True).returncode == 0
    ]
    if not available:
        pytest.skip("neither `docker compose` nor `docker-compose` is installed")
    env_file = tmp_path / ".env"
    env_file.write_text(
        (ROOT / "deploy" / ".env.example").read_text().replace("POSTGRES_PASSWORD=", "POSTGRES_PASSWORD=pw")
    )
    shutil.copy(COMPOSE_FILE, tmp_path / "compose.yaml")
    result = subprocess.run([*available[0], "--project-directory", str(tmp_path), "-f", str(tmp_path / "compose.yaml"), "config", "--quiet"],
                            capture_output=True, text=True, cwd=tmp_path)  # fmt: skip
    assert result.returncode == 0, result.stderr


@pytest.fixture
def database():
    name = f"deploy_test_{os.getpid()}"
    with psycopg.connect(POSTGRES, autocommit=True) as connection:
        connection.execute(f'DROP DATABASE IF EXISTS "{name}"')
        connection.execute(f'CREATE DATABASE "{name}"')
    # The server trusts local connections; the password is there because production settings
    # refuse a DATABASE_URL without one, and the server ignores it.
    user = POSTGRES.split("://", 1)[1].split("@", 1)[0].split(":", 1)[0]
    host = POSTGRES.rsplit("@", 1)[1].rsplit("/", 1)[0]
    yield f"postgres://{user}:not-checked@{host}/{name}"
    with psycopg.connect(POSTGRES, autocommit=True) as connection:
        connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture
def moto():
    from moto.server import ThreadedMotoServer

    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    yield server.get_host_and_port()
    server.stop()


@pytest.fixture
def deployment(tmp_path, database):
    port = free_port()
    env_file = tmp_path / ".env"
    env_file.write_text(
        (ROOT / "deploy" / ".env.example").read_text()
        .replace("PORTAL_URL=https://portal.example.org", f"PORTAL_URL=https://127.0.0.1:{port}")
        .replace("SECRET_KEY=\n", f"SECRET_KEY={secrets.token_urlsafe(50)}\n")
        .replace("PORTAL_ENCRYPTION_KEY=\n", f"PORTAL_ENCRYPTION_KEY={Fernet.generate_key().decode()}\n")
        .replace("POSTGRES_PASSWORD=\n", "POSTGRES_PASSWORD=not-checked\n")
    )  # fmt: skip
    processes = ComposeProcesses(
        env_file=env_file,
        log_dir=tmp_path / "logs",
        overrides={
            "DATABASE_URL": database,
            "CELERY_BROKER_URL": "redis://127.0.0.1:6379/14",
            "REDIS_KEY_PREFIX": f"deploy-test-{os.getpid()}:",
            "PORTAL_VAR_DIR": str(tmp_path / "var"),
            "STATIC_ROOT": str(tmp_path / "static"),
            "PATH": f"{Path(sys.executable).parent}:{os.environ['PATH']}",
            "DJANGO_SETTINGS_MODULE": "portal.settings",
            "PORTAL_TEST_RUN": "",
        },
        variables={"WEB_BIND": f"127.0.0.1:{port}", "BEAT_SCHEDULE": str(tmp_path / "beat-schedule")},
    )
    processes.up()
    processes.url = f"http://127.0.0.1:{port}"
    try:
        wait_for(lambda: _serves(processes.url), timeout=DEADLINE, message="the web server")
        yield processes
    finally:
        processes.down()
        for log in sorted((tmp_path / "logs").glob("*.log")):
            print(f"--- {log.name}\n{log.read_text()[-3000:]}")


def _get(url, *, proxied, token=None):
    return _call("GET", url, None, proxied=proxied, token=token)


def _call(method, url, body, *, proxied=True, token=None):
    """One request as the TLS proxy in front of the portal passes it on (X-Forwarded-Proto)."""
    headers = {"Content-Type": "application/json"}
    if proxied:
        headers["X-Forwarded-Proto"] = "https"
    if token:
        headers["Authorization"] = f"Token {token}"
    data = json.dumps(body).encode() if body is not None else None
    request = urllib.request.Request(url, data=data, method=method, headers=headers)
    opener = urllib.request.build_opener(_NoRedirect)
    try:
        with opener.open(request, timeout=DEADLINE) as answer:
            return answer.status, answer.headers, answer.read()
    except urllib.error.HTTPError as error:
        return error.code, error.headers, error.read()


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None


@pytest.mark.slow
@pytest.mark.database_agnostic
def test_the_deployment_comes_up_and_launches_a_cluster(deployment, moto):
    url = deployment.url
    status, headers, _ = _get(url + "/", proxied=False)
    assert status == 301 and headers["Location"].startswith("https://")  # plain HTTP goes to HTTPS
    status, headers, body = _get(url + "/", proxied=True)
    assert status == 200 and "Content-Security-Policy" in headers and "Strict-Transport-Security" in headers
    status, headers, body = _get(url + "/static/portal.css", proxied=True)
    assert status == 200 and headers["Content-Type"].startswith(
        "text/css"
    )  # whitenoise, collected by migrate
    assert b"worker: ok" in _get(url + "/health/", proxied=True)[2]

    # The site's admin registers the cloud and makes a user's token, as `docker compose run web ...`.
    host, port = moto
    assert (
        deployment.run(
            "web", "python", "manage.py", "setup_demo_cloud", "--host", host, "--port", str(port)
        ).returncode
        == 0
    )
    made = deployment.run("web", "python", "manage.py", "create_api_token", "alice", "--create-user")
    assert made.returncode == 0, made.stderr
    token = made.stdout.strip()

    def api(method, path, body=None):
        status, _, answer = _call(method, url + path, body, token=token)
        assert status < 300, (status, answer[:500])
        return json.loads(answer)

    cloud = next(c for c in api("GET", "/api/v1/clouds/")["results"] if c["name"] == "Local demo cloud")
    image = next(i for i in api("GET", "/api/v1/images/")["results"] if i["name"] == "AlmaLinux 9")
    profile = api(
        "POST", "/api/v1/profiles/", {"name": "Worker", "visibility": "private", "document": {"schema": 1}}
    )
    definition = api("POST", "/api/v1/cluster-definitions/", {"name": "Pool", "visibility": "private", "roles": [
        {"name": "worker", "profile": profile["id"], "offering": "small", "image": image["id"], "count": 3}]})  # fmt: skip
    cluster = api(
        "POST",
        "/api/v1/clusters/",
        {"definition": definition["id"], "name": "deployed", "cloud": cloud["id"]},
    )

    def running():
        shown = api("GET", f"/api/v1/clusters/{cluster['id']}/")
        return shown if shown["state"] == "running" and len(shown["instances"]) == 3 else None

    shown = wait_for(running, timeout=4 * DEADLINE, message="the cluster to run", every=1)
    assert {instance["state"] for instance in shown["instances"]} == {"running"}
    assert len({instance["node_id"] for instance in shown["instances"]}) == 3


def _serves(url) -> bool:
    try:
        return _get(url + "/health/", proxied=True)[0] == 200
    except OSError:
        return False
