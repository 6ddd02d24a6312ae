"""The pieces of a desktop-cloud VM (docs/desktop-cloud.md), apart from the bookkeeping of
`qemu.py`: the NoCloud seed, the QEMU command line, the KVM boot probe and stopping a process.

Plain functions over paths and subprocesses: no Django, like every provider (gateway agents).
"""

from __future__ import annotations

import contextlib
import ipaddress
import json
import os
import signal
import subprocess
import tempfile
import time
from pathlib import Path

from .base import CloudError

QEMU = "qemu-system-x86_64"
# The user-mode NIC and the cluster NIC sit at fixed PCI slots, in that order, and the kernel
# names them the old way (net.ifnames=0): eth0 and eth1, names the shell image's ifupdown stanzas
# can use; cloud-init matches them by MAC anyway.
USER_NIC, CLUSTER_NIC = "eth0", "eth1"
USER_SLOT, CLUSTER_SLOT = "0x3", "0x4"
# A stock kernel that works prints this within seconds under KVM; one on a paravirtual KVM that
# cannot run it never does (the probe's only question).
KERNEL_REACHED_INIT = ("Run /init as init process", "Freeing unused kernel image")
PROBE_SECONDS = 45


def run(command: list[str], what: str, timeout: float = 120) -> str:
    try:
        done = subprocess.run(command, capture_output=True, text=True, timeout=timeout, check=False)
    except FileNotFoundError:
        raise CloudError(f"{command[0]} is not installed (docs/desktop-cloud.md)", permanent=True)
    except subprocess.TimeoutExpired:
        raise CloudError(f"{what} took more than {timeout:.0f} s", permanent=False)
    if done.returncode != 0:
        message = (done.stderr or done.stdout).strip().splitlines()[-1:] or [f"exit {done.returncode}"]
        raise CloudError(f"{what} failed: {message[0]}", permanent=True)
    return done.stdout


# ---------------------------------------------------------------------------- seed


def network_config(user_mac: str, cluster_mac: str, address: str, prefix: int) -> str:
    """cloud-init's network-config v2: DHCP on the user-mode NIC (the way out, and to the portal),
    the static cluster address on the other, each matched by the MAC the provider recorded."""
    config = {
        "version": 2,
        "ethernets": {
            "outside": {"match": {"macaddress": user_mac}, "set-name": USER_NIC, "dhcp4": True},
            "cluster": {
                "match": {"macaddress": cluster_mac},
                "set-name": CLUSTER_NIC,
                "addresses": [f"{address}/{prefix}"],
            },
        },
    }
    return json.dumps(config, indent=1) + "\n"  # JSON is YAML


def network_interfaces(address: str, prefix: int) -> str:
    """The same networks as ifupdown stanzas, for the image's nocloud-shell (cloud-init disabled)."""
    netmask = str(ipaddress.ip_network(f"0.0.0.0/{prefix}").netmask)
    return (
        f"auto {USER_NIC}\niface {USER_NIC} inet dhcp\n\n"
        f"auto {CLUSTER_NIC}\niface {CLUSTER_NIC} inet static\n  address {address}\n  netmask {netmask}\n"
    )


def write_seed(path: Path, *, user_data: bytes, hostname: str, instance_id: str, files: dict) -> None:
    """An ISO 9660 volume labelled "cidata": cloud-init's NoCloud seed. genisoimage, because it
    takes any extra file (network-interfaces) where cloud-localds takes only cloud-init's three."""
    with tempfile.TemporaryDirectory(dir=path.parent) as folder:
        folder = Path(folder)
        (folder / "user-data").write_bytes(user_data)
        (folder / "meta-data").write_text(f"instance-id: {instance_id}\nlocal-hostname: {hostname}\n")
        for name, text in files.items():
            (folder / name).write_text(text)
        names = sorted(p.name for p in folder.iterdir())
        _genisoimage(path, folder, names)


def _genisoimage(path: Path, folder: Path, names: list[str]) -> None:
    command = ["genisoimage", "-quiet", "-output", str(path), "-volid", "cidata", "-joliet", "-rock"]
    try:
        done = subprocess.run([*command, *names], cwd=folder, capture_output=True, text=True, timeout=60)
    except FileNotFoundError:
        raise CloudError("genisoimage is not installed (docs/desktop-cloud.md)", permanent=True)
    if done.returncode != 0:
        raise CloudError(f"making the seed failed: {done.stderr.strip()[-300:]}", permanent=True)


# ---------------------------------------------------------------------------- the QEMU process


def command_line(vm: dict, image: dict, accel: str, segment: str) -> list[str]:
    """QEMU for one VM, daemonized with a pid file: it outlives the worker that started it."""
    folder = Path(vm["folder"])
    append = "root=/dev/vda rw console=ttyS0 net.ifnames=0"
    if image["shell"]:
        append += " cloud-init=disabled"
    group, port = segment.split(":")
    return [
        QEMU,
        "-name", vm["name"],
        "-daemonize", "-pidfile", str(folder / "pid"),
        "-machine", f"pc,accel={accel}",
        "-cpu", "host" if accel == "kvm" else "max",
        "-smp", str(vm["vcpus"]),
        "-m", str(vm["ram_mb"]),
        "-kernel", image["kernel"], "-initrd", image["initrd"], "-append", append,
        "-drive", f"file={folder / 'disk.qcow2'},if=virtio,format=qcow2",
        "-drive", f"file={folder / 'seed.iso'},if=virtio,format=raw,readonly=on",
        "-netdev", f"user,id=outside,hostfwd=tcp:127.0.0.1:{vm['ssh_port']}-:22",
        "-device", f"virtio-net-pci,netdev=outside,mac={vm['user_mac']},addr={USER_SLOT}",
        # Multicast on the loopback interface: every VM of the cloud hears every other one, and
        # nothing leaves the machine; no bridge, no root.
        "-netdev", f"socket,id=cluster,mcast={group}:{port},localaddr=127.0.0.1",
        "-device", f"virtio-net-pci,netdev=cluster,mac={vm['cluster_mac']},addr={CLUSTER_SLOT}",
        "-serial", f"file:{folder / 'console.log'}",
        "-display", "none", "-vga", "none",
        "-monitor", "none",
    ]  # fmt: skip


def pid_of(folder: Path) -> int | None:
    """The QEMU process of the VM in `folder`, if it still runs (a reused pid is not taken for it)."""
    try:
        pid = int((folder / "pid").read_text().strip())
        command = Path(f"/proc/{pid}/cmdline").read_bytes()
    except (OSError, ValueError):
        return None
    return pid if str(folder).encode() in command else None


def stop(folder: Path, wait: float = 10) -> None:
    pid = pid_of(folder)
    if pid is None:
        return
    for sig, seconds in ((signal.SIGTERM, wait), (signal.SIGKILL, 5)):
        try:
            os.kill(pid, sig)
        except ProcessLookupError:
            return
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            if pid_of(folder) is None:
                return
            time.sleep(0.1)


# ---------------------------------------------------------------------------- KVM or TCG


def choose_accel(cache: Path, kernel: str, initrd: str) -> str:
    """ "kvm" when a stock guest kernel boots under KVM here, else "tcg"; asked once per kernel and
    remembered in `cache`. Not decided by /dev/kvm alone: a paravirtual KVM may open and still
    hang the guest kernel."""
    try:
        known = json.loads(cache.read_text())
        if known.get("kernel") == kernel:
            return known["accel"]
    except (OSError, ValueError, KeyError):
        pass
    accel = "kvm" if os.access("/dev/kvm", os.R_OK | os.W_OK) and kvm_boots(kernel, initrd) else "tcg"
    with contextlib.suppress(OSError):  # a read-only image folder: probe again next time
        cache.write_text(json.dumps({"kernel": kernel, "accel": accel}))
    return accel


def kvm_boots(kernel: str, initrd: str, seconds: float = PROBE_SECONDS) -> bool:
    """Boot the kernel under KVM with no disk and watch its console for the start of user space."""
    with tempfile.TemporaryDirectory() as folder:
        console = Path(folder) / "console.log"
        command = [
            QEMU, "-machine", "pc,accel=kvm", "-cpu", "host", "-m", "512", "-no-reboot",
            "-kernel", kernel, "-initrd", initrd, "-append", "console=ttyS0 panic=-1",
            "-serial", f"file:{console}", "-display", "none", "-vga", "none", "-monitor", "none",
            "-nic", "none",
        ]  # fmt: skip
        try:
            probe = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        except FileNotFoundError:
            return False
        try:
            deadline = time.monotonic() + seconds
            while time.monotonic() < deadline and probe.poll() is None:
                text = console.read_text(errors="replace") if console.exists() else ""
                if any(words in text for words in KERNEL_REACHED_INIT):
                    return True
                time.sleep(0.5)
            return False
        finally:
            probe.kill()
            probe.wait()
