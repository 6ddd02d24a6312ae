"""Reading HTCondor's queue from the collector's commands (clusters/elastic/condor.py).

The outputs are in batch_outputs/condor/ (README.md there says where each comes from).
"""

from pathlib import Path

import pytest

from clusters.elastic import condor, signals
from clusters.elastic.signals import SignalError, WorkerSignal

OUTPUTS = Path(__file__).parent / "batch_outputs" / "condor"
# The head's clock for the captures: a few minutes after the last ad of the CANFAR pool.
HEAD_NOW = 1282756700


def output(name):
    return (OUTPUTS / name).read_text()


def workers(text, now=HEAD_NOW):
    return {w.name: w for w in condor.parse("", text, now).workers}


def long_ads(text):
    """The ads of a `condor_status -long` output, as {attribute: value as -af prints it}."""
    ads = []
    for block in text.strip().split("\n\n"):
        ad = {}
        for line in block.splitlines():
            key, _, value = line.partition(" = ")
            ad[key] = value.strip().strip('"')
        ads.append(ad)
    return ads


def lines_about(text, machine):
    return [line for line in text.splitlines() if line.split()[0] == machine]


def test_it_reads_each_worker_of_a_pool():
    assert workers(output("workers.af")) == {
        "vulture": WorkerSignal("vulture", "busy"),
        "hermes-xen188": WorkerSignal("hermes-xen188", "busy"),
        "hermes-xen199": WorkerSignal("hermes-xen199", "busy"),
        "hermes-xen057": WorkerSignal("hermes-xen057", "down"),
        "test": WorkerSignal("test", "idle"),
        "test_drain": WorkerSignal("test_drain", "draining"),
        "test_drained": WorkerSignal("test_drained", "drained"),
        "test_owner": WorkerSignal("test_owner", "idle"),
        "exoscale-26d361290f": WorkerSignal("exoscale-26d361290f", "idle"),
    }


def test_it_counts_idle_and_running_jobs_and_leaves_held_and_removed_ones_out():
    queue = condor.parse(output("jobs-manual-queue.af"), "", HEAD_NOW)
    assert (queue.idle_jobs, queue.running_jobs) == (58, 2276)


def test_jobs_transferring_output_or_suspended_still_hold_their_slot():
    queue = condor.parse("1\n6\n7\n4\n\n", "", HEAD_NOW)
    assert (queue.idle_jobs, queue.running_jobs) == (1, 2)


def test_thousands_of_jobs_make_a_small_report():
    jobs = output("jobs-manual-queue.af")  # 2388 jobs
    assert len(jobs.encode()) < 5000 < signals.MAX_REPORT_BYTES


def test_the_worker_lines_are_the_captured_long_ads_printed_by_af():
    ads = long_ads(output("canfar-status-long.txt"))
    printed = [" ".join(ad[attribute] for attribute in condor.WORKER_ATTRIBUTES) for ad in ads]
    af = output("workers.af")
    assert printed == lines_about(af, "hermes-xen188") + lines_about(af, "hermes-xen199")


def test_the_worker_lines_keep_the_captured_tardis_states():
    for captured in output("tardis-status-af-t.txt").splitlines():
        machine, name, state, activity = captured.split("\t")[:4]
        if machine != "test_uuid_plus":
            expected = f"{machine} {name} {state} {activity} undefined undefined undefined"
            assert lines_about(output("workers.af"), machine) == [expected]


def test_a_partitionable_machine_is_busy_while_a_dynamic_slot_is_claimed_and_idle_after():
    vulture = lines_about(output("workers.af"), "vulture.cs.wisc.edu")
    assert workers("\n".join(vulture))["vulture"].state == "busy"
    # Its dynamic slots gone, the partitionable slot alone is left: idle since it entered Unclaimed.
    idle = workers(vulture[0])["vulture"]
    assert idle == WorkerSignal("vulture", "idle", (1282756600 - 1282658262) + (HEAD_NOW - 1282756600))


def test_worker_names_are_short_host_names():
    line = "Worker-3.Cloud.Example.org slot1@worker-3.cloud.example.org Unclaimed Idle 10 10 10"
    assert list(workers(line, now=20)) == ["worker-3"]


def test_idle_time_is_counted_by_the_heads_clock_even_when_the_workers_clock_is_off():
    # The worker's clock runs 300 s ahead: it entered Unclaimed at its 1000 and reported at its
    # 1600, which the collector received at its own 1300; the head reads the queue at 1400.
    line = "w1.example.org slot1@w1.example.org Unclaimed Idle 1000 1600 1300"
    assert workers(line, now=1400)["w1"].idle_seconds == 600 + 100


def test_without_last_heard_from_idle_time_is_the_heads_now_minus_entered_current_state():
    line = "w1 slot1@w1 Owner Idle 1000 undefined undefined"
    assert workers(line, now=1400)["w1"] == WorkerSignal("w1", "idle", 400)


def test_a_machine_is_idle_since_its_latest_slot_change():
    text = "w1 slot1@w1 Unclaimed Idle 1000 2000 2000\nw1 slot2@w1 Unclaimed Idle 1900 2000 2000\n"
    assert workers(text, now=2000)["w1"].idle_seconds == 100


def test_unknown_times_give_no_idle_time():
    assert workers(output("workers.af"))["test"].idle_seconds is None


def test_draining_until_every_slot_is_drained_then_drained_since_the_last_one():
    retiring = "w1 slot1@w1 Claimed Retiring 100 500 500\nw1 slot2@w1 Drained Idle 400 500 500\n"
    assert workers(retiring, now=500)["w1"].state == "draining"
    drained = "w1 slot1@w1 Drained Idle 450 500 500\nw1 slot2@w1 Drained Idle 400 500 500\n"
    assert workers(drained, now=500)["w1"] == WorkerSignal("w1", "drained", 50)


def test_a_drained_slot_beside_an_unclaimed_one_is_still_draining():
    text = "w1 slot1@w1 Drained Idle 450 500 500\nw1 slot2@w1 Unclaimed Idle 400 500 500\n"
    assert workers(text, now=500)["w1"].state == "draining"


@pytest.mark.parametrize("state", ["Matched", "Preempting", "Claimed", "Backfilling-Someday"])
def test_a_slot_in_any_other_state_makes_its_machine_busy(state):
    text = f"w1 slot1@w1 Unclaimed Idle 1 1 1\nw1 slot1_1@w1 {state} Busy 1 1 1\n"
    assert workers(text, now=1)["w1"].state == "busy"


def test_a_worker_unheard_of_for_eleven_minutes_is_down():
    line = "w1 slot1@w1 Claimed Busy 0 100 100"
    assert workers(line, now=100 + condor.STALE_AFTER_SECONDS)["w1"].state == "busy"
    assert workers(line, now=101 + condor.STALE_AFTER_SECONDS)["w1"].state == "down"


def test_the_portal_reads_a_whole_report():
    report = (
        f"system condor\nnow {HEAD_NOW}\n[jobs]\n{output('jobs-manual-queue.af')}"
        f"[workers]\n{output('workers.af')}"
    )
    queue = signals.parse(report)
    assert (queue.system, queue.idle_jobs, queue.running_jobs) == ("condor", 58, 2276)
    assert {w.name: w.state for w in queue.workers}["test_drained"] == "drained"


@pytest.mark.parametrize(
    "jobs, workers_text, message",
    [
        ("1\nIdle\n", "", "condor jobs line 2: expected a JobStatus number, got 'Idle'"),
        ("", "w1 slot1@w1 Unclaimed Idle 1 1", "condor workers line 1: expected 7 values (Machine Name"),
        ("", "w1 slot1@w1 Unclaimed Idle 1 2 3 4", "got 8"),
        ("", "undefined slot1@w1 Unclaimed Idle 1 1 1", "the slot 'slot1@w1' names no Machine"),
        ("", "w1 slot1@w1 Unclaimed Idle soon 1 1", "must be seconds since the epoch or undefined"),
    ],
)
def test_malformed_output_says_what_is_wrong(jobs, workers_text, message):
    with pytest.raises(SignalError, match=message.replace("(", r"\(")):
        condor.parse(jobs, workers_text, HEAD_NOW)
