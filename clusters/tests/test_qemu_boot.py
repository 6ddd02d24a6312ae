"""The desktop cloud for real (docs/desktop-cloud.md): clusters launched through the portal boot
real VMs under QEMU, run their user-data, check in, and are terminated without a trace.

The portal's server (gunicorn, as `make run` starts it) listens on 127.0.0.1; guests reach it as
10.0.2.2, the host seen through QEMU's user-mode network, given as the cloud's portal URL. A
real Celery worker process creates the VMs. At most two VMs boot at once (2 cores, TCG)."""

import subprocess
import time
from pathlib import Path

import pytest

from clusters import launcher
from clusters.models import Cluster, ClusterState, Instance
from clusters.providers import get_provider
from clusters.tasks import monitor_clouds
from clusters.tests.process_helpers import web_server
from clusters.tests.qemu_helpers import (
    base_image_dir,
    definition,
    desktop_cloud,
    qemu_cloud_config,
    qemu_processes,
    ssh,
)
from contexts.profiles import create_profile
from portal.testing.waits import wait_for

pytestmark = [pytest.mark.slow, pytest.mark.database_agnostic, pytest.mark.django_db(transaction=True)]
BOOT_SECONDS = 1200  # two VMs under TCG on two busy cores: ~4 minutes each, with room to spare


def common(public_key: str, script: str) -> dict:
    return {
        "schema": 1,
        "hostname": "{{ cluster.name }}-{{ role.name }}-{{ instance.index }}",
        "users": [
            {"name": "scientist", "shell": "/bin/bash", "sudo": True, "ssh_authorized_keys": [public_key]}
        ],
        "env": {"DESKTOP_CLOUD_ROLE": "{{ role.name }}"},
        "files": [{"path": "/etc/desktop-cloud/role", "content": "this is the {{ role.name }}\n"}],
        "scripts": [{"name": "hello", "language": "sh", "run": "once", "body": script}],
    }


HELLO = "echo hello from {{ instance.name }} > /var/tmp/hello.out\n"


@pytest.fixture
def ssh_key(tmp_path) -> tuple[Path, str]:
    key = tmp_path / "id_ed25519"
    subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", str(key)], check=True)
    return key, key.with_suffix(".pub").read_text().strip()


@pytest.fixture
def desktop(tmp_path):
    """(the qemu cloud's config, its folder), with the portal served where guests reach it."""
    images = base_image_dir()
    with web_server(tmp_path) as url:
        port = url.rsplit(":", 1)[1]
        with qemu_cloud_config(tmp_path / "cloud", images, f"http://10.0.2.2:{port}") as config:
            yield config, tmp_path / "cloud"


def _monitor():
    monitor_clouds.delay()


def _all_checked_in(cluster, count):
    def done():
        found = list(Instance.objects.filter(cluster=cluster).values_list("checkin_status", flat=True))
        return len(found) == count and all(status in ("ready", "failed") for status in found)

    return done


def _terminate(cluster, directory: Path):
    launcher.terminate(Cluster.objects.get(pk=cluster.pk))
    wait_for(lambda: Cluster.objects.get(pk=cluster.pk).state == ClusterState.TERMINATED, tick=_monitor,
             timeout=300, every=2, message="the cluster terminated")  # fmt: skip


def test_a_master_and_a_worker_boot_run_their_profiles_and_reach_each_other(
    alice, desktop, ssh_key, celery_worker_process
):
    config, directory = desktop
    key, public_key = ssh_key
    cloud = desktop_cloud(alice, config)
    master = create_profile(alice, "master", common(public_key, HELLO))
    worker_document = common(public_key, HELLO)
    # HTCondor's way of naming the central manager, as the condor service writes it.
    worker_document["files"].append(
        {
            "path": "/etc/condor/config.d/50-master.conf",
            "content": "CONDOR_HOST = {{ roles.master.address }}\n",
        }
    )
    worker = create_profile(alice, "worker", worker_document)
    found = definition(alice, cloud, "desk", [("master", master, []), ("worker", worker, ["master"])])

    started = time.monotonic()
    cluster = launcher.launch(found, alice, "desk", {"master": cloud, "worker": cloud})
    wait_for(_all_checked_in(cluster, 2), tick=_monitor, timeout=BOOT_SECONDS, every=5, message="2 check-ins")
    print(f"\nmaster and worker ready {time.monotonic() - started:.0f} s after the launch")
    instances = {i.role: i for i in Instance.objects.filter(cluster=cluster)}
    assert {role: (i.state, i.checkin_status) for role, i in instances.items()} == {
        "master": ("ready", "ready"), "worker": ("ready", "ready"),
    }, {role: i.checkin_message for role, i in instances.items()}  # fmt: skip

    provider = get_provider(config)
    master_address = instances["master"].private_ips[0]
    assert master_address.startswith("10.77.0.")
    for role, instance in instances.items():
        port = provider.ssh_port(instance.node_id)

        def run(command, port=port):
            return ssh(port, key, "scientist", command)

        assert run("id -un; cat ~/.ssh/authorized_keys").split("\n")[:2] == ["scientist", public_key]
        assert run("cat /etc/desktop-cloud/role") == f"this is the {role}\n"
        assert run("bash -lc 'echo $DESKTOP_CLOUD_ROLE'") == f"{role}\n"
        assert run("cat /var/tmp/hello.out") == f"hello from {instance.name}\n"
        assert run("hostname") == f"{instance.name}\n"
        assert instance.name in run("getent hosts $(hostname)")
        assert instance.private_ips[0] in run("ip -4 -o addr show eth1")
    worker_port = provider.ssh_port(instances["worker"].node_id)
    condor = ssh(worker_port, key, "scientist", "cat /etc/condor/config.d/50-master.conf")
    assert condor == f"CONDOR_HOST = {master_address}\n"
    # Over the cluster network: the master's SSH port, as HTCondor's would be reached.
    ssh(worker_port, key, "scientist", f"ping -c 2 -W 5 {master_address} && nc -z -w 5 {master_address} 22")

    _terminate(cluster, directory)
    assert qemu_processes(directory) == []
    assert list((directory / "nodes").iterdir()) == []  # no overlay, no seed left


def test_a_failing_script_is_named_and_the_shell_format_boots_without_cloud_init(
    alice, desktop, ssh_key, celery_worker_process
):
    config, directory = desktop
    key, public_key = ssh_key
    cloud = desktop_cloud(alice, config)
    failing = create_profile(alice, "failing", common(public_key, "echo about to fail\nexit 3\n"))
    shell = create_profile(alice, "shell", common(public_key, HELLO))
    fails = definition(alice, cloud, "fails", [("node", failing, [])])
    plain = definition(alice, cloud, "plain", [("node", shell, [])], image="Debian 12 (shell)")

    started = time.monotonic()
    failed_cluster = launcher.launch(fails, alice, "fails", {"node": cloud})
    shell_cluster = launcher.launch(plain, alice, "plain", {"node": cloud})
    for cluster in (failed_cluster, shell_cluster):
        wait_for(
            _all_checked_in(cluster, 1), tick=_monitor, timeout=BOOT_SECONDS, every=5, message="a check-in"
        )
    print(f"\nboth checked in {time.monotonic() - started:.0f} s after the launches")

    failed = Instance.objects.get(cluster=failed_cluster)
    assert failed.checkin_status == "failed"
    assert "hello" in failed.checkin_message, failed.checkin_message

    plain_node = Instance.objects.get(cluster=shell_cluster)
    assert (plain_node.state, plain_node.checkin_status) == ("ready", "ready"), plain_node.checkin_message
    port = get_provider(config).ssh_port(plain_node.node_id)
    # cloud-init did not run: the image's nocloud-shell ran the portal's shell output.
    assert ssh(port, key, "scientist", "cat /var/tmp/hello.out") == f"hello from {plain_node.name}\n"
    assert ssh(port, key, "scientist", "test ! -e /run/cloud-init/result.json && echo none") == "none\n"

    for cluster in (failed_cluster, shell_cluster):
        _terminate(cluster, directory)
    assert qemu_processes(directory) == []
    assert list((directory / "nodes").iterdir()) == []
