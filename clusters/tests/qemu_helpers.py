"""What the desktop cloud's boot tests share: the base image (built once, then reused), a qemu
cloud in a folder of the test's own whose VMs are all killed when the test ends, pass or fail, and
commands run in a guest over SSH through the port QEMU forwards."""

from __future__ import annotations

import os
import subprocess
from contextlib import contextmanager
from pathlib import Path

from clusters.models import ClusterDefinition, Image, Role, ServiceOffering, SizeMapping
from clusters.providers import CloudConfig, get_provider
from clusters.providers.qemu import default_image_dir
from clusters.tests.cloud_helpers import cloud_from_config

ROOT = Path(__file__).resolve().parents[2]
IMAGE = "debian-12-context"
SIZE = "q1.small"
BUILD_SECONDS = 1500


def base_image_dir() -> Path:
    """The image folder, with the image built there by `make image` when it is not yet."""
    folder = default_image_dir()
    subprocess.run(
        ["bash", str(ROOT / "scripts" / "build-image.sh")],
        env={**os.environ, "PORTAL_IMAGE_DIR": str(folder)},
        check=True,
        timeout=BUILD_SECONDS,
    )
    return folder


@contextmanager
def qemu_cloud_config(directory: Path, images: Path, portal_url: str):
    """A qemu cloud's config; every VM left in its folder is stopped and removed at the end."""
    config = CloudConfig(
        driver="qemu",
        options={"directory": str(directory), "images": str(images), "portal_url": portal_url},
    )
    try:
        yield config
    finally:
        provider = get_provider(config)
        for node in provider.list_nodes():
            provider.destroy_node(node.id)


def qemu_processes(directory: Path) -> list[str]:
    """The command lines of QEMU processes running a VM of the cloud in `directory`."""
    found = []
    for cmdline in Path("/proc").glob("[0-9]*/cmdline"):
        try:
            text = cmdline.read_bytes().replace(b"\0", b" ").decode(errors="replace")
        except OSError:
            continue
        if text.startswith("qemu-system") and str(directory) in text:
            found.append(text)
    return found


def desktop_cloud(owner, config, *, name="desktop"):
    cloud = cloud_from_config(owner, config, name=name)
    offering, _ = ServiceOffering.objects.get_or_create(
        name="small", defaults={"vcpus": 1, "ram_mb": 1024, "disk_gb": 3}
    )
    SizeMapping.objects.create(offering=offering, cloud=cloud, size_id=SIZE)
    Image.objects.create(cloud=cloud, name="Debian 12", provider_id=IMAGE, format="cloud-init")
    Image.objects.create(cloud=cloud, name="Debian 12 (shell)", provider_id=IMAGE + "+shell", format="shell")
    return cloud


def definition(owner, cloud, name: str, roles: list[tuple], *, image="Debian 12") -> ClusterDefinition:
    """roles: (name, profile, depends_on) in launch order, one instance each."""
    found = ClusterDefinition.objects.create(owner=owner, name=name)
    for position, (role, profile, depends_on) in enumerate(roles):
        Role.objects.create(
            definition=found, name=role, profile=profile, offering=ServiceOffering.objects.get(name="small"),
            image=Image.objects.get(cloud=cloud, name=image), count=1, depends_on=depends_on, position=position,
        )  # fmt: skip
    return found


def ssh(port: int, key: Path, user: str, command: str, timeout: float = 60) -> str:
    """`command` run in the guest as `user`, over the SSH port QEMU forwards on 127.0.0.1."""
    done = subprocess.run(
        ["ssh", "-i", str(key), "-p", str(port), "-o", "BatchMode=yes", "-o", "StrictHostKeyChecking=no",
         "-o", "UserKnownHostsFile=/dev/null", "-o", "LogLevel=ERROR", "-o", "ConnectTimeout=20",
         f"{user}@127.0.0.1", command],
        capture_output=True, text=True, timeout=timeout,
    )  # fmt: skip
    assert done.returncode == 0, f"ssh {user}: {command!r} exited {done.returncode}: {done.stderr.strip()}"
    return done.stdout
