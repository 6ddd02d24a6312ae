"""How a GET /api/v1/instance/kv/{key}?wait= waits (docs/instance-api.md): woken by the write's
announcement on Redis rather than by reading the database over and over, and never losing a
value when an announcement is lost."""

import threading
import time

import pytest
import redis
from django.conf import settings
from django.db import connection, transaction
from django.test import Client
from django.test.utils import CaptureQueriesContext

from clusters import rendezvous
from clusters.tests.conftest import free_port
from clusters.tests.instance_helpers import auth, make_cluster, make_instance, wait_until_a_waiter_listens
from portal.testing.waits import DEADLINE

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def pair(alice):
    """(master, its token, worker token) of one cluster."""
    master, master_token = make_instance(make_cluster(alice), role="master")
    _worker, worker_token = make_instance(master.cluster, role="worker")
    return master, master_token, worker_token


def put(token: str, key: str, value: str):
    return Client().put(f"/api/v1/instance/kv/{key}", value, content_type="text/plain", **auth(token))


def first_look(monkeypatch) -> threading.Event:
    """An event set once a wait's look (its read of the key) found nothing the first time."""
    looked, wait_for = threading.Event(), rendezvous.wait_for

    async def observed(cluster, key, seconds, look):
        async def noted(final):
            answer = await look(final)
            if answer is None:
                looked.set()
            return answer

        return await wait_for(cluster, key, seconds, noted)

    monkeypatch.setattr(rendezvous, "wait_for", observed)
    return looked


class Waiter(threading.Thread):
    """A GET ?wait= in a thread of its own, counting the queries it makes."""

    def __init__(self, token: str, key: str, seconds: float):
        super().__init__()
        self.url, self.token, self.seconds = f"/api/v1/instance/kv/{key}", token, seconds

    def run(self):
        try:
            with CaptureQueriesContext(connection) as queries:
                self.answer = Client().get(self.url, {"wait": self.seconds}, HTTP_ACCEPT="text/plain",
                                           **auth(self.token))  # fmt: skip
            self.answered, self.queries = time.monotonic(), len(queries)
        finally:
            connection.close()  # this thread's own database connection


def test_a_waiter_sleeps_until_the_key_is_written_then_answers_at_once(pair):
    _master, master_token, worker_token = pair
    waiter = Waiter(worker_token, "master.address", 30)
    waiter.start()
    wait_until_a_waiter_listens()
    assert put(master_token, "master.address", "10.0.0.5").status_code == 201
    written = time.monotonic()
    waiter.join(timeout=DEADLINE)
    assert (waiter.answer.status_code, waiter.answer.content) == (200, b"10.0.0.5")
    assert waiter.answered - written < 0.2
    # A look when it arrives, one once it listens and one when woken, each checking the token
    # and reading the key; reading the key four times a second made 9 queries by then.
    assert waiter.queries <= 6


def test_a_write_is_announced_once_committed_on_the_channel_of_this_test_run(pair):
    master, master_token, _worker_token = pair
    listener = redis.Redis.from_url(settings.CELERY_BROKER_URL).pubsub(ignore_subscribe_messages=True)
    channel = f"{settings.CELERY_BROKER_TRANSPORT_OPTIONS['global_keyprefix']}context-portal:rendezvous"
    listener.subscribe(channel)
    try:
        with transaction.atomic():
            rendezvous.write(master, "role", "master")
            assert listener.get_message(timeout=0.5) is None
        message = listener.get_message(timeout=2)
    finally:
        listener.close()
    assert message["data"] == f"{master.cluster.pk}:role".encode()


def test_a_lost_announcement_only_delays_the_answer_to_the_end_of_the_wait(pair, monkeypatch, caplog):
    _master, master_token, worker_token = pair
    # A Redis that is down: nothing listens on that port.
    monkeypatch.setattr(settings, "CELERY_BROKER_URL", f"redis://127.0.0.1:{free_port()}/0")
    rendezvous._publisher.cache_clear()
    # Long enough for the write to land between the first look and the last on a loaded machine; no
    # look in between, when the listener would try Redis again.
    seconds = 5.0
    monkeypatch.setattr(rendezvous, "RETRY_SECONDS", 60)
    looked = first_look(monkeypatch)
    try:
        waiter = Waiter(worker_token, "master.address", seconds)
        started = time.monotonic()
        waiter.start()
        assert looked.wait(DEADLINE), "the waiter never looked"  # found nothing: the key is written after
        assert put(master_token, "master.address", "10.0.0.5").status_code == 201
        waiter.join(timeout=DEADLINE)
    finally:
        rendezvous._publisher.cache_clear()
    assert (waiter.answer.status_code, waiter.answer.content) == (200, b"10.0.0.5")
    assert seconds - 0.1 <= waiter.answered - started < rendezvous.RETRY_SECONDS  # the look at its end
    assert "Could not announce rendezvous key master.address" in caplog.text
    assert "Rendezvous waits cannot listen to Redis" in caplog.text
