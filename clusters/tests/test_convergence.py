"""No VM outlives its instance (issue 11): random sequences of launches, scale-ups, scale-downs and
terminations, with random pauses and faults, on the real stack — Celery worker processes on the
test's own queues, Redis, moto's EC2 server, the test database (SQLite, or PostgreSQL with
DATABASE_URL). After each sequence the monitor runs its cycles (what the beat does every
MONITOR_INTERVAL) until the cloud and the portal agree two cycles in a row, for at most
CONVERGENCE_SETTLE_SECONDS; then the cloud's live nodes (pending or running) with this portal's and
this cloud's tags must be exactly the nodes of the portal's live instances, no instance may be left
requested, launching or terminating, and every cluster must be running, degraded, failed or
terminated.

The faults, all real (clusters/tests/convergence_helpers.py): a worker's process group SIGKILLed
while it has a task in hand, and a new worker started; a record message taken off the wire between
the cloud side and the portal side; record tasks whose writes fail because the database is busy
(SQLite: this process holds the write lock longer than the workers' busy timeout; PostgreSQL: it
locks the instances table and terminates the backends waiting for it).

Time runs faster for the workers than in production, as in the other fault tests: a create left
without an answer is sent again after LAUNCH_STALE_AFTER = 15 s, not 600 s; on SQLite they wait
1 s for a busy database, not 30; a node list whose report was dropped holds its cloud back for
MONITOR_CYCLE_TIMEOUT = 10 s, not 120 (the settle time is 60 s).

Each sequence is drawn from its seed alone and the seed is printed first; the end says how many
sequences ran, how many nodes moto made, and how many were left over. A failure prints the
sequence, what happened, the nodes without an instance, the instances without a node, and the
command that replays it:
    CONVERGENCE_SEED=1234 .venv/bin/python -m pytest clusters/tests/test_convergence.py -m slow
A replay repeats the operations and faults, not the workers' timing: CONVERGENCE_REPEAT=5 runs each
seed five times. CONVERGENCE_SEQUENCES (50; 1 with CONVERGENCE_SEED) sequences run, from seed
CONVERGENCE_SEED (random) on; the test stops after CONVERGENCE_MAX_FAILURES (5) failing sequences;
CONVERGENCE_VERBOSE=1 prints every sequence in full (a replayed seed always is).
"""

import os
import random
from functools import partial

import pytest
from django.db import connection

from clusters.tests.convergence_helpers import (
    NEEDS_MASTER,
    Crew,
    Relay,
    Stack,
    postgres_backends_terminated,
    run_sequence,
    sqlite_write_lock,
)
from clusters.tests.fault_helpers import NODE, Queues, Workers
from contexts.profiles import create_profile

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]

FIRST_SEED = int(os.environ.get("CONVERGENCE_SEED") or random.SystemRandom().randrange(1, 1_000_000))
SEQUENCES = int(os.environ.get("CONVERGENCE_SEQUENCES") or (1 if os.environ.get("CONVERGENCE_SEED") else 50))
SETTLE_SECONDS = float(os.environ.get("CONVERGENCE_SETTLE_SECONDS") or 60)
MAX_FAILURES = int(os.environ.get("CONVERGENCE_MAX_FAILURES") or 5)
# Each seed this many times: a seed replays its operations, not the timing of the workers.
REPEAT = int(os.environ.get("CONVERGENCE_REPEAT") or 1)
# Every sequence in full, converged or not (a replayed seed always).
VERBOSE = bool(os.environ.get("CONVERGENCE_VERBOSE") or os.environ.get("CONVERGENCE_SEED") and SEQUENCES == 1)
# Read by the worker processes' settings (portal/settings.py, clusters/tests/fault_settings.py).
WORKER_ENVIRONMENT = {"LAUNCH_STALE_AFTER": "15", "FAULT_SQLITE_TIMEOUT": "1"}
COMMAND = ".venv/bin/python -m pytest clusters/tests/test_convergence.py -m slow"


def replay_command() -> str:
    database = f"DATABASE_URL={os.environ['DATABASE_URL']} " if connection.vendor == "postgresql" else ""
    return f"CONVERGENCE_SEED={{seed}} {database}{COMMAND}"


@pytest.fixture
def stack(alice, moto_ec2, transactional_db, tmp_path, monkeypatch, settings):
    from conftest import _database_url

    settings.MONITOR_CYCLE_TIMEOUT = 10  # the monitor's cycles run in this process

    for name, value in WORKER_ENVIRONMENT.items():
        monkeypatch.setenv(name, value)
    queues = Queues()
    wire = f"{queues.cloud}-wire"
    if connection.vendor == "sqlite":
        database_fault = partial(sqlite_write_lock, connection.settings_dict["NAME"])
    else:
        database_fault = partial(postgres_backends_terminated, _database_url(connection.settings_dict))
    profiles = {"plain": create_profile(alice, "plain node", NODE),
                "needs": create_profile(alice, "needs master", NEEDS_MASTER)}  # fmt: skip
    workers, relay = Workers(tmp_path), Relay(wire, queues.results)
    relay.start()
    try:
        crew = Crew(workers, [queues.cloud, queues.results], wire)
        queue_names = [queues.cloud, queues.results, wire]
        yield Stack(alice, moto_ec2, queue_names, crew, relay, profiles, database_fault, SETTLE_SECONDS,
                    replay_command())  # fmt: skip
    finally:
        workers.stop_all()  # before the test database is emptied
        relay.stop()


def test_random_sequences_with_faults_leave_no_node_without_its_instance(stack, capsys):
    outcomes = []
    seeds = [seed for seed in range(FIRST_SEED, FIRST_SEED + SEQUENCES) for _ in range(REPEAT)]
    for number, seed in enumerate(seeds, 1):
        with capsys.disabled():
            print(f"\nsequence {number}/{len(seeds)}, seed {seed}", end="", flush=True)
        outcome = run_sequence(stack, seed, number)
        outcomes.append(outcome)
        with capsys.disabled():
            print(outcome.summary(), end="", flush=True)
            if VERBOSE:
                print("".join(f"\n    {line}" for line in outcome.details()), end="", flush=True)
        if sum(not o.converged for o in outcomes) >= MAX_FAILURES:
            break

    failed = [o for o in outcomes if not o.converged]
    again = f"CONVERGENCE_SEED={FIRST_SEED} CONVERGENCE_SEQUENCES={SEQUENCES}" + (
        f" CONVERGENCE_REPEAT={REPEAT}" if REPEAT > 1 else ""
    )
    summary = (f"{len(outcomes)} sequences from seed {FIRST_SEED} on {connection.vendor}: "
               f"{sum(o.created for o in outcomes)} nodes created, "
               f"{sum(o.left_over for o in outcomes)} left over; {len(failed)} did not converge"
               f"{': seeds ' if failed else ''}{', '.join(str(o.plan.seed) for o in failed)} "
               f"(the run again: {again})")  # fmt: skip
    with capsys.disabled():
        print(f"\n{summary}")
    assert not stack.relay.errors, f"the test's relay failed: {stack.relay.errors}"
    assert not failed, "\n\n".join([summary] + [o.report(stack.replay, stack.settle_seconds) for o in failed])
