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
