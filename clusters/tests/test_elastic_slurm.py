"""Slurm's queue signals, read from the real outputs of Slurm 22.05 captured in batch_outputs/slurm/
(README.md there says how), and from the collector run against a real Slurm."""

from pathlib import Path

import pytest

from clusters.elastic import signals
from clusters.elastic.signals import QueueSignals, SignalError, WorkerSignal
from clusters.elastic.slurm import parse, worker_state

OUTPUTS = Path(__file__).parent / "batch_outputs" / "slurm"


def captured(scenario: str) -> QueueSignals:
    read = lambda part: (OUTPUTS / f"{scenario}.{part}.txt").read_text()  # noqa: E731
    return parse(read("jobs"), read("workers"), int(read("now")))


def test_an_idle_worker_is_idle_since_it_was_last_busy():
    assert captured("idle") == QueueSignals("slurm", 0, 0, (WorkerSignal("demo-worker-0", "idle", 6),))


def test_a_worker_running_one_job_on_some_of_its_cores_is_busy():
    assert captured("mixed") == QueueSignals("slurm", 0, 1, (WorkerSignal("demo-worker-0", "busy"),))


def test_pending_jobs_count_when_more_workers_would_start_them_and_per_node():
    signals = captured("busy-pending")

    # Resources 1 + Priority 6 (an array of three counts three) + a two-node job 2; the held job
    # and the one waiting for its begin time do not count.
    assert (signals.idle_jobs, signals.running_jobs) == (9, 2)
    assert signals.workers == (WorkerSignal("demo-worker-0", "busy"),)


def test_a_job_asking_for_more_nodes_than_there_are_waits_for_workers():
    assert captured("wide-job").idle_jobs == 2
    assert captured("none") == QueueSignals("slurm", 2, 0, ())  # "No nodes in the system"


def test_a_draining_worker_still_runs_its_job():
    assert captured("draining").workers == (WorkerSignal("demo-worker-0", "draining"),)


def test_a_drained_worker_is_drained_since_its_last_job_ended():
    assert captured("drained").workers == (WorkerSignal("demo-worker-0", "drained", 3),)


def test_workers_whose_slurmd_is_gone_are_down():
    assert captured("down").workers == (
        WorkerSignal("demo-worker-1", "down"),
        WorkerSignal("demo-worker-2", "down"),
    )
    assert captured("gone").workers == (WorkerSignal("demo-worker-0", "down"),)


@pytest.mark.parametrize(
    ("state", "word"),
    [
        ("IDLE+DYNAMIC_NORM", "idle"),
        ("IDLE+COMPLETING+DYNAMIC_NORM", "busy"),
        ("ALLOCATED+DRAIN", "draining"),
        ("IDLE+DRAIN+DYNAMIC_NORM+NOT_RESPONDING", "down"),
        ("IDLE+POWERED_DOWN", "down"),
        ("UNKNOWN", "down"),
    ],
)
def test_every_slurm_state_has_a_word(state, word):
    assert worker_state(state) == word


def test_a_collected_report_is_parsed_through_the_shared_entry_point():
    report = (OUTPUTS / "draining.collect.txt").read_text()

    assert signals.parse(report) == QueueSignals("slurm", 0, 1, (WorkerSignal("demo-worker-0", "draining"),))


@pytest.mark.parametrize(
    ("jobs", "workers"),
    [("slurm_load_jobs error: Unable to contact slurm controller", ""), ("", "scontrol: error: oops")],
)
def test_an_error_message_instead_of_the_output_is_refused(jobs, workers):
    with pytest.raises(SignalError, match="not a line of"):
        parse(jobs, workers, 0)
