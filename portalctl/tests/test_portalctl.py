"""portalctl against a live portal (pytest-django's live_server): argument parsing, one-line
errors with their exit codes, the profile commands, and a cluster launched and terminated for real
(a Celery worker process, moto's EC2 server)."""

import json
import os
import socket
import subprocess
import sys
import threading
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

import pytest
from rest_framework.authtoken.models import Token

from clusters.demo import register_demo_cloud
from clusters.models import Cluster, ClusterState
from clusters.tasks import monitor_clouds
from clusters.tests.conftest import _moto_server, moto_ec2  # noqa: F401 - fixtures for the end-to-end test
from clusters.tests.cost_helpers import add_known_usage, priced_cluster
from clusters.tests.launch_helpers import condor_definition, moto_nodes, states
from contexts.models import Profile
from contexts.profiles import create_profile
from portalctl.cli import build_parser, main

REPO = Path(__file__).resolve().parents[2]
live = pytest.mark.django_db(transaction=True)


def portalctl(*args, url, token, timeout=120):
    """portalctl as a user runs it: a process of its own, config from the environment."""
    env = {**os.environ, "PORTAL_URL": url, "PORTAL_TOKEN": token}
    return subprocess.run([sys.executable, "-m", "portalctl", *args], capture_output=True, text=True, env=env,
                          cwd=REPO, timeout=timeout)  # fmt: skip


@pytest.fixture
def token(alice):
    return Token.objects.create(user=alice).key


def run(capsys, live_server, token, *args):
    code = main(["--url", live_server.url, "--token", token, *args])
    out, err = capsys.readouterr()
    return code, out, err


# ---------------------------------------------------------------------------- parsing


def test_it_parses_a_launch():
    args = build_parser().parse_args(["clusters", "launch", "7", "--cloud", "3", "--wait", "--timeout", "60"])
    assert (args.definition, args.cloud, args.wait, args.timeout, args.name) == (7, 3, True, 60.0, None)


def test_it_reads_url_and_token_from_the_environment(monkeypatch):
    monkeypatch.setenv("PORTAL_URL", "http://portal.example.org")
    monkeypatch.setenv("PORTAL_TOKEN", "abc")
    args = build_parser().parse_args(["clusters", "show", "1"])
    assert (args.url, args.token) == ("http://portal.example.org", "abc")


@pytest.mark.parametrize(
    "argv",
    [
        [],
        ["clusters"],
        ["clusters", "scale", "1", "worker", "many"],
        ["clusters", "launch", "one", "--cloud", "1"],
        ["profiles", "render"],
        ["nodes", "list"],
    ],
)
def test_usage_errors_exit_2(argv, capsys):
    with pytest.raises(SystemExit) as exit:
        main(["--url", "http://x", "--token", "t", *argv])
    assert exit.value.code == 2
    assert "usage:" in capsys.readouterr().err


def test_it_needs_a_url_and_a_token(monkeypatch, capsys):
    monkeypatch.delenv("PORTAL_URL", raising=False)
    monkeypatch.delenv("PORTAL_TOKEN", raising=False)
    with pytest.raises(SystemExit) as exit:
        main(["clusters", "list"])
    assert exit.value.code == 2
    assert "PORTAL_TOKEN" in capsys.readouterr().err


def test_an_unreachable_portal_is_a_one_line_error(capsys):
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    assert main(["--url", f"http://127.0.0.1:{port}", "--token", "t", "clusters", "list"]) == 1
    err = capsys.readouterr().err
    assert err.startswith("portalctl: error: GET") and "cannot reach the portal" in err
    assert err.count("\n") == 1


# ---------------------------------------------------------------------------- errors from the API


@live
def test_a_wrong_token_exits_1_with_401_and_no_traceback(live_server, alice):
    done = portalctl("clusters", "list", url=live_server.url, token="not-a-token")
    assert done.returncode == 1
    assert "HTTP 401" in done.stderr and "Invalid token" in done.stderr
    assert "Traceback" not in done.stderr and done.stderr.count("\n") == 1


@live
def test_a_strangers_cluster_is_a_404(live_server, capsys, token):
    code, out, err = run(capsys, live_server, token, "clusters", "show", "999")
    assert code == 1 and "HTTP 404" in err and out == ""


@live
def test_a_refused_launch_shows_the_apis_messages(live_server, capsys, token):
    code, _, err = run(capsys, live_server, token, "clusters", "launch", "999", "--cloud", "1", "--name", "x")
    assert code == 1 and "HTTP 404" in err


@live
def test_show_prints_the_clusters_usage_and_budget(live_server, capsys, token, alice):
    cluster = add_known_usage(priced_cluster(alice, budget_per_day=Decimal("24.00")), datetime.now(UTC))
    code, out, err = run(capsys, live_server, token, "clusters", "show", str(cluster.pk))
    assert code == 0, err
    assert out.splitlines()[1] == (
        "usage: 5.0 instance-hours, 16.0 core-hours, cost 4.00 (0.5000 an hour); budget 24.00 a day"
    )


# ---------------------------------------------------------------------------- profiles


@live
def test_it_pushes_a_new_profile_and_a_new_revision(live_server, capsys, token, tmp_path, alice):
    path = tmp_path / "web.yaml"
    path.write_text(json.dumps({"schema": 1, "hostname": "{{ cluster.name }}-web"}))
    code, out, err = run(capsys, live_server, token, "profiles", "push", str(path), "--name", "Web")
    assert code == 0, err
    profile = Profile.objects.get(owner=alice, name="Web")
    assert out.split("\t")[0] == str(profile.pk) and "revision 1" in out

    path.write_text(json.dumps({"schema": 1, "hostname": "{{ cluster.name }}-www"}))
    code, out, err = run(capsys, live_server, token, "profiles", "push", str(path), "--id", str(profile.pk))
    assert code == 0, err
    assert "revision 2" in out
    profile.refresh_from_db()
    assert profile.name == "Web"


@live
def test_it_lists_shows_and_renders_profiles(live_server, capsys, token, alice):
    profile = create_profile(alice, "Web", {"schema": 1, "hostname": "{{ cluster.name }}-web"})
    code, out, _ = run(capsys, live_server, token, "profiles", "list")
    assert code == 0 and out.startswith(f"{profile.pk}\tWeb\t")
    code, out, _ = run(capsys, live_server, token, "profiles", "show", str(profile.pk))
    assert json.loads(out)["document"]["hostname"] == "{{ cluster.name }}-web"
    code, out, err = run(capsys, live_server, token, "profiles", "render", str(profile.pk),
                         "--format", "cloud-init", "--var", "cluster.name=demo")  # fmt: skip
    assert code == 0, err
    assert "demo-web" in out


def test_push_refuses_a_file_that_is_not_a_mapping(capsys, tmp_path):
    path = tmp_path / "list.yaml"
    path.write_text("[1, 2]")
    assert main(["--url", "http://x", "--token", "t", "profiles", "push", str(path)]) == 2
    assert "mapping" in capsys.readouterr().err


# ---------------------------------------------------------------------------- end to end


@pytest.fixture
def monitor_ticks():
    """Monitoring cycles, as beat would send them: the test process cannot run beat, and portalctl
    only reads the API, so a thread queues `monitor_clouds` every second for the worker."""
    stop = threading.Event()

    def tick():
        while not stop.wait(1.0):
            monitor_clouds.delay()

    thread = threading.Thread(target=tick, daemon=True)
    thread.start()
    yield
    stop.set()
    thread.join(timeout=5)


@pytest.mark.slow
@live
def test_portalctl_launches_a_cluster_and_terminates_it(live_server, alice, token, moto_ec2,  # noqa: F811
                                                       celery_worker_process, monitor_ticks):  # fmt: skip
    cloud = register_demo_cloud(moto_ec2.host, moto_ec2.port)  # the demo cloud of `make run`
    definition = condor_definition(alice, cloud, workers=3)

    launch = portalctl("clusters", "launch", str(definition.pk), "--cloud", str(cloud.pk), "--name", "demo",
                       "--wait", "--timeout", "120", url=live_server.url, token=token, timeout=180)  # fmt: skip
    assert launch.returncode == 0, launch.stderr
    cluster = Cluster.objects.get(pk=int(launch.stdout.strip()))
    assert cluster.state == ClusterState.RUNNING
    assert states(cluster) == {"running": 4}
    assert "4/4 running" in launch.stderr  # the progress bar's last line

    shown = portalctl("clusters", "show", str(cluster.pk), url=live_server.url, token=token)
    assert shown.returncode == 0 and "4/4 instances up" in shown.stdout

    ec2 = moto_ec2.boto3_client()
    terminate = portalctl("clusters", "terminate", str(cluster.pk), "--wait", "--timeout", "120",
                          url=live_server.url, token=token, timeout=180)  # fmt: skip
    assert terminate.returncode == 0, terminate.stderr
    assert Cluster.objects.get(pk=cluster.pk).state == ClusterState.TERMINATED
    assert set(moto_nodes(ec2, cluster).values()) == {"terminated"}


def test_the_project_installs_the_portalctl_command():
    import subprocess
    import sys
    from pathlib import Path

    command = Path(sys.executable).parent / "portalctl"
    assert command.exists(), "make run / make test install the project into the venv (pip install -e .)"
    shown = subprocess.run([str(command), "--help"], capture_output=True, text=True, timeout=60)
    assert shown.returncode == 0 and "clusters" in shown.stdout
