"""The Slurm block for a head and two workers, run for real: Debian's munged, slurmctld and slurmd
started from the files the user-data would write (portal.testing.slurm says the few changes a test
must make), on 127.0.0.1. `make test` installs slurm-wlm and munge when missing."""

import shutil
import socket
import tempfile
from pathlib import Path

import pytest

from clusters.elastic import signals
from clusters.elastic.signals import WorkerSignal
from contexts.render import render
from contexts.services.reporter import COLLECTOR_PATH
from portal.testing import slurm as real


@pytest.fixture(scope="module")
def slurm():
    missing = real.missing_programs()
    assert not missing, f"{', '.join(missing)} missing: `make test` installs slurm-wlm and munge"
    # Not pytest's tmp_path: munged wants every directory above its socket searchable by all.
    directory = Path(tempfile.mkdtemp(prefix="context-portal-slurm-"))
    running = None
    try:
        running = real.start(directory, workers=2)
        yield running
    finally:
        if running:
            running.stop()
        assert real.marked_processes(str(directory)) == [], "a Slurm test process outlived the test"
        shutil.rmtree(directory, ignore_errors=True)


def test_srun_runs_a_command_on_a_worker_of_the_rendered_cluster(slurm):
    answer = slurm.run(["srun", "-N1", "hostname"])

    assert answer.returncode == 0, answer.stderr
    assert answer.stdout.strip() == socket.gethostname()
    assert "DYNAMIC_NORM" in slurm.node_state("demo-worker-0").split("+")  # registered by its instance name


def collector(directory: Path) -> Path:
    """The collector the head's user-data installs for the reporter (rendered with check-in)."""
    checkin = {"url": "https://portal.example.org/api/v1/instance/", "token": "t" * 43}
    head = render(real.document("controller"), real.node_variables(real.HEAD, "head", 0, real.HEAD),
                  salt_seed=b"t", checkin=checkin)  # fmt: skip
    path = directory / "queue-report"
    path.write_text(real.written_files(head)[COLLECTOR_PATH])
    path.chmod(0o755)
    return path


def test_the_collector_reports_the_real_queue_and_drains_a_worker(slurm):
    report = collector(slurm.directory)

    def reported():
        answer = slurm.run([str(report), "collect"])
        assert answer.returncode == 0, answer.stderr
        return signals.parse(answer.stdout)

    first = reported()
    assert (first.idle_jobs, first.running_jobs) == (0, 0)
    assert [(w.name, w.state) for w in first.workers] == [("demo-worker-0", "idle")]

    job = slurm.run(
        ["sbatch", "--parsable", "-o", "/dev/null", "-c", "2", "--wrap", "sleep 300"], cwd=slurm.directory
    )
    assert job.returncode == 0, job.stderr
    slurm.wait_for_state(lambda flags: "ALLOCATED" in flags)
    pending = slurm.run(["sbatch", "-o", "/dev/null", "--wrap", "true"], cwd=slurm.directory)
    assert pending.returncode == 0, pending.stderr
    busy = reported()
    assert (busy.idle_jobs, busy.running_jobs, busy.workers) == (
        1,
        1,
        (WorkerSignal("demo-worker-0", "busy"),),
    )

    for _ in range(2):  # a second drain of the same worker is no error
        assert slurm.run([str(report), "drain", "demo-worker-0"]).returncode == 0
    assert reported().workers == (WorkerSignal("demo-worker-0", "draining"),)
    assert slurm.run([str(report), "drain", "demo-worker-0,demo-head-0"]).returncode == 2  # one name only

    slurm.run(["scancel", "--user=root"])
    slurm.wait_for_state(lambda flags: flags >= {"IDLE", "DRAIN"} and "COMPLETING" not in flags)
    [drained] = reported().workers
    assert (drained.name, drained.state) == ("demo-worker-0", "drained")
    assert drained.idle_seconds is not None and 0 <= drained.idle_seconds < 60
