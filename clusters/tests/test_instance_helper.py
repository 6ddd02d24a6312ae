"""The `portal-instance` helper and the shell user-data, run with sh and curl against a live portal:
check-in and rendezvous from the VM's side (docs/launches.md). The user-data runs in a sandbox: its
absolute paths are moved under a temporary directory and `chown` does nothing."""

import base64
import json
import subprocess
import time
from pathlib import Path

import pytest
import yaml

from clusters.models import Instance, InstanceState, RendezvousEntry
from clusters.tests.instance_helpers import make_cluster, make_instance, wait_until_a_waiter_listens
from contexts.render import render
from contexts.render.checkin import HELPER_PATH, TOKEN_PATH, helper_script
from contexts.tests.render_samples import SALT_SEED, VARIABLES
from portal.testing.waits import DEADLINE

pytestmark = pytest.mark.django_db(transaction=True)
SANDBOXED = ("/usr/local/bin/", "/etc/context-portal/", "/var/lib/context-portal/", "/run/context-portal/")


def sandboxed(text: str, root: Path) -> str:
    for prefix in SANDBOXED:
        text = text.replace(prefix, f"{root}{prefix}")
    return text


def sandbox(tmp_path: Path, name: str) -> Path:
    root = tmp_path / name
    fakebin = root / "fakebin"
    fakebin.mkdir(parents=True)
    (fakebin / "chown").write_text("#!/bin/sh\nexit 0\n")
    (fakebin / "chown").chmod(0o755)
    return root


def run(root: Path, *argv: str, **options) -> subprocess.CompletedProcess:
    env = {"PATH": f"{root}/fakebin:/usr/bin:/bin", "TMPDIR": str(root)}
    return subprocess.run(argv, env=env, capture_output=True, text=True, timeout=60, **options)


def install_helper(root: Path, api: str, token: str) -> str:
    """The helper and its token file in the sandbox, as the user-data installs them."""
    helper = root / HELPER_PATH.lstrip("/")
    token_file = root / TOKEN_PATH.lstrip("/")
    for path in (helper, token_file):
        path.parent.mkdir(parents=True, exist_ok=True)
    helper.write_text(sandboxed(helper_script(api), root))
    token_file.write_text(token + "\n")
    return str(helper)


@pytest.fixture
def api(live_server):
    return f"{live_server.url}/api/v1/instance/"


def test_the_helper_checks_in_and_shares_values_between_instances(api, alice, tmp_path):
    master, master_token = make_instance(make_cluster(alice), role="master")
    worker, worker_token = make_instance(master.cluster, role="worker")
    master_root, worker_root = sandbox(tmp_path, "master"), sandbox(tmp_path, "worker")
    master_helper = install_helper(master_root, api, master_token)
    worker_helper = install_helper(worker_root, api, worker_token)

    waiting = subprocess.Popen(
        ["sh", worker_helper, "kv", "get", "master.address", "--wait", "40"],
        env={"PATH": "/usr/bin:/bin", "TMPDIR": str(worker_root)},
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    wait_until_a_waiter_listens()
    published = run(master_root, "sh", master_helper, "kv", "put", "master.address", "10.0.0.5")
    assert published.returncode == 0, published.stderr
    started = time.monotonic()
    out, err = waiting.communicate(timeout=DEADLINE)
    assert waiting.returncode == 0, err
    assert out == "10.0.0.5"
    assert time.monotonic() - started < 5

    multi_line = "line one\n'quoted' \"double\" $HOME `id`\n"
    stored = run(master_root, "sh", master_helper, "kv", "put", "config", input=multi_line)
    assert stored.returncode == 0, stored.stderr
    assert RendezvousEntry.objects.get(key="config").value == multi_line
    read = run(worker_root, "sh", worker_helper, "kv", "get", "config")
    assert read.stdout == multi_line

    ready = run(worker_root, "sh", worker_helper, "checkin", "ready")
    assert ready.returncode == 0, ready.stderr
    worker.refresh_from_db()
    assert worker.state == InstanceState.READY and worker.ready_at


def test_the_helper_reports_a_missing_key_a_bad_token_and_bad_usage(api, alice, tmp_path):
    _instance, token = make_instance(make_cluster(alice))
    root = sandbox(tmp_path, "vm")
    helper = install_helper(root, api, token)

    missing = run(root, "sh", helper, "kv", "get", "nothing", "--wait", "1")
    assert (missing.returncode, missing.stdout) == (1, "")
    assert "no value for nothing" in missing.stderr

    for argv in (
        ["checkin", "done"],
        ["kv", "get"],
        ["kv", "get", "a/b"],
        ["kv", "put", ".."],
        ["kv", "get", "k" * 129],
        ["kv", "get", "k", "--wait", "x"],
    ):
        usage = run(root, "sh", helper, *argv)
        assert usage.returncode == 2 and usage.stderr, argv

    (root / TOKEN_PATH.lstrip("/")).write_text("not-the-token-of-anyone\n")
    refused = run(root, "sh", helper, "checkin", "booted")
    assert refused.returncode == 1
    assert "401" in refused.stderr and "invalid instance token" in refused.stderr


def run_user_data(root: Path, api: str, token: str, document: dict) -> subprocess.CompletedProcess:
    user_data = render(
        document, VARIABLES, "shell", salt_seed=SALT_SEED, checkin={"url": api, "token": token}
    )
    script = root / "user-data.sh"
    script.write_text(sandboxed(user_data.decode(), root))
    return run(root, "sh", str(script))


def test_shell_user_data_checks_in_ready_after_its_scripts(api, alice, tmp_path):
    instance, token = make_instance(make_cluster(alice))
    root = sandbox(tmp_path, "vm")
    # The script calls the helper by its absolute path, which the sandbox moves like the others.
    document = {"schema": 1, "scripts": [{"name": "publish", "body": f"{HELPER_PATH} kv put role worker\n"}]}
    result = run_user_data(root, api, token, document)
    assert result.returncode == 0, result.stderr
    instance.refresh_from_db()
    assert (instance.state, instance.checkin_status) == (InstanceState.READY, "ready")
    assert RendezvousEntry.objects.get(cluster=instance.cluster, key="role").value == "worker"
    assert (root / TOKEN_PATH.lstrip("/")).stat().st_mode & 0o777 == 0o600
    assert (root / HELPER_PATH.lstrip("/")).stat().st_mode & 0o777 == 0o700


def test_shell_user_data_reports_the_scripts_that_failed(api, alice, tmp_path):
    instance, token = make_instance(make_cluster(alice))
    root = sandbox(tmp_path, "vm")
    document = {
        "schema": 1,
        "scripts": [{"name": "fine", "body": "true\n"}, {"name": "broken", "body": "exit 3\n"}],
    }
    result = run_user_data(root, api, token, document)
    assert result.returncode == 0, result.stderr
    instance.refresh_from_db()
    assert instance.state == InstanceState.RUNNING
    assert instance.checkin_status == "failed"
    assert instance.checkin_message == "failed: script 02-broken (exit 3)"
    assert Instance.objects.get(pk=instance.pk).cluster.events.filter(level="error").count() == 1


def test_shell_user_data_that_stops_reports_the_section(api, alice, tmp_path):
    instance, token = make_instance(make_cluster(alice))
    root = sandbox(tmp_path, "vm")
    (root / "var/lib/context-portal").mkdir(parents=True)
    (root / "var/lib/context-portal/scripts").write_text("a file where the scripts directory should be")
    result = run_user_data(root, api, token, {"schema": 1, "scripts": [{"name": "setup", "body": "true\n"}]})
    assert result.returncode != 0
    instance.refresh_from_db()
    assert instance.checkin_status == "failed"
    assert instance.checkin_message.startswith("stopped with status ")
    assert instance.checkin_message.endswith("in: Scripts, in the profile's order")


def run_cloud_init_user_data(root: Path, api: str, token: str, document: dict) -> subprocess.CompletedProcess:
    """What cloud-init does with the cloud-config's files and commands, with cloud-init's own code
    (Debian's package) making the runcmd script: the files written, then that script run by sh."""
    user_data = render(
        document, VARIABLES, "cloud-init", salt_seed=SALT_SEED, checkin={"url": api, "token": token}
    )
    config = yaml.safe_load(sandboxed(user_data.decode(), root))
    for entry in config["write_files"]:
        path = Path(entry["path"])
        path.parent.mkdir(parents=True, exist_ok=True)
        content = entry["content"]
        path.write_bytes(base64.b64decode(content) if entry.get("encoding") == "b64" else content.encode())
        path.chmod(int(entry["permissions"], 8))
    shellify = "import json, sys; from cloudinit import util; print(util.shellify(json.load(sys.stdin)))"
    made = subprocess.run(["/usr/bin/python3", "-c", shellify], input=json.dumps(config["runcmd"]),
                          capture_output=True, text=True, check=True)  # fmt: skip
    runcmd = root / "runcmd"
    runcmd.write_text(made.stdout)
    return run(root, "sh", str(runcmd))


def test_cloud_init_user_data_reports_the_scripts_that_failed_with_their_exit_codes(api, alice, tmp_path):
    instance, token = make_instance(make_cluster(alice))
    root = sandbox(tmp_path, "vm")
    document = {
        "schema": 1,
        "scripts": [
            {"name": "fine", "body": "true\n"},
            {"name": "broken", "body": "exit 3\n"},
            {"name": "checks", "language": "python", "body": "import sys\nsys.exit(4)\n"},
            {"name": "last", "language": "bash", "body": f"touch {root}/last-ran\n"},
        ],
    }
    result = run_cloud_init_user_data(root, api, token, document)
    assert result.returncode == 0, result.stderr
    assert (root / "last-ran").exists(), "a failed script does not stop the ones after it"
    instance.refresh_from_db()
    assert (instance.state, instance.checkin_status) == (InstanceState.RUNNING, "failed")
    assert instance.checkin_message == "failed: script 02-broken (exit 3), script 03-checks (exit 4)"


def test_cloud_init_user_data_checks_in_ready_when_every_script_ran(api, alice, tmp_path):
    instance, token = make_instance(make_cluster(alice))
    root = sandbox(tmp_path, "vm")
    document = {"schema": 1, "scripts": [{"name": "publish", "body": f"{HELPER_PATH} kv put role worker\n"}]}
    result = run_cloud_init_user_data(root, api, token, document)
    assert result.returncode == 0, result.stderr
    instance.refresh_from_db()
    assert (instance.state, instance.checkin_status) == (InstanceState.READY, "ready")
    assert RendezvousEntry.objects.get(cluster=instance.cluster, key="role").value == "worker"
