"""The API-concurrency limit holds across processes, on the real Redis the workers use."""

import multiprocessing
import time
import uuid

import pytest
import redis
from django.conf import settings

from clusters.limits import CloudSemaphore, SlotTimeout
from portal.testing.waits import DEADLINE


def _hold_slots(name, limit, rounds, url, counter_key, together):
    client = redis.Redis.from_url(url)
    semaphore = CloudSemaphore(name, limit, client=client)
    together.wait(DEADLINE)  # all at once, however slowly each process started
    for _ in range(rounds):
        with semaphore.slot(timeout=DEADLINE):
            now = client.incr(counter_key)
            client.rpush(counter_key + ":seen", now)
            time.sleep(0.01)
            client.decr(counter_key)


@pytest.fixture
def name():
    return f"test-{uuid.uuid4().hex}"


def test_at_most_limit_holders_at_once_across_processes(name):
    url = settings.CELERY_BROKER_URL
    counter = f"context-portal:test:{name}"
    spawn = multiprocessing.get_context("spawn")
    together = spawn.Barrier(6)
    processes = [
        spawn.Process(target=_hold_slots, args=(name, 3, 10, url, counter, together)) for _ in range(6)
    ]
    for p in processes:
        p.start()
    for p in processes:
        p.join(DEADLINE * 2)
    client = redis.Redis.from_url(url)
    seen = [int(v) for v in client.lrange(counter + ":seen", 0, -1)]
    client.delete(counter, counter + ":seen")
    assert len(seen) == 60
    assert max(seen) == 3  # the limit was reached, never passed


def test_a_slot_of_a_killed_holder_frees_itself_when_its_lease_ends(name):
    dead = CloudSemaphore(name, 1, lease=0.5)
    assert dead.try_acquire() is not None  # never released: its process "died"
    waiting = CloudSemaphore(name, 1)
    assert waiting.try_acquire() is None
    time.sleep(0.6)  # what is tested: the lease runs out
    assert waiting.try_acquire() is not None


def test_waiting_too_long_for_a_slot_is_an_error(name):
    semaphore = CloudSemaphore(name, 1)
    semaphore.try_acquire()
    with pytest.raises(SlotTimeout), semaphore.slot(timeout=0.2):
        pass
