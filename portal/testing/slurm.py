"""A real Slurm on 127.0.0.1 for tests, started from the user-data the portal renders (docs/testing.md).

`rendered_nodes()` renders the Slurm block for a head and workers (cloud-init) and keeps the files
each would write; `RealSlurm` starts munged, slurmctld and one worker's slurmd from them in a
temporary directory. Debian's slurm-wlm is built without multiple-slurmd (one slurmd per host and
port), so one worker really runs; the others are rendered and checked, not started.

What a test must change in the rendered configuration, and nothing else: the paths (state, spool,
pid files) into the temporary directory, the ports (free ones), SlurmUser (root: the slurm user may
not enter a test's directory), the MUNGE socket (munged's own, in the directory), and the head's
name in SlurmctldHost (slurmctld must find the test machine's host name there).

Every process the helper starts, and every process Slurm starts from them (slurmstepd, the jobs),
carries the environment variable MARKER=<directory>; `stop()` ends those, found by that marker, so
nothing is left running even when a test fails.
"""

from __future__ import annotations

import base64
import contextlib
import os
import re
import shlex
import signal
import socket
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path

import yaml

from contexts.render import render
from contexts.templating import parse_variables
from portal.testing.waits import stop

MARKER = "CONTEXT_PORTAL_SLURM_TEST"
CLUSTER = "demo"
HEAD = "demo-head-0"
SECRET = "demo-cluster-secret"  # noqa: S105 (a test value)
DAEMONS = ("munged", "slurmctld", "slurmd", "squeue", "srun")


def missing_programs() -> list[str]:
    return [name for name in DAEMONS if not any(Path(d, name).exists() for d in ("/usr/sbin", "/usr/bin"))]


def document(role: str, **settings) -> dict:
    return {
        "schema": 1,
        "services": {"slurm": {"role": role, "controller": "{{ roles.head.address }}", **settings}},
    }


def node_variables(instance: str, role: str, index: int, head_address: str) -> dict:
    return parse_variables(
        {
            "cluster.name": CLUSTER,
            "cluster.id": "7",
            "cluster.secret": SECRET,
            "role.name": role,
            "instance.index": str(index),
            "instance.name": instance,
            "instance.token": "test-token",
            "roles.head.address": head_address,
            "portal.url": "https://portal.example.org",
        }
    )


def written_files(user_data: bytes) -> dict[str, str]:
    """{path: content} of a cloud-config's write_files, base64 decoded."""
    files = {}
    for entry in yaml.safe_load(user_data)["write_files"]:
        content = entry["content"]
        files[entry["path"]] = (
            base64.b64decode(content).decode() if entry.get("encoding") == "b64" else content
        )
    return files


def rendered_nodes(workers: int = 2, **settings) -> dict[str, bytes]:
    """The cloud-init user-data of the head and `workers` workers, named as a launch names them.

    As a launch does (clusters.userdata.render_instance), the head's `roles.head.address` is its own
    host name, and the workers' is the head's address.
    """
    nodes = {
        HEAD: render(
            document("controller", **settings), node_variables(HEAD, "head", 0, HEAD), salt_seed=b"t"
        )
    }
    for index in range(workers):
        name = f"{CLUSTER}-worker-{index}"
        values = node_variables(name, "worker", index, "127.0.0.1")
        nodes[name] = render(document("worker", **settings), values, salt_seed=b"t")
    return nodes


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def set_option(conf: str, key: str, value: str) -> str:
    """`conf` with `key=value` in place of the key's line, or added when it has none."""
    line = re.compile(rf"^{key}=.*$", re.M)
    return line.sub(f"{key}={value}", conf) if line.search(conf) else conf + f"{key}={value}\n"


@dataclass
class RealSlurm:
    directory: Path
    head_files: dict[str, str]
    worker_files: dict[str, str]
    worker_name: str
    slurmd_timeout: int | None = None
    processes: list[subprocess.Popen] = field(default_factory=list)

    def __post_init__(self):
        self.ctld_port, self.slurmd_port = free_port(), free_port()
        self.head_conf = self.directory / "head" / "slurm.conf"
        self.worker_conf = self.directory / "worker" / "slurm.conf"

    # --- the configuration: as rendered, but for what a test must change ----------------------

    def local_conf(self, rendered: str, *, head: bool) -> str:
        d = self.directory
        conf = rendered
        for key, value in {
            "StateSaveLocation": d / "state",
            "SlurmdSpoolDir": d / "spool",
            "SlurmctldPidFile": d / "slurmctld.pid",
            "SlurmdPidFile": d / "slurmd.pid",
            "SlurmUser": "root",
            "AuthInfo": f"socket={d / 'run' / 'munge.sock'}",
            "SlurmctldPort": self.ctld_port,
            "SlurmdPort": self.slurmd_port,
        }.items():
            conf = set_option(conf, key, str(value))
        if head:
            conf = set_option(conf, "SlurmctldHost", f"{socket.gethostname()}(127.0.0.1)")
        if self.slurmd_timeout:
            conf = set_option(conf, "SlurmdTimeout", str(self.slurmd_timeout))
        return conf

    @property
    def env(self) -> dict[str, str]:
        return {**os.environ, "SLURM_CONF": str(self.head_conf), MARKER: str(self.directory), "TZ": "UTC"}

    # --- starting and stopping ----------------------------------------------------------------

    def start(self, munge_key: str, slurmd_argv: list[str]) -> RealSlurm:
        d = self.directory
        for sub in ("head", "worker", "state", "spool", "run", "log", "munge"):
            (d / sub).mkdir(parents=True, exist_ok=True)
        d.chmod(0o755)  # munged wants its socket's directories searchable by all
        (d / "run").chmod(0o755)
        (d / "munge").chmod(0o700)
        key = d / "munge" / "munge.key"
        key.write_text(munge_key)
        key.chmod(0o400)
        self.head_conf.write_text(self.local_conf(self.head_files["/etc/slurm/slurm.conf"], head=True))
        self.worker_conf.write_text(self.local_conf(self.worker_files["/etc/slurm/slurm.conf"], head=False))
        munged = ["munged", "-F", f"--socket={d / 'run' / 'munge.sock'}", f"--key-file={key}",
                  f"--pid-file={d / 'run' / 'munged.pid'}", f"--seed-file={d / 'munge' / 'seed'}",
                  f"--log-file={d / 'log' / 'munged.log'}"]  # fmt: skip
        self._start("munged", munged, ready=lambda: (d / "run" / "munge.sock").exists())
        self._start("slurmctld", ["slurmctld", "-D"], ready=lambda: self.answers(["sinfo", "-h"]))
        worker_env = {**self.env, "SLURM_CONF": str(self.worker_conf)}
        self._start("slurmd", slurmd_argv, env=worker_env, ready=lambda: self.node_state() is not None)
        return self

    def _start(self, name: str, argv: list[str], *, ready, env=None) -> None:
        log = self.directory / "log" / f"{name}.out"
        with log.open("wb") as out:
            process = subprocess.Popen(argv, env=env or self.env, stdout=out, stderr=subprocess.STDOUT)
        self.processes.append(process)
        deadline = time.monotonic() + 30
        while not ready():
            if process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"{name} did not start:\n{log.read_text(errors='replace')[-3000:]}")
            time.sleep(0.2)

    def stop(self) -> None:
        """End every process the helper started, and those Slurm started for it (by the marker)."""
        if len(self.processes) > 1 and self.processes[1].poll() is None:  # slurmctld answers
            subprocess.run(
                ["scancel", "--full", "--quiet", "--user=root"], env=self.env, timeout=30, check=False
            )
        for process in reversed(self.processes):
            stop(process)
        for pid in marked_processes(str(self.directory)):
            with contextlib.suppress(ProcessLookupError):  # ended meanwhile
                os.kill(pid, signal.SIGKILL)

    # --- asking it ------------------------------------------------------------------------------

    def run(self, argv: list[str], **kwargs) -> subprocess.CompletedProcess:
        kwargs.setdefault("timeout", 60)
        return subprocess.run(argv, env=self.env, capture_output=True, text=True, check=False, **kwargs)

    def answers(self, argv: list[str]) -> bool:
        return self.run(argv, timeout=10).returncode == 0

    def node_line(self, name: str) -> str | None:
        answer = self.run(["scontrol", "-o", "show", "node", name], timeout=10)
        return (
            answer.stdout.strip()
            if answer.returncode == 0 and answer.stdout.startswith("NodeName=")
            else None
        )

    def node_state(self, name: str | None = None) -> str | None:
        line = self.node_line(name or self.worker_name)
        found = re.search(r" State=(\S+)", line or "")
        return found.group(1) if found else None

    def wait_for_state(self, wanted, name: str | None = None, timeout: float = 60) -> str:
        """Wait until the node's State (e.g. IDLE+DRAIN+DYNAMIC_NORM) satisfies `wanted(flags)`."""
        deadline = time.monotonic() + timeout
        while True:
            state = self.node_state(name)
            if state and wanted(set(state.split("+"))):
                return state
            if time.monotonic() > deadline:
                raise AssertionError(f"node {name or self.worker_name} is {state}, not the state waited for")
            time.sleep(0.3)


def slurmd_argv(drop_in: str) -> list[str]:
    """The slurmd command of the rendered systemd drop-in (its last ExecStart), without systemd's
    environment variable."""
    starts = [line.partition("=")[2] for line in drop_in.splitlines() if line.startswith("ExecStart=")]
    return [word for word in shlex.split(starts[-1]) if not word.startswith("$")]


def marked_processes(directory: str) -> list[int]:
    needle = f"{MARKER}={directory}".encode()
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit() and int(entry.name) != os.getpid():
            try:
                if needle in (entry / "environ").read_bytes().split(b"\0"):
                    found.append(int(entry.name))
            except OSError:
                continue
    return found


def start(directory: Path, *, workers: int = 2, slurmd_timeout: int | None = None) -> RealSlurm:
    """Render a head and `workers` workers, then start the head's slurmctld and the first worker's
    slurmd from what they would write (the caller stops it: `stop()`)."""
    nodes = {name: written_files(data) for name, data in rendered_nodes(workers).items()}
    worker = nodes[f"{CLUSTER}-worker-0"]
    argv = slurmd_argv(worker["/etc/systemd/system/slurmd.service.d/50-context-portal.conf"])
    name = argv[argv.index("-N") + 1]
    slurm = RealSlurm(directory, nodes[HEAD], worker, name, slurmd_timeout=slurmd_timeout)
    try:
        return slurm.start(nodes[HEAD]["/etc/munge/munge.key"], argv)
    except BaseException:
        slurm.stop()
        raise
