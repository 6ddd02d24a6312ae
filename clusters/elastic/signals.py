"""What a cluster's head reports of its batch queue (docs/elastic.md), parsed from the real commands'
output that its reporter posts through the instance API.

The reporter (`portal-instance report COLLECTOR`) posts the collector's output as text:

    system condor|slurm
    now <the head's clock, seconds since the epoch>
    [jobs]
    <the jobs command's output>
    [workers]
    <the workers command's output>

Each batch system's module turns the two outputs into `QueueSignals`; `parse` picks the module.
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass

WORKER_STATES = ("busy", "idle", "draining", "drained", "down")


class SignalError(ValueError):
    """A report that cannot be read; the message says what is wrong with it."""


@dataclass(frozen=True)
class WorkerSignal:
    name: str  # the worker's short host name, as the batch system knows it
    state: str  # one of WORKER_STATES
    idle_seconds: int | None = None  # how long idle (or drained), by the head's clock; None: unknown


@dataclass(frozen=True)
class QueueSignals:
    system: str
    idle_jobs: int
    running_jobs: int
    workers: tuple[WorkerSignal, ...] = ()


# Each batch system's module, with `parse(jobs: str, workers: str, head_now: int) -> QueueSignals`.
PARSERS = {"condor": "clusters.elastic.condor", "slurm": "clusters.elastic.slurm"}
MAX_REPORT_BYTES = 1024 * 1024
_SECTIONS = ("[jobs]", "[workers]")


def parse(text: str) -> QueueSignals:
    """The signals in a reporter's post (the format above)."""
    if len(text.encode()) > MAX_REPORT_BYTES:
        raise SignalError(f"a queue report is at most {MAX_REPORT_BYTES} bytes")
    lines = text.splitlines()
    header = {}
    while lines and lines[0] not in _SECTIONS:
        key, _, value = lines.pop(0).partition(" ")
        header[key] = value.strip()
    system = header.get("system", "")
    if system not in PARSERS:
        raise SignalError(f"unknown batch system {system!r}: one of {', '.join(PARSERS)}")
    try:
        head_now = int(header.get("now", ""))
    except ValueError:
        raise SignalError("the report's 'now' line must be the head's clock in seconds") from None
    sections = {name: [] for name in _SECTIONS}
    current = None
    for line in lines:
        if line in _SECTIONS:
            current = sections[line]
        elif current is not None:
            current.append(line)
    if not lines or lines[0] != _SECTIONS[0] or _SECTIONS[1] not in lines:
        raise SignalError("a queue report has a [jobs] section and then a [workers] section")
    module = importlib.import_module(PARSERS[system])
    return module.parse("\n".join(sections["[jobs]"]), "\n".join(sections["[workers]"]), head_now)
