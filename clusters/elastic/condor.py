"""HTCondor's queue, read from the two commands the head's collector runs (docs/elastic.md, "HTCondor").

    jobs:    condor_q -allusers -constraint 'JobUniverse =!= 7 && JobUniverse =!= 12' -af JobStatus
    workers: condor_status -af Machine Name State Activity EnteredCurrentState MyCurrentTime LastHeardFrom

`-af` prints one line per job or slot, values separated by spaces, strings without quotes, and the
word `undefined` for an attribute the ad lacks. One number a job keeps a report of 1,000 jobs at
about 2 KB; scheduler- and local-universe jobs (DAGMan itself) run on the head, never on a worker,
so the constraint leaves them out.
"""

from __future__ import annotations

from clusters.elastic.signals import QueueSignals, SignalError, WorkerSignal

# JobStatus codes: 1 Idle, 2 Running, 3 Removed, 4 Completed, 5 Held, 6 Transferring output,
# 7 Suspended. Held jobs wait for a person, not for a worker; 6 and 7 still hold their slot.
IDLE_JOB = 1
RUNNING_JOBS = {2, 6, 7}

WORKER_ATTRIBUTES = (
    "Machine",
    "Name",
    "State",
    "Activity",
    "EnteredCurrentState",
    "MyCurrentTime",
    "LastHeardFrom",
)
# A startd updates the collector every 5 minutes (UPDATE_INTERVAL) and on every state change;
# the collector forgets an ad after 15 (CLASSAD_LIFETIME). An ad not renewed for two updates and a
# minute means a startd that stopped talking: its worker is down until the ad expires.
STALE_AFTER_SECONDS = 2 * 300 + 60
# Slots in these states do nothing for a job and may be drained (Owner: the machine's START
# expression refuses jobs for now; Backfill: opportunistic work HTCondor evicts at will).
_IDLE_STATES = {"Unclaimed", "Owner", "Backfill"}


def parse(jobs: str, workers: str, head_now: int) -> QueueSignals:
    idle, running = _count_jobs(jobs)
    return QueueSignals(
        system="condor", idle_jobs=idle, running_jobs=running, workers=_workers(workers, head_now)
    )


def _count_jobs(output: str) -> tuple[int, int]:
    idle = running = 0
    for number, line in enumerate(output.splitlines(), 1):
        if not line.strip():
            continue
        try:
            status = int(line)
        except ValueError:
            raise SignalError(
                f"condor jobs line {number}: expected a JobStatus number, got {line[:40]!r}"
            ) from None
        if status == IDLE_JOB:
            idle += 1
        elif status in RUNNING_JOBS:
            running += 1
    return idle, running


def _workers(output: str, head_now: int) -> tuple[WorkerSignal, ...]:
    """One signal per machine: a machine has several slots (static, or a partitionable slot with
    its dynamic slots) and is as busy as its busiest slot."""
    machines: dict[str, list[dict]] = {}
    for number, line in enumerate(output.splitlines(), 1):
        if line.strip():
            slot = _slot(number, line)
            machines.setdefault(slot["worker"], []).append(slot)
    return tuple(_worker(name, slots, head_now) for name, slots in sorted(machines.items()))


def _slot(number: int, line: str) -> dict:
    fields = line.split()
    if len(fields) != len(WORKER_ATTRIBUTES):
        raise SignalError(
            f"condor workers line {number}: expected {len(WORKER_ATTRIBUTES)} values "
            f"({' '.join(WORKER_ATTRIBUTES)}), got {len(fields)}"
        )
    machine, name, state, activity, *times = fields
    if machine == "undefined":
        raise SignalError(f"condor workers line {number}: the slot {name!r} names no Machine")
    try:
        entered, ad_time, heard = (None if value == "undefined" else int(value) for value in times)
    except ValueError:
        raise SignalError(
            f"condor workers line {number}: EnteredCurrentState, MyCurrentTime and LastHeardFrom "
            f"must be seconds since the epoch or undefined, got {' '.join(times)!r}"
        ) from None
    return {
        # The portal knows a worker by its instance name, the short host name.
        "worker": machine.split(".", 1)[0].lower(),
        "state": state,
        "activity": activity,
        "entered": entered,
        "ad_time": ad_time,
        "heard": heard,
    }


def _worker(name: str, slots: list[dict], head_now: int) -> WorkerSignal:
    heard = [slot["heard"] for slot in slots if slot["heard"] is not None]
    if heard and head_now - max(heard) > STALE_AFTER_SECONDS:
        return WorkerSignal(name, "down")
    states = {slot["state"] for slot in slots}
    # condor_drain turns idle slots Drained at once; slots whose jobs still run retire (Claimed or
    # Drained, activity Retiring) until the jobs end; then every slot is Drained/Idle.
    if any(slot["activity"] == "Retiring" for slot in slots) or (
        "Drained" in states and states - {"Drained"}
    ):
        return WorkerSignal(name, "draining")
    if states == {"Drained"}:
        return WorkerSignal(name, "drained", _idle_seconds(slots, head_now))
    # A partitionable slot stays Unclaimed while its dynamic slots run jobs, so any Claimed slot
    # (or Matched, Preempting, or a state this parser does not know) makes the machine busy.
    if states <= _IDLE_STATES:
        return WorkerSignal(name, "idle", _idle_seconds(slots, head_now))
    return WorkerSignal(name, "busy")


def _idle_seconds(slots: list[dict], head_now: int) -> int | None:
    """Since the most recent state change of any slot, by the head's clock.

    EnteredCurrentState and MyCurrentTime are the worker's clock, LastHeardFrom the collector's
    (the head's): the time in the state when the ad was sent, plus the time since the collector
    got it, is right even when the worker's clock is off.
    """
    ages = []
    for slot in slots:
        if slot["entered"] is None:
            return None
        if slot["ad_time"] is not None and slot["heard"] is not None:
            age = (slot["ad_time"] - slot["entered"]) + (head_now - slot["heard"])
        else:
            age = head_now - slot["entered"]
        ages.append(max(age, 0))
    return min(ages) if ages else None
