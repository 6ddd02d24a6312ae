"""GET|PUT /api/v1/instance/kv/{key} (docs/launches.md, docs/api.md): the rendezvous store of a cluster, reached with
an instance token, scoped to that instance's cluster."""

import threading
import time

import pytest
from django.db import connection
from django.test import Client

from clusters import rendezvous
from clusters.models import InstanceState, RendezvousEntry
from clusters.models.rendezvous import MAX_VALUE_BYTES
from clusters.tests.instance_helpers import auth, make_cluster, make_instance

pytestmark = pytest.mark.django_db


def url(key: str) -> str:
    return f"/api/v1/instance/kv/{key}"


def put(client, token, key, value, **extra):
    return client.put(url(key), {"value": value}, content_type="application/json", **auth(token), **extra)


@pytest.fixture
def master(alice):
    return make_instance(make_cluster(alice), role="master")


@pytest.fixture
def worker(master):
    return make_instance(master[0].cluster, role="worker")


def test_an_instance_publishes_and_another_of_its_cluster_reads(client, master, worker):
    (master_instance, master_token), (_worker, worker_token) = master, worker
    answer = put(client, master_token, "master.address", "10.0.0.5")
    assert answer.status_code == 201
    answer = client.get(url("master.address"), **auth(worker_token))
    assert answer.status_code == 200
    body = answer.json()
    assert (body["key"], body["value"], body["written_by"]) == (
        "master.address",
        "10.0.0.5",
        master_instance.name,
    )
    assert body["updated"]


def test_writing_again_replaces_the_value_with_200(client, master, worker):
    put(client, master[1], "pool", "one")
    answer = put(client, worker[1], "pool", "two")
    assert answer.status_code == 200
    entry = RendezvousEntry.objects.get(cluster=master[0].cluster, key="pool")
    assert entry.value == "two" and entry.written_by == worker[0]


def test_another_cluster_does_not_see_the_key_and_writes_its_own(client, master, bob):
    put(client, master[1], "master.address", "10.0.0.5")
    stranger, stranger_token = make_instance(make_cluster(bob, "elsewhere"), role="master")
    answer = client.get(url("master.address"), **auth(stranger_token))
    assert answer.status_code == 404
    assert answer.json()["detail"]
    assert put(client, stranger_token, "master.address", "192.168.1.1").status_code == 201
    values = dict(RendezvousEntry.objects.values_list("cluster__name", "value"))
    assert values == {"demo": "10.0.0.5", "elsewhere": "192.168.1.1"}
    assert client.get(url("master.address"), **auth(master[1])).json()["value"] == "10.0.0.5"


def test_a_missing_key_is_404(client, master):
    answer = client.get(url("nothing.here"), **auth(master[1]))
    assert answer.status_code == 404
    assert answer.json() == {"detail": "no value for nothing.here in this cluster"}


def test_a_raw_text_body_and_a_raw_answer(client, master, worker):
    value = "line one\nline 'two' \"quoted\" ünïcödé\n"
    answer = client.put(url("config"), value, content_type="text/plain; charset=utf-8", **auth(master[1]))
    assert answer.status_code == 201
    answer = client.get(url("config"), HTTP_ACCEPT="text/plain", **auth(worker[1]))
    assert answer.status_code == 200
    assert answer["Content-Type"].startswith("text/plain")
    assert answer.content.decode() == value


def test_an_empty_value_is_a_value(client, master):
    assert put(client, master[1], "empty", "").status_code == 201
    # What curl sends for an empty file: a text/plain body of length 0.
    raw = client.put(url("raw-empty"), CONTENT_TYPE="text/plain", CONTENT_LENGTH="0", **auth(master[1]))
    assert raw.status_code == 201
    for key in ("empty", "raw-empty"):
        assert client.get(url(key), **auth(master[1])).json()["value"] == ""


@pytest.mark.parametrize("method", ["get", "put"])
@pytest.mark.parametrize("headers", [{}, {"HTTP_AUTHORIZATION": "Instance wrong-token-0123456789"}])
def test_no_token_or_a_wrong_one_is_401(client, master, method, headers):
    put(client, master[1], "key", "value")
    answer = getattr(client, method)(url("key"), {"value": "x"}, content_type="application/json", **headers)
    assert answer.status_code == 401
    assert answer.json()["detail"]
    assert RendezvousEntry.objects.get(key="key").value == "value"


def test_a_terminated_instance_cannot_read_or_write(client, master):
    put(client, master[1], "key", "value")
    gone, gone_token = make_instance(master[0].cluster, index=7, state=InstanceState.TERMINATED)
    assert client.get(url("key"), **auth(gone_token)).status_code == 401
    assert put(client, gone_token, "key", "other").status_code == 401


@pytest.mark.parametrize("key", [".", "..", "a b", "é", "a" * 129, "semi;colon", "a/b", "%2e%2e"])
def test_bad_key_names_are_400(client, master, key):
    for answer in (client.get(url(key), **auth(master[1])), put(client, master[1], key, "x")):
        assert answer.status_code == 400
        assert "key" in answer.json()["detail"]
    assert not RendezvousEntry.objects.exists()


def test_key_names_may_use_letters_digits_dots_dashes_underscores(client, master):
    key = "Role_1.master-address." + "x" * 106
    assert len(key) == 128
    assert put(client, master[1], key, "ok").status_code == 201
    assert client.get(url(key), **auth(master[1])).status_code == 200


def test_a_value_of_64_kib_is_kept_and_a_bigger_one_is_413(client, master):
    assert put(client, master[1], "big", "é" * (MAX_VALUE_BYTES // 2)).status_code == 201
    answer = put(client, master[1], "big", "x" * (MAX_VALUE_BYTES + 1))
    assert answer.status_code == 413
    assert "65,536" in answer.json()["detail"]
    answer = client.put(
        url("big"), "x" * (10 * MAX_VALUE_BYTES), content_type="text/plain", **auth(master[1])
    )
    assert answer.status_code == 413
    assert RendezvousEntry.objects.get(key="big").value == "é" * (MAX_VALUE_BYTES // 2)


@pytest.mark.parametrize(
    ("body", "content_type"),
    [
        ('{"value": 5}', "application/json"),
        ('{"other": "x"}', "application/json"),
        ('"just a string"', "application/json"),
        ("{broken", "application/json"),
        ('{"value": "nul \\u0000"}', "application/json"),
        (b"\xff\xfe not utf-8", "text/plain; charset=utf-8"),
    ],
)
def test_bad_bodies_are_400(client, master, body, content_type):
    answer = client.put(url("key"), body, content_type=content_type, **auth(master[1]))
    assert answer.status_code == 400
    assert answer.json()["detail"]
    assert not RendezvousEntry.objects.exists()


def test_a_cluster_holds_a_bounded_number_of_keys(client, master, monkeypatch):
    monkeypatch.setattr(rendezvous, "MAX_KEYS_PER_CLUSTER", 2)
    assert put(client, master[1], "a", "1").status_code == 201
    assert put(client, master[1], "b", "2").status_code == 201
    answer = put(client, master[1], "c", "3")
    assert answer.status_code == 400
    assert "limit" in answer.json()["detail"]
    assert put(client, master[1], "a", "changed").status_code == 200


@pytest.mark.parametrize("wait", ["soon", "-1", "nan", "inf", ""])
def test_a_bad_wait_is_400(client, master, wait):
    answer = client.get(url("key"), {"wait": wait}, **auth(master[1]))
    assert answer.status_code == 400
    assert "wait" in answer.json()["detail"]


def test_wait_gives_up_with_404_after_the_time_asked(client, master):
    started = time.monotonic()
    answer = client.get(url("never"), {"wait": "0.6"}, **auth(master[1]))
    assert answer.status_code == 404
    assert 0.5 <= time.monotonic() - started < 5


def test_wait_is_at_most_30_seconds(client, master, monkeypatch):
    asked = []

    async def without_waiting(cluster, key, seconds, look):
        asked.append(seconds)
        return await look(True)

    monkeypatch.setattr(rendezvous, "wait_for", without_waiting)
    client.get(url("key"), {"wait": "3600"}, **auth(master[1]))
    assert asked == [30]


@pytest.mark.django_db(transaction=True)
def test_wait_returns_as_soon_as_another_instance_writes_the_key(alice):
    master_instance, master_token = make_instance(make_cluster(alice), role="master")
    _worker, worker_token = make_instance(master_instance.cluster, role="worker")

    def publish_later():
        try:
            time.sleep(1)  # what is tested: the wait lasts until this write, and no longer
            put(Client(), master_token, "master.address", "10.0.0.5")
        finally:
            connection.close()  # this thread's own database connection

    writer = threading.Thread(target=publish_later)
    started = time.monotonic()
    writer.start()
    answer = Client().get(url("master.address"), {"wait": "30"}, **auth(worker_token))
    elapsed = time.monotonic() - started
    writer.join()
    assert answer.status_code == 200
    assert answer.json()["value"] == "10.0.0.5"
    assert 0.9 <= elapsed < 5, f"the wait took {elapsed:.1f} s"
