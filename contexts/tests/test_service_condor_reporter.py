"""The HTCondor central manager reports its queue (docs/elastic.md, "HTCondor"): its plan installs
the collector and the reporter's service when the profile is launched with check-in.

HTCondor cannot be installed here, so the collector runs against stand-ins for `condor_q`,
`condor_status`, `condor_drain` and `date` on PATH: they print the captured outputs of
clusters/tests/batch_outputs/condor/ (for the attributes asked) and log their arguments.
"""

import os
import subprocess
from pathlib import Path

import pytest
import yaml

from clusters.elastic import condor, signals
from contexts.render import FORMATS
from contexts.render.common import b64, quote
from contexts.services.condor import COLLECTOR
from contexts.services.reporter import COLLECTOR_PATH, UNIT_NAME
from contexts.tests.render_samples import render_example
from contexts.tests.test_render_checkin import CHECKIN
from contexts.tests.test_render_shell import amiconfig_sh_part

OUTPUTS = Path(__file__).parents[2] / "clusters" / "tests" / "batch_outputs" / "condor"
HEAD_NOW = 1282756700

# condor_status -af ATTRIBUTES: the columns of workers.af that the attributes name.
FAKE_CONDOR_STATUS = """#!/bin/sh
echo "condor_status $*" >>"$FAKE_LOG"
shift
awk -v wanted="$*" 'BEGIN {
    split("Machine Name State Activity EnteredCurrentState MyCurrentTime LastHeardFrom", names, " ")
    for (i in names) column[names[i]] = i
    count = split(wanted, attributes, " ")
}
{ line = ""; for (i = 1; i <= count; i++) line = line (i > 1 ? " " : "") $(column[attributes[i]]); print line }
' "$FAKE_OUTPUTS/workers.af"
"""
FAKE_CONDOR_Q = """#!/bin/sh
echo "condor_q $*" >>"$FAKE_LOG"
[ -z "${FAKE_SCHEDD_DOWN:-}" ] || { echo "Failed to fetch ads from schedd" >&2; exit 1; }
cat "$FAKE_OUTPUTS/jobs-manual-queue.af"
"""
FAKE_CONDOR_DRAIN = """#!/bin/sh
echo "condor_drain $*" >>"$FAKE_LOG"
"""
FAKE_DATE = f"""#!/bin/sh
echo {HEAD_NOW}
"""


@pytest.fixture
def collector(tmp_path):
    """Runs the collector with the stand-ins; returns (exit code, stdout, stderr, the logged calls)."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    fakes = {
        "condor_status": FAKE_CONDOR_STATUS,
        "condor_q": FAKE_CONDOR_Q,
        "condor_drain": FAKE_CONDOR_DRAIN,
        "date": FAKE_DATE,
    }
    for name, text in fakes.items():
        (bin_dir / name).write_text(text)
        (bin_dir / name).chmod(0o755)
    script = tmp_path / "queue-report"
    script.write_text(COLLECTOR)
    script.chmod(0o755)
    log = tmp_path / "calls.log"

    def run(*args, **env):
        environment = {
            **os.environ,
            "PATH": f"{bin_dir}:{os.environ['PATH']}",
            "FAKE_LOG": str(log),
            "FAKE_OUTPUTS": str(OUTPUTS),
            **env,
        }
        done = subprocess.run(
            [str(script), *args], env=environment, capture_output=True, text=True, timeout=30
        )
        calls = log.read_text().splitlines() if log.exists() else []
        return done.returncode, done.stdout, done.stderr, calls

    return run


def reporter_files(user_data: bytes, fmt: str) -> dict:
    """The collector and unit as the format writes them: {path: content} for cloud-init, else the
    sh text (files are written with `printf '%s' CONTENT`)."""
    text = user_data.decode()
    if fmt == "cloud-init":
        return {f["path"]: f.get("content") for f in yaml.safe_load(text)["write_files"]}
    return amiconfig_sh_part(text) if fmt == "amiconfig" else text


@pytest.mark.parametrize("fmt", FORMATS)
def test_a_master_launched_with_checkin_installs_the_collector_and_the_reporter(fmt):
    written = reporter_files(render_example("htcondor-master", fmt, checkin=CHECKIN), fmt)
    if fmt == "cloud-init":
        assert written[COLLECTOR_PATH] == COLLECTOR
        assert any(UNIT_NAME in path for path in written)
    else:
        # amiconfig's sh part writes every file base64-encoded (docs/user-data.md, "amiconfig").
        content = quote(b64(COLLECTOR)) + " | base64 -d" if fmt == "amiconfig" else quote(COLLECTOR)
        assert f"printf '%s' {content} | cp_write {quote(COLLECTOR_PATH)} 0755" in written
        assert UNIT_NAME in written


@pytest.mark.parametrize("fmt", FORMATS)
def test_a_worker_or_a_master_without_checkin_installs_no_reporter(fmt):
    assert COLLECTOR_PATH.encode() not in render_example("htcondor-worker", fmt, checkin=CHECKIN)
    assert COLLECTOR_PATH.encode() not in render_example("htcondor-master", fmt)


def test_workers_let_running_jobs_retire_when_drained():
    assert b"MAXJOBRETIREMENTTIME = 7 * 24 * 3600" in render_example("htcondor-worker", "shell")
    assert b"MAXJOBRETIREMENTTIME" not in render_example("htcondor-master", "shell")


def test_the_collector_is_posix_sh():
    done = subprocess.run(["dash", "-n"], input=COLLECTOR, capture_output=True, text=True, timeout=30)
    assert done.returncode == 0, done.stderr


def test_collect_prints_a_report_the_portal_reads(collector):
    code, report, _, calls = collector("collect")
    assert code == 0
    assert calls == [
        "condor_q -allusers -constraint JobUniverse =!= 7 && JobUniverse =!= 12 -af JobStatus",
        "condor_status -af Machine Name State Activity EnteredCurrentState MyCurrentTime LastHeardFrom",
    ]
    jobs, workers = (OUTPUTS / "jobs-manual-queue.af").read_text(), (OUTPUTS / "workers.af").read_text()
    assert report == f"system condor\nnow {HEAD_NOW}\n[jobs]\n{jobs}[workers]\n{workers}"
    assert signals.parse(report) == condor.parse(jobs, workers, HEAD_NOW)
    queue = signals.parse(report)
    assert (queue.idle_jobs, queue.running_jobs, len(queue.workers)) == (58, 2276, 9)


def test_collect_fails_when_the_schedd_cannot_be_asked(collector):
    code, report, error, _ = collector("collect", FAKE_SCHEDD_DOWN="1")
    assert code != 0
    assert report == ""
    assert "Failed to fetch ads from schedd" in error


def test_drain_drains_the_machine_by_its_full_name_gracefully_and_starting_nothing(collector):
    code, _, _, calls = collector("drain", "vulture")
    assert code == 0
    assert calls[-1] == "condor_drain -graceful -start False vulture.cs.wisc.edu"


@pytest.mark.parametrize("name", ["test_drain", "test_drained"])
def test_drain_is_a_no_op_for_a_worker_already_draining_or_drained(collector, name):
    code, _, _, calls = collector("drain", name)
    assert code == 0
    assert not [call for call in calls if call.startswith("condor_drain")]


def test_drain_of_a_worker_htcondor_does_not_know_fails_and_says_so(collector):
    code, _, error, calls = collector("drain", "worker-99")
    assert code == 1
    assert "HTCondor knows no worker named worker-99" in error
    assert not [call for call in calls if call.startswith("condor_drain")]


def test_the_collector_says_how_it_is_used(collector):
    code, _, error, _ = collector("drain")
    assert (code, error.strip()) == (2, "usage: queue-report drain NAME")
