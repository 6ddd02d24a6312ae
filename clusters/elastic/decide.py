"""How many workers an elastic role should have: pure functions of the queue its head reports
(docs/elastic.md, "How decisions are made"). No I/O, no database, no clock: the caller passes `now`.

`decide` returns a `Decision` (workers to add, workers to drain, and why); `finished` names the
draining workers to terminate now. The rules, in the order they are applied:

- *live* workers are the role's instances not draining. A decision never makes live exceed max and
  never drains live below min.
- The floor: while live < min, add up to min — even when the signals are stale, during cool-down
  and whatever the budget: min is what the user asked for. Only growth above it is limited.
- Stale signals (no report, or the last one older than 3 reporting periods) freeze the size: no
  growth beyond the floor, no drain. The reason says so.
- Cool-down: within `cooldown_seconds` of the last change, nothing but the floor.
- Growth: needed = ceil(idle jobs / jobs per worker); supply = live workers the head does not list
  yet (still booting) + live workers it reports idle; add needed - supply, at most max - live and
  at most `room` (how many more workers the budget allows; None: no budget). Workers added for the
  floor count against `room` too, but the floor is added anyway.
- Shrink: only when no job is idle, drain live workers idle for at least `idle_seconds`, longest
  idle first, as many as keeps live >= min. When live > max (max was lowered), drain idle workers
  of any idle time down to max.
- Never drain a busy worker: only live workers that the current report lists as idle, drained or
  down are drained (drained and down ones first: they take no job). A worker the report does not
  list is booting and is never drained by the policy. Workers are matched by short host name,
  case-insensitively; a name the report lists twice counts as busy if any entry is busy.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime, timedelta

from clusters.elastic.signals import QueueSignals, WorkerSignal

# Reports missed before the size freezes: one late report is no reason to stop deciding.
STALE_PERIODS = 3
# A name listed twice takes its busiest state: an entry that runs a job wins over one that idles,
# and down (its job may run where the head cannot see it) over drained.
_BUSIEST_FIRST = ("busy", "draining", "idle", "down", "drained")
# States that run no job and take none: such a worker may be drained.
_RUNS_NOTHING = ("idle", "drained", "down")


class PolicyError(ValueError):
    """A policy that cannot be applied; the message says what is wrong with it."""


@dataclass(frozen=True)
class Policy:
    min: int
    max: int
    jobs_per_worker: int
    idle_seconds: int
    cooldown_seconds: int
    drain_deadline_seconds: int
    period_seconds: int = 30  # how often the head reports

    def __post_init__(self):
        if self.min < 0 or self.max < self.min:
            raise PolicyError(f"an elastic role needs 0 <= min <= max, not min {self.min}, max {self.max}")
        if self.jobs_per_worker < 1 or self.drain_deadline_seconds < 1 or self.period_seconds < 1:
            raise PolicyError("jobs per worker, the drain deadline and the period are at least 1")
        if self.idle_seconds < 0 or self.cooldown_seconds < 0:
            raise PolicyError("the idle time and the cool-down are not negative")

    @classmethod
    def from_role(cls, role: dict, period_seconds: int = 30) -> Policy:
        """The policy of a launch snapshot's role (clusters.launcher.plan)."""
        name = role.get("name", "?")
        elastic = role.get("elastic")
        if not elastic:
            raise PolicyError(f"role {name!r} is not elastic")
        if role.get("max") is None:
            raise PolicyError(f"elastic role {name!r} has no max: its growth would have no bound")
        return cls(
            min=role.get("min") or 0,
            max=role["max"],
            jobs_per_worker=elastic["jobs_per_worker"],
            idle_seconds=elastic["idle_seconds"],
            cooldown_seconds=elastic["cooldown_seconds"],
            drain_deadline_seconds=elastic["drain_deadline_seconds"],
            period_seconds=period_seconds,
        )


@dataclass(frozen=True)
class Worker:
    """An instance of the elastic role that the portal keeps alive."""

    name: str  # the instance name, which is the worker's short host name as the head reports it
    draining_since: datetime | None = None  # set once the head was told to drain it


@dataclass(frozen=True)
class Decision:
    add: int = 0
    drain: tuple[str, ...] = ()
    # Plain words for the cluster's event list. A decision that changes nothing has one only when
    # the policy holds something back (a frozen size, the budget), so the page can say why.
    reason: str = ""

    @property
    def changes(self) -> bool:
        return bool(self.add or self.drain)


def is_stale(policy: Policy, signals_at: datetime | None, now: datetime) -> bool:
    """True when the head has not reported for more than STALE_PERIODS periods."""
    return signals_at is None or now - signals_at > timedelta(seconds=STALE_PERIODS * policy.period_seconds)


def decide(
    policy: Policy,
    signals: QueueSignals | None,
    signals_at: datetime | None,
    workers: list[Worker],
    now: datetime,
    last_change: datetime | None = None,
    room: int | None = None,
) -> Decision:
    """What to do with the role now: the rules of the module's docstring."""
    live = sorted({w.name for w in workers if w.draining_since is None})
    floor = max(0, policy.min - len(live))
    if signals is None or is_stale(policy, signals_at, now):
        held = "no queue report yet" if signals_at is None else f"no queue report for {_age(signals_at, now)}"
        return _floor_or_hold(floor, live, policy, f"size frozen: {held}")
    if last_change is not None and now - last_change < timedelta(seconds=policy.cooldown_seconds):
        return _floor_or_hold(floor, live, policy, "")

    reported = _by_name(signals.workers)
    booting = [name for name in live if _key(name) not in reported]
    idle = [name for name in live if _state(reported, name) == "idle"]
    wanted = math.ceil(signals.idle_jobs / policy.jobs_per_worker) - len(booting) - len(idle)
    growth = max(0, min(wanted, policy.max - len(live)))
    allowed = growth if room is None else min(growth, max(room, 0))
    budget = f"the budget allows {_plural(max(room or 0, 0), 'more')}"
    if allowed > floor:
        at_max = allowed == growth < wanted
        reason = _growth_reason(allowed, signals, idle, booting, at_max, allowed < growth, budget)
        return Decision(add=allowed, reason=reason)
    if floor:
        return _floor_or_hold(floor, live, policy, budget if growth > floor else "")
    if growth:
        return Decision(reason=_growth_reason(0, signals, idle, booting, False, True, budget))

    drain = _to_drain(policy, signals, reported, live)
    if not drain:
        return Decision()
    why = "no idle jobs" if len(live) <= policy.max else f"{len(live)} workers, max {policy.max}"
    named = ", ".join(f"{name} ({_how_idle(reported[_key(name)])})" for name in drain)
    return Decision(drain=tuple(drain), reason=f"drain {named}: {why}")


def finished(
    policy: Policy,
    signals: QueueSignals | None,
    workers: list[Worker],
    now: datetime,
    signals_at: datetime | None = None,
) -> list[tuple[str, str]]:
    """The draining workers to terminate now, each with its reason: "drained" or "drain deadline".

    A worker is drained when the report lists it as drained, or no longer lists it. Not listed is
    safe once it was asked to drain: it left the pool, or never joined it, and either way runs no
    job. But a worker may join between a report and the drain request, so absence counts only in a
    fresh report taken after the request, which needs `signals_at`; without it, only a reported
    "drained" ends a worker early. A worker reported down is not taken for drained (its job may
    still run where the head cannot see it): the deadline ends it.
    """
    reported = _by_name(signals.workers) if signals is not None else None
    ended = []
    for worker in sorted(workers, key=lambda w: w.name):
        if worker.draining_since is None:
            continue
        if _reports_drained(policy, reported, signals_at, worker, now):
            ended.append((worker.name, "drained"))
        elif now - worker.draining_since >= timedelta(seconds=policy.drain_deadline_seconds):
            ended.append((worker.name, "drain deadline"))
    return ended


def _reports_drained(policy, reported: dict | None, signals_at, worker: Worker, now: datetime) -> bool:
    if reported is None or (signals_at is not None and signals_at < worker.draining_since):
        return False  # no report taken since the head was asked to drain it
    state = _state(reported, worker.name)
    if state == "drained":
        return True
    # Not listed: it left the pool or never joined; only a fresh report says so of now.
    return state is None and signals_at is not None and not is_stale(policy, signals_at, now)


def _floor_or_hold(floor: int, live: list[str], policy: Policy, held: str) -> Decision:
    """Add up to min, whatever holds the rest back; `held` says what does (empty: nothing to say)."""
    if not floor:
        return Decision(reason=held)
    reason = f"{_plural(floor, 'worker', '+')}: {len(live)} live, min {policy.min}"
    return Decision(add=floor, reason=f"{reason} ({held})" if held else reason)


def _to_drain(policy: Policy, signals: QueueSignals, reported: dict, live: list[str]) -> list[str]:
    """Live workers to drain: down to max whatever their idle time, down to min when no job waits."""
    candidates = sorted(
        (name for name in live if _state(reported, name) in _RUNS_NOTHING),
        key=lambda name: _drain_order(reported[_key(name)], name),
    )
    chosen = candidates[: max(0, len(live) - policy.max)]
    if signals.idle_jobs == 0:
        long_idle = [
            name for name in candidates if name not in chosen and _idle_long(policy, reported[_key(name)])
        ]
        chosen += long_idle[: len(live) - policy.min - len(chosen)]
    return chosen


def _idle_long(policy: Policy, signal: WorkerSignal) -> bool:
    if signal.state != "idle":
        return True  # drained or down: it takes no job however long it has been so
    return signal.idle_seconds is not None and signal.idle_seconds >= policy.idle_seconds


def _drain_order(signal: WorkerSignal, name: str) -> tuple:
    """Drained and down workers first, then the longest idle; an unknown idle time last."""
    idle_for = signal.idle_seconds if signal.idle_seconds is not None else -1
    return (signal.state == "idle", -idle_for, name)


def _growth_reason(add, signals, idle, booting, at_max, by_budget, budget) -> str:
    wants = f"{_plural(signals.idle_jobs, 'idle job')}, {_plural(len(idle), 'idle worker')}"
    if booting:
        wants += f", {len(booting)} starting"
    if at_max:
        wants += ", at max"
    if by_budget:
        wants += f", {budget}"
    if not add:
        return f"no growth: {wants}"
    return f"{_plural(add, 'worker', '+')}: {wants}"


def _by_name(signals: tuple[WorkerSignal, ...]) -> dict[str, WorkerSignal]:
    """The report's workers by short name; a name listed twice keeps its busiest, least idle entry."""
    merged: dict[str, WorkerSignal] = {}
    for signal in signals:
        key = _key(signal.name)
        seen = merged.get(key)
        if seen is None or _rank(signal) < _rank(seen):
            merged[key] = signal
    return merged


def _rank(signal: WorkerSignal) -> tuple:
    state = _BUSIEST_FIRST.index(signal.state) if signal.state in _BUSIEST_FIRST else -1
    idle_for = signal.idle_seconds if signal.idle_seconds is not None else -1
    return (state, idle_for)


def _state(reported: dict[str, WorkerSignal], name: str) -> str | None:
    signal = reported.get(_key(name))
    return signal.state if signal is not None else None


def _key(name: str) -> str:
    return name.split(".", 1)[0].lower()


def _how_idle(signal: WorkerSignal) -> str:
    if signal.state != "idle":
        return signal.state
    return "idle" if signal.idle_seconds is None else f"idle {_duration(signal.idle_seconds)}"


def _age(then: datetime, now: datetime) -> str:
    return _duration(int((now - then).total_seconds()))


def _duration(seconds: int) -> str:
    if seconds < 120:
        return f"{seconds} s"
    if seconds < 2 * 3600:
        return f"{seconds // 60} min"
    return f"{seconds // 3600} h"


def _plural(count: int, noun: str, sign: str = "") -> str:
    return f"{sign}{count} {noun}{'' if count == 1 or noun == 'more' else 's'}"
