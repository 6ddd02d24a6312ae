"""Slurm's queue report (docs/elastic.md, "Slurm"): the output of the collector in
contexts/services/slurm.py, read into `QueueSignals`.

- jobs: `squeue -h -a -r -o '%T %D %r'`, one line per job (array tasks expanded): state, nodes,
  reason. A job counts once per node it asks for, so that one asking for four nodes brings four
  workers. Pending jobs count as idle only when more workers would let them start: waiting for
  resources, behind higher-priority jobs, or asking for more nodes than the partition has now.
  Held jobs, jobs waiting for a dependency, a begin time or a limit do not.
- workers: `TZ=UTC scontrol -o show node`, one line per node; `State=` is a base state and
  `+FLAGS`. LastBusyTime (UTC, by the collector's TZ) gives how long an idle node has been idle.
"""

from __future__ import annotations

import calendar
import re
import time

from clusters.elastic.signals import QueueSignals, SignalError, WorkerSignal

RUNNING = {"RUNNING", "CONFIGURING", "COMPLETING", "SUSPENDED", "STAGE_OUT", "SIGNALING"}
# Pending reasons that more workers resolve. PartitionNodeLimit and PartitionConfig: a job asking
# for more nodes than the partition has (its dynamic nodes are all registered workers).
WAITING_FOR_WORKERS = {"None", "Resources", "Priority", "PartitionNodeLimit", "PartitionConfig"}
BUSY_BASES = {"ALLOCATED", "MIXED"}
DOWN_BASES = {"DOWN", "ERROR", "FUTURE", "UNKNOWN"}
DOWN_FLAGS = {"NOT_RESPONDING", "FAIL", "POWERED_DOWN", "POWERING_DOWN", "POWERING_UP", "INVALID_REG"}
NO_NODES = "No nodes in the system"
_FIELD = re.compile(r"(?:^| )(NodeName|State|LastBusyTime)=(\S*)")


def parse(jobs: str, workers: str, head_now: int) -> QueueSignals:
    idle, running = _count_jobs(jobs)
    return QueueSignals(
        system="slurm",
        idle_jobs=idle,
        running_jobs=running,
        workers=tuple(_worker(line, head_now) for line in workers.splitlines() if _is_node(line)),
    )


def _count_jobs(text: str) -> tuple[int, int]:
    idle = running = 0
    for line in text.splitlines():
        if not line.strip():
            continue
        state, nodes, reason = (line.split(None, 2) + ["", ""])[:3]
        if not nodes.isdigit() or not state.isupper():
            raise SignalError(f"not a line of squeue -o '%T %D %r': {line[:80]!r}")
        if state == "PENDING" and reason.split(",")[0] in WAITING_FOR_WORKERS:
            idle += int(nodes)
        elif state in RUNNING:
            running += int(nodes)
    return idle, running


def _is_node(line: str) -> bool:
    if not line.strip() or line.strip() == NO_NODES:
        return False
    if not line.startswith("NodeName="):
        raise SignalError(f"not a line of scontrol -o show node: {line[:80]!r}")
    return True


def _worker(line: str, head_now: int) -> WorkerSignal:
    fields = dict(_FIELD.findall(line))
    if "State" not in fields:
        raise SignalError(f"a node without State: {line[:80]!r}")
    name = fields["NodeName"].split(".")[0]
    state = worker_state(fields["State"])
    idle_since = _utc_seconds(fields.get("LastBusyTime", ""))
    idle_seconds = None
    if state in ("idle", "drained") and idle_since is not None:
        idle_seconds = max(0, head_now - idle_since)
    return WorkerSignal(name, state, idle_seconds)


def worker_state(state: str) -> str:
    """The portal's word for Slurm's node State (e.g. MIXED+DRAIN+DYNAMIC_NORM is draining)."""
    base, *flags = state.rstrip("*").split("+")
    flags = set(flags)
    if base in DOWN_BASES or flags & DOWN_FLAGS:
        return "down"
    busy = base in BUSY_BASES or "COMPLETING" in flags
    if "DRAIN" in flags:
        return "draining" if busy else "drained"
    return "busy" if busy else "idle"


def _utc_seconds(text: str) -> int | None:
    try:
        return calendar.timegm(time.strptime(text, "%Y-%m-%dT%H:%M:%S"))
    except ValueError:  # None, Unknown: a node never busy nor registered
        return None
