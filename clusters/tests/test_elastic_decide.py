"""The elastic policy (clusters/elastic/decide.py): the rules as examples, then as properties over
random policies, reports, workers and times."""

import math
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from clusters.elastic.decide import Decision, Policy, PolicyError, Worker, decide, finished, is_stale
from clusters.elastic.signals import WORKER_STATES, QueueSignals, WorkerSignal

NOW = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)
POLICY = Policy(
    min=0, max=20, jobs_per_worker=1, idle_seconds=600, cooldown_seconds=120, drain_deadline_seconds=3600
)


def ago(seconds):
    return NOW - timedelta(seconds=seconds)


def report(idle_jobs=0, *workers, running_jobs=0):
    """Signals with workers given as (name, state, idle seconds)."""
    return QueueSignals("condor", idle_jobs, running_jobs, tuple(WorkerSignal(*w) for w in workers))


def workers(*names):
    return [Worker(name) for name in names]


def test_it_adds_a_worker_per_idle_job_up_to_max():
    decision = decide(POLICY, report(212), ago(10), [], NOW)
    assert decision == Decision(add=20, reason="+20 workers: 212 idle jobs, 0 idle workers, at max")


def test_it_rounds_the_workers_needed_up():
    policy = Policy(0, 20, jobs_per_worker=4, idle_seconds=600, cooldown_seconds=0, drain_deadline_seconds=60)
    assert decide(policy, report(9), ago(10), [], NOW).add == 3


def test_starting_and_idle_workers_count_as_supply():
    # worker-1 is not listed yet (booting), worker-2 idles, worker-3 is busy.
    signals = report(5, ("worker-2", "idle", 30), ("worker-3", "busy", None))
    decision = decide(POLICY, signals, ago(10), workers("worker-1", "worker-2", "worker-3"), NOW)
    assert decision == Decision(add=3, reason="+3 workers: 5 idle jobs, 1 idle worker, 1 starting")


def test_the_budget_limits_growth():
    decision = decide(POLICY, report(212), ago(10), [], NOW, room=3)
    assert decision.add == 3
    assert decision.reason == "+3 workers: 212 idle jobs, 0 idle workers, the budget allows 3 more"


def test_a_spent_budget_adds_nothing_and_says_so():
    decision = decide(POLICY, report(212), ago(10), workers("worker-1"), NOW, room=0)
    assert decision.add == 0 and not decision.changes
    assert decision.reason == "no growth: 212 idle jobs, 0 idle workers, 1 starting, the budget allows 0 more"


def test_it_adds_up_to_min_whatever_holds_growth_back():
    policy = Policy(
        3, 20, jobs_per_worker=1, idle_seconds=600, cooldown_seconds=120, drain_deadline_seconds=60
    )
    live = workers("worker-1")
    stale = decide(policy, None, None, live, NOW, room=0)
    assert stale == Decision(add=2, reason="+2 workers: 1 live, min 3 (size frozen: no queue report yet)")
    cooling = decide(policy, report(100), ago(10), live, NOW, last_change=ago(30), room=0)
    assert cooling == Decision(add=2, reason="+2 workers: 1 live, min 3")
    broke = decide(policy, report(100), ago(10), live, NOW, room=0)
    assert broke == Decision(add=2, reason="+2 workers: 1 live, min 3 (the budget allows 0 more)")


def test_stale_signals_freeze_the_size():
    idle = workers("worker-1", "worker-2")
    signals = report(0, ("worker-1", "idle", 3600), ("worker-2", "idle", 3600))
    frozen = decide(POLICY, signals, ago(95), idle, NOW)
    assert frozen == Decision(reason="size frozen: no queue report for 95 s")
    assert decide(POLICY, report(50), ago(95), [], NOW) == frozen


def test_a_report_three_periods_old_is_still_fresh():
    assert not is_stale(POLICY, ago(90), NOW)
    assert is_stale(POLICY, ago(91), NOW)
    assert decide(POLICY, report(2), ago(90), [], NOW).add == 2


def test_cool_down_holds_every_change_but_the_floor():
    assert decide(POLICY, report(50), ago(10), [], NOW, last_change=ago(119)) == Decision()
    assert decide(POLICY, report(50), ago(10), [], NOW, last_change=ago(120)).add == 20
    idle = report(0, ("worker-1", "idle", 3600))
    assert decide(POLICY, idle, ago(10), workers("worker-1"), NOW, last_change=ago(60)) == Decision()


def test_it_drains_workers_idle_long_enough_longest_first_down_to_min():
    policy = Policy(1, 20, jobs_per_worker=1, idle_seconds=600, cooldown_seconds=0, drain_deadline_seconds=60)
    signals = report(
        0,
        ("worker-3", "idle", 600),
        ("worker-7", "idle", 720),
        ("worker-8", "idle", 650),
        ("worker-9", "idle", 599),
    )
    live = workers("worker-3", "worker-7", "worker-8", "worker-9")
    decision = decide(policy, signals, ago(10), live, NOW)
    assert decision == Decision(
        drain=("worker-7", "worker-8", "worker-3"),
        reason="drain worker-7 (idle 12 min), worker-8 (idle 10 min), worker-3 (idle 10 min): no idle jobs",
    )
    # With min 0, worker-9 stays all the same: it has not been idle long enough.
    policy = Policy(0, 20, jobs_per_worker=1, idle_seconds=600, cooldown_seconds=0, drain_deadline_seconds=60)
    assert decide(policy, signals, ago(10), live, NOW).drain == ("worker-7", "worker-8", "worker-3")
    # With min 2, worker-3 (the shortest idle of the three) stays.
    policy = Policy(2, 20, jobs_per_worker=1, idle_seconds=600, cooldown_seconds=0, drain_deadline_seconds=60)
    assert decide(policy, signals, ago(10), live, NOW).drain == ("worker-7", "worker-8")


def test_drained_and_down_workers_go_first():
    signals = report(0, ("worker-1", "idle", 3600), ("worker-2", "down", None), ("worker-3", "drained", 5))
    policy = Policy(1, 20, jobs_per_worker=1, idle_seconds=600, cooldown_seconds=0, drain_deadline_seconds=60)
    decision = decide(policy, signals, ago(10), workers("worker-1", "worker-2", "worker-3"), NOW)
    assert decision.drain == ("worker-3", "worker-2")
    assert decision.reason == "drain worker-3 (drained), worker-2 (down): no idle jobs"


def test_nothing_is_drained_while_jobs_wait():
    signals = report(1, ("worker-1", "idle", 3600), ("worker-2", "idle", 3600))
    decision = decide(POLICY, signals, ago(10), workers("worker-1", "worker-2"), NOW)
    assert decision == Decision()


def test_busy_draining_and_unlisted_workers_are_never_drained():
    signals = report(0, ("worker-1", "busy", None), ("worker-2", "draining", None), ("other", "idle", 9999))
    live = workers("worker-1", "worker-2", "worker-3")
    assert decide(POLICY, signals, ago(10), live, NOW) == Decision()


def test_a_name_listed_twice_is_busy_if_any_entry_is():
    signals = report(0, ("worker-1", "idle", 3600), ("WORKER-1.example.org", "busy", None))
    assert decide(POLICY, signals, ago(10), workers("worker-1"), NOW) == Decision()


def test_a_lowered_max_drains_idle_workers_of_any_idle_time():
    policy = Policy(0, 2, jobs_per_worker=1, idle_seconds=600, cooldown_seconds=0, drain_deadline_seconds=60)
    signals = report(
        9,
        ("worker-1", "busy", None),
        ("worker-2", "idle", 5),
        ("worker-3", "idle", 40),
        ("worker-4", "idle", 1),
    )
    live = workers("worker-1", "worker-2", "worker-3", "worker-4")
    decision = decide(policy, signals, ago(10), live, NOW)
    assert decision == Decision(
        drain=("worker-3", "worker-2"),
        reason="drain worker-3 (idle 40 s), worker-2 (idle 5 s): 4 workers, max 2",
    )


def test_draining_workers_are_not_live():
    policy = Policy(2, 3, jobs_per_worker=1, idle_seconds=600, cooldown_seconds=0, drain_deadline_seconds=60)
    going = [Worker("worker-1", draining_since=ago(30)), Worker("worker-2", draining_since=ago(30))]
    decision = decide(policy, report(0), ago(10), [*going, Worker("worker-3")], NOW)
    assert decision == Decision(add=1, reason="+1 worker: 1 live, min 2")


def test_a_policy_comes_from_a_launch_snapshot_role():
    role = {
        "name": "worker",
        "min": 0,
        "max": 20,
        "elastic": {
            "jobs_per_worker": 2,
            "idle_seconds": 600,
            "cooldown_seconds": 120,
            "drain_deadline_seconds": 3600,
        },
    }
    assert Policy.from_role(role, period_seconds=5) == Policy(0, 20, 2, 600, 120, 3600, period_seconds=5)
    with pytest.raises(PolicyError, match="'worker' has no max"):
        Policy.from_role(role | {"max": None})
    with pytest.raises(PolicyError, match="'worker' is not elastic"):
        Policy.from_role(role | {"elastic": None})
    with pytest.raises(PolicyError, match="min 3, max 2"):
        Policy.from_role(role | {"min": 3, "max": 2})


# finished: which draining workers end now.
DRAINING = [Worker("worker-1", draining_since=ago(100)), Worker("worker-2", draining_since=ago(3600))]


def test_a_worker_the_head_reports_drained_ends():
    signals = report(0, ("worker-1", "drained", 10), ("worker-2", "busy", None), ("worker-3", "drained", 10))
    ended = finished(POLICY, signals, [*DRAINING, Worker("worker-3")], NOW, signals_at=ago(5))
    assert ended == [("worker-1", "drained"), ("worker-2", "drain deadline")]


def test_a_busy_or_down_draining_worker_waits_for_its_deadline():
    signals = report(0, ("worker-1", "busy", None), ("worker-2", "down", None))
    assert finished(POLICY, signals, DRAINING, NOW, signals_at=ago(5)) == [("worker-2", "drain deadline")]
    assert finished(POLICY, None, DRAINING, NOW) == [("worker-2", "drain deadline")]


def test_a_worker_gone_from_a_fresh_report_taken_after_the_drain_request_ends():
    signals = report(0, ("worker-2", "busy", None))
    assert finished(POLICY, signals, DRAINING[:1], NOW, signals_at=ago(5)) == [("worker-1", "drained")]
    # The report may predate the worker joining: a stale one, one from before the request, or one
    # of unknown age does not count.
    assert finished(POLICY, signals, DRAINING[:1], NOW, signals_at=ago(95)) == []
    assert finished(POLICY, signals, DRAINING[:1], NOW, signals_at=ago(101)) == []
    assert finished(POLICY, signals, DRAINING[:1], NOW) == []


def test_a_drained_state_reported_before_the_drain_request_does_not_count():
    signals = report(0, ("worker-1", "drained", 500))
    assert finished(POLICY, signals, DRAINING[:1], NOW, signals_at=ago(101)) == []
    assert finished(POLICY, signals, DRAINING[:1], NOW) == [("worker-1", "drained")]


# Properties over random input: policies, reports naming the portal's workers or others (the head,
# workers gone or of other roles, a name twice), in any state, at any age, with or without budget.
NAMES = [f"worker-{i}" for i in range(12)]
FOREIGN = ["head", "other-1", "WORKER-1.example.org"]

policies = st.builds(
    lambda low, extra, jpw, idle, cool, deadline, period: Policy(
        low, low + extra, jpw, idle, cool, deadline, period
    ),
    st.integers(0, 4),
    st.integers(0, 10),
    st.integers(1, 8),
    st.integers(0, 1800),
    st.integers(0, 600),
    st.integers(1, 3600),
    st.integers(1, 60),
)


@dataclass(frozen=True)
class Situation:
    policy: Policy
    signals: QueueSignals | None
    signals_at: datetime | None
    workers: list
    last_change: datetime | None
    room: int | None

    def decide(self):
        return decide(
            self.policy, self.signals, self.signals_at, self.workers, NOW, self.last_change, self.room
        )

    @property
    def live(self):
        return {w.name for w in self.workers if w.draining_since is None}

    @property
    def floor(self):
        return max(0, self.policy.min - len(self.live))

    @property
    def frozen(self):
        return self.signals is None or is_stale(self.policy, self.signals_at, NOW)

    @property
    def cooling(self):
        cooldown = timedelta(seconds=self.policy.cooldown_seconds)
        return self.last_change is not None and NOW - self.last_change < cooldown

    def listed(self, name):
        """The report's entries for a worker: by short host name, case-insensitively."""
        listed = self.signals.workers if self.signals else ()
        return [s for s in listed if s.name.split(".")[0].lower() == name.lower()]


def situation(policy, workers, report, ages, missing, room):
    """A situation from plain draws (cheaper to make and to shrink than nested strategies)."""
    workers = [Worker(name, ago(since) if since >= 0 else None) for name, since in workers]
    # A listed name is one of the portal's workers as often as not.
    pool = [w.name for w in workers] * 2 + NAMES + FOREIGN
    idle_jobs, running_jobs, listed = report
    signals = QueueSignals(
        "condor",
        max(idle_jobs, 0),  # an empty queue half the time: that is when workers are drained
        running_jobs,
        tuple(
            WorkerSignal(pool[i % len(pool)], state, idle if idle >= 0 else None) for i, state, idle in listed
        ),
    )
    # A report's age and the last change fall near the staleness limit and the cool-down.
    report_age, change_age = ages
    signals_at = ago(-5 + report_age * 4 * policy.period_seconds // 100)
    last_change = ago(change_age * 2 * policy.cooldown_seconds // 100)
    return Situation(
        policy,
        None if "signals" in missing else signals,
        None if "signals_at" in missing else signals_at,
        workers,
        None if "last_change" in missing else last_change,
        None if "room" in missing else room,
    )


situations = st.builds(
    situation,
    policies,
    st.lists(
        st.tuples(st.sampled_from(NAMES), st.integers(-14400, 7200)), max_size=12, unique_by=lambda w: w[0]
    ),
    st.tuples(
        st.integers(-300, 300),
        st.integers(0, 300),
        st.lists(
            st.tuples(st.integers(0, 63), st.sampled_from(WORKER_STATES), st.integers(-600, 3600)),
            max_size=16,
        ),
    ),
    st.tuples(st.integers(0, 100), st.integers(0, 101)),
    st.sets(st.sampled_from(["signals", "signals_at", "last_change", "room"]), max_size=1),
    st.integers(0, 30),
)


PROPERTY = settings(max_examples=300, deadline=None)


@PROPERTY
@given(situations)
def test_a_decision_keeps_the_size_within_min_and_max(s):
    decision = s.decide()
    assert decision.add >= 0
    assert not (decision.add and decision.drain)
    if decision.add:
        assert len(s.live) + decision.add <= s.policy.max
    if decision.drain:
        assert len(s.live) - len(decision.drain) >= s.policy.min
    assert decision.add >= s.floor


@PROPERTY
@given(situations)
def test_only_live_workers_the_report_shows_running_nothing_are_drained(s):
    drain = s.decide().drain
    assert len(set(drain)) == len(drain)
    assert set(drain) <= s.live
    for name in drain:
        assert s.listed(name), f"{name} is not in the report"
        assert all(signal.state in ("idle", "drained", "down") for signal in s.listed(name))


@PROPERTY
@given(situations)
def test_shrinking_waits_for_an_empty_queue_and_long_idle_workers(s):
    drain = s.decide().drain
    over_max = len(s.live) - s.policy.max
    if s.signals is not None and s.signals.idle_jobs > 0:
        assert len(drain) <= max(0, over_max)
    if over_max <= 0:
        for name in drain:
            idle = [signal for signal in s.listed(name) if signal.state == "idle"]
            assert all(signal.idle_seconds >= s.policy.idle_seconds for signal in idle)


@PROPERTY
@given(situations)
def test_stale_signals_and_cool_down_allow_only_the_floor(s):
    decision = s.decide()
    if s.frozen or s.cooling:
        assert decision == Decision(add=s.floor, reason=decision.reason)
    if s.frozen:
        assert "size frozen" in decision.reason


@PROPERTY
@given(situations)
def test_growth_stays_within_the_budget_and_the_jobs_waiting(s):
    decision = s.decide()
    if s.room is not None:
        assert decision.add <= max(s.room, s.floor)
    if decision.add > s.floor:
        assert decision.add <= math.ceil(s.signals.idle_jobs / s.policy.jobs_per_worker)
    if decision.changes:
        assert decision.reason


@PROPERTY
@given(situations, st.randoms(use_true_random=False))
def test_a_decision_depends_on_the_input_not_its_order(s, rnd):
    decision = s.decide()
    assert s.decide() == decision
    workers, signals = list(s.workers), s.signals
    rnd.shuffle(workers)
    if signals is not None:
        listed = list(signals.workers)
        rnd.shuffle(listed)
        signals = QueueSignals(signals.system, signals.idle_jobs, signals.running_jobs, tuple(listed))
    assert replace(s, workers=workers, signals=signals).decide() == decision


@PROPERTY
@given(situations)
def test_only_drained_or_overdue_draining_workers_end(s):
    ended = finished(s.policy, s.signals, s.workers, NOW, s.signals_at)
    by_name = {w.name: w for w in s.workers}
    assert len({name for name, _ in ended}) == len(ended)
    for name, reason in ended:
        since = by_name[name].draining_since
        assert since is not None
        if reason == "drain deadline":
            assert NOW - since >= timedelta(seconds=s.policy.drain_deadline_seconds)
        else:
            assert reason == "drained"
            assert s.signals_at is None or s.signals_at >= since
            assert all(signal.state == "drained" for signal in s.listed(name))
            assert s.listed(name) or not s.frozen


def test_the_properties_see_every_kind_of_decision():
    """The situations reach growth, the floor, drains, frozen sizes and the budget, so the properties
    above test each rule."""
    seen = set()

    @settings(max_examples=300, deadline=None, database=None, derandomize=True)
    @given(situations)
    def collect(s):
        decision = s.decide()
        seen.add("growth" if decision.add > s.floor else "floor" if decision.add else None)
        seen.add("drain" if decision.drain else None)
        seen.add("frozen" if "frozen" in decision.reason else None)
        seen.add("budget" if "budget" in decision.reason else None)
        seen.add("ended" if finished(s.policy, s.signals, s.workers, NOW, s.signals_at) else None)

    collect()
    assert {"growth", "floor", "drain", "frozen", "budget", "ended"} <= seen
