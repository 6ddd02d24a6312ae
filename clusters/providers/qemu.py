"""The desktop cloud: real VMs under QEMU on the portal's own machine (docs/desktop-cloud.md).

A node is a folder under the cloud's state directory: vm.json (its name, tags, addresses, MACs,
SSH port), disk.qcow2 (a copy-on-write overlay of a base image), seed.iso (the NoCloud seed),
pid and console.log of its QEMU process. QEMU runs daemonized, so nodes outlive the Celery worker
that made them; listing reads the folders and the live pids, so a restarted worker finds them.

Networks: each VM has a user-mode NIC (NAT to the host: the portal, SSH by a forwarded port on
127.0.0.1) and a NIC on the cloud's private segment (multicast on the loopback interface), with a
static address from the cloud's subnet: its private address, what `roles.<role>.address` gives.
"""

from __future__ import annotations

import fcntl
import ipaddress
import json
import os
import secrets
import shutil
import socket
import time
import zlib
from contextlib import contextmanager
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

from . import qemu_vm
from .base import (
    PENDING,
    RUNNING,
    STOPPED,
    CloudError,
    CloudProvider,
    ImageInfo,
    NodeInfo,
    NodeSpec,
    Param,
    SizeInfo,
)

SIZES = [
    # id, vCPUs, RAM MiB
    ("q1.tiny", 1, 512),
    ("q1.small", 1, 1024),
    ("q1.medium", 2, 2048),
    ("q1.large", 2, 4096),
]
SHELL_SUFFIX = "+shell"  # the same image booted with cloud-init disabled (the shell format)
DEFAULT_SUBNET = "10.77.0.0/24"
FIRST_HOST = 10  # addresses below .10 are left for the user's own use
MULTICAST_GROUP = "230.0.77.1"
# What QEMU's user-mode network calls the host: a guest reaches the host's 127.0.0.1 there.
HOST_SEEN_FROM_GUESTS = "10.0.2.2"
LOOPBACK_NAMES = {"127.0.0.1", "localhost", "::1"}
# A VM whose QEMU is not up yet this long after its create is pending, not stopped.
STARTING_SECONDS = 30


def var_dir() -> Path:
    """The portal's var/ (PORTAL_VAR_DIR, as settings read it): the provider runs without Django."""
    default = Path(__file__).resolve().parents[2] / "var"
    return Path(os.environ.get("PORTAL_VAR_DIR") or default)


def default_image_dir() -> Path:
    return Path(os.environ.get("PORTAL_IMAGE_DIR") or var_dir() / "images")


class QemuProvider(CloudProvider):
    kind = "qemu"
    label = "Desktop cloud (QEMU on this machine)"
    parameters = (
        Param(
            "directory",
            "State directory",
            required=False,
            default="qemu/desktop",
            help="Where this cloud keeps its VMs' disks, seeds and pids; relative to var/. "
            "Each qemu cloud needs its own: its VMs share one network.",
        ),
        Param(
            "subnet",
            "Cluster network",
            required=False,
            default=DEFAULT_SUBNET,
            help="The private subnet the VMs' cluster addresses come from.",
        ),
        Param(
            "images",
            "Image directory",
            required=False,
            help="Where the base images are (name.qcow2 with name.vmlinuz and name.initrd); "
            "empty for var/images (make image builds one there).",
        ),
        Param(
            "portal_url",
            "Portal URL as seen by guests",
            required=False,
            help="Empty: the portal's URL with 127.0.0.1 or localhost replaced by 10.0.2.2, the "
            "host as QEMU's user-mode network shows it to guests.",
        ),
    )
    user_data_limit = None  # a seed volume holds user-data of any size
    endpoint_fields = ()  # no API endpoint: the VMs run on this machine

    # ------------------------------------------------------------------------ configuration

    @property
    def directory(self) -> Path:
        path = Path(self.config.options.get("directory") or "qemu/desktop")
        return path if path.is_absolute() else var_dir() / path

    @property
    def image_dir(self) -> Path:
        path = self.config.options.get("images")
        return Path(path) if path else default_image_dir()

    @property
    def subnet(self) -> ipaddress.IPv4Network:
        text = str(self.config.options.get("subnet") or DEFAULT_SUBNET)
        try:
            subnet = ipaddress.IPv4Network(text, strict=False)
        except ValueError:
            raise CloudError(
                f'the cluster network "{text}" is not an IPv4 subnet like 10.77.0.0/24', permanent=True
            )
        if subnet.num_addresses < 16:
            raise CloudError(f"the cluster network {subnet} is too small (at least a /28)", permanent=True)
        return subnet

    @property
    def segment(self) -> str:
        """This cloud's multicast group:port, derived from its directory: one segment per cloud."""
        port = 20000 + zlib.crc32(str(self.directory.resolve()).encode()) % 20000
        return f"{MULTICAST_GROUP}:{port}"

    @classmethod
    def guest_portal_url(cls, options: dict, portal_url: str) -> str:
        if options.get("portal_url"):
            return str(options["portal_url"])
        parts = urlsplit(portal_url)
        if parts.hostname not in LOOPBACK_NAMES:
            return portal_url  # a real name or address: the guests' NAT reaches it as the host does
        netloc = HOST_SEEN_FROM_GUESTS + (f":{parts.port}" if parts.port else "")
        return urlunsplit(parts._replace(netloc=netloc))

    # ------------------------------------------------------------------------ sizes and images

    def list_sizes(self) -> list[SizeInfo]:
        return [SizeInfo(id=i, name=i, vcpus=c, ram_mb=m) for i, c, m in SIZES]

    def base_images(self) -> dict[str, dict]:
        """name -> {qcow2, kernel, initrd}: the images with a kernel and an initrd beside them."""
        found = {}
        for disk in sorted(self.image_dir.glob("*.qcow2")) if self.image_dir.is_dir() else []:
            kernel, initrd = disk.with_suffix(".vmlinuz"), disk.with_suffix(".initrd")
            if kernel.is_file() and initrd.is_file():
                found[disk.stem] = {"qcow2": str(disk), "kernel": str(kernel), "initrd": str(initrd)}
        return found

    def list_images(self) -> list[ImageInfo]:
        images = []
        for name in self.base_images():
            images.append(ImageInfo(id=name, name=f"{name} (cloud-init)"))
            images.append(ImageInfo(id=name + SHELL_SUFFIX, name=f"{name} (no cloud-init: a shell script)"))
        return images

    def image(self, image_id: str) -> dict:
        name, shell = image_id, False
        if image_id.endswith(SHELL_SUFFIX):
            name, shell = image_id[: -len(SHELL_SUFFIX)], True
        found = self.base_images().get(name)
        if found is None:
            raise CloudError(
                f'no image "{name}" in {self.image_dir} (make image builds debian-12-context)', permanent=True
            )
        return {**found, "shell": shell}

    def check(self) -> str:
        if shutil.which(qemu_vm.QEMU) is None:
            raise CloudError(
                f"{qemu_vm.QEMU} is not installed (apt-get install qemu-system-x86)", permanent=True
            )
        images = self.list_images()
        if not images:
            raise CloudError(f"no image in {self.image_dir}: run make image", permanent=True)
        return f"QEMU ready: {len(SIZES)} sizes, {len(images)} images, network {self.subnet}"

    # ------------------------------------------------------------------------ nodes

    def nodes_dir(self) -> Path:
        return self.directory / "nodes"

    @contextmanager
    def locked(self):
        """One create at a time per cloud (worker processes included): addresses and ports are
        chosen by looking at the VMs already there."""
        self.directory.mkdir(parents=True, exist_ok=True)
        with open(self.directory / "lock", "w") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(lock, fcntl.LOCK_UN)

    def vms(self) -> list[dict]:
        found = []
        for state in sorted(self.nodes_dir().glob("*/vm.json")) if self.nodes_dir().is_dir() else []:
            try:
                found.append(json.loads(state.read_text()))
            except (OSError, ValueError):
                continue  # a folder half made or half removed
        return found

    def node_info(self, vm: dict) -> NodeInfo:
        folder = Path(vm["folder"])
        if qemu_vm.pid_of(folder) is not None:
            state = RUNNING
        else:
            state = PENDING if time.time() - vm.get("created", 0) < STARTING_SECONDS else STOPPED
        return NodeInfo(
            id=vm["id"], name=vm["name"], state=state, private_ips=[vm["address"]], tags=dict(vm["tags"])
        )

    def list_nodes(self) -> list[NodeInfo]:
        return [self.node_info(vm) for vm in self.vms()]

    def vm(self, node_id: str) -> dict | None:
        return next((vm for vm in self.vms() if vm["id"] == node_id), None)

    def create_node(self, spec: NodeSpec) -> NodeInfo:
        size = next((s for s in SIZES if s[0] == spec.size_id), None)
        if size is None:
            raise CloudError(
                f'no size "{spec.size_id}" (sizes: {", ".join(s[0] for s in SIZES)})', permanent=True
            )
        image = self.image(spec.image_id)
        with self.locked():
            # Beside the kernel: one probe per machine and kernel, whichever cloud asks first.
            accel = qemu_vm.choose_accel(
                Path(image["kernel"]).parent / "accel.json", image["kernel"], image["initrd"]
            )
            vm = self.reserve(spec, size)
            folder = Path(vm["folder"])
            try:
                self.start(vm, image, accel, spec.user_data)
            except BaseException:
                qemu_vm.stop(folder)
                shutil.rmtree(folder, ignore_errors=True)
                raise
        return self.node_info(vm)

    def reserve(self, spec: NodeSpec, size: tuple) -> dict:
        """A folder and vm.json for a new VM, with an address, MACs and an SSH port nobody uses."""
        vms = self.vms()
        subnet = self.subnet
        taken = {vm["address"] for vm in vms}
        address = next((str(a) for a in list(subnet.hosts())[FIRST_HOST - 1 :] if str(a) not in taken), None)
        if address is None:
            raise CloudError(f"no address left in the cluster network {subnet}", permanent=False)
        node_id = "vm-" + secrets.token_hex(4)
        folder = self.nodes_dir() / node_id
        folder.mkdir(parents=True)
        low = address.split(".")
        vm = {
            "id": node_id,
            "name": spec.name,
            "tags": {str(k): str(v) for k, v in spec.tags.items()},
            "folder": str(folder),
            "image": spec.image_id,
            "size": size[0],
            "vcpus": size[1],
            "ram_mb": size[2],
            "address": address,
            "prefix": subnet.prefixlen,
            # Locally administered MACs: the cluster one spells the address, the other is random.
            "cluster_mac": "52:54:" + ":".join(f"{int(x):02x}" for x in low),
            "user_mac": "52:55:" + ":".join(f"{b:02x}" for b in secrets.token_bytes(4)),
            "ssh_port": free_port({vm.get("ssh_port") for vm in vms}),
            "created": time.time(),
        }
        (folder / "vm.json").write_text(json.dumps(vm, indent=1))
        return vm

    def start(self, vm: dict, image: dict, accel: str, user_data) -> None:
        folder = Path(vm["folder"])
        qemu_vm.run(
            [
                "qemu-img",
                "create",
                "-q",
                "-f",
                "qcow2",
                "-F",
                "qcow2",
                "-b",
                image["qcow2"],
                str(folder / "disk.qcow2"),
            ],
            "making the disk",
        )
        data = user_data if isinstance(user_data, bytes) else str(user_data).encode()
        qemu_vm.write_seed(
            folder / "seed.iso",
            user_data=data,
            hostname=vm["name"],
            instance_id=vm["id"],
            files={
                "network-config": qemu_vm.network_config(
                    vm["user_mac"], vm["cluster_mac"], vm["address"], vm["prefix"]
                ),
                "network-interfaces": qemu_vm.network_interfaces(vm["address"], vm["prefix"]),
            },
        )
        vm["accel"] = accel
        (folder / "vm.json").write_text(json.dumps(vm, indent=1))
        qemu_vm.run(qemu_vm.command_line(vm, image, accel, self.segment), "starting QEMU", timeout=60)

    def destroy_node(self, node_id: str) -> None:
        folder = self.nodes_dir() / node_id
        if not folder.is_dir() or "/" in node_id or node_id in ("", ".", ".."):
            return  # already gone
        qemu_vm.stop(folder)
        shutil.rmtree(folder, ignore_errors=True)

    def ssh_port(self, node_id: str) -> int | None:
        """The port on 127.0.0.1 that QEMU forwards to the VM's SSH server."""
        vm = self.vm(node_id)
        return vm["ssh_port"] if vm else None


def free_port(taken: set) -> int:
    """A TCP port on 127.0.0.1 that is free now and not given to another VM of the cloud."""
    while True:
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            port = probe.getsockname()[1]
        if port not in taken:
            return port
