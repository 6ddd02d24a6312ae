"""The embedded SQLite never says "database is locked" when the web server and workers write at
once (issue: a record of a created node was lost to that error during a scale, and a new user saw it
in `make run`)."""

import threading
import time

import pytest
from django.db import connection, connections, transaction

from clusters.models import Instance
from clusters.tests.instance_helpers import make_cluster, make_instance

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def sqlite():
    if connection.vendor != "sqlite":
        pytest.skip("about the embedded SQLite database")


def test_the_database_runs_in_wal_mode_with_a_busy_timeout(sqlite):
    with connection.cursor() as cursor:
        assert cursor.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
        assert cursor.execute("PRAGMA busy_timeout").fetchone()[0] >= 5000


def test_two_transactions_that_read_then_write_the_same_row_both_succeed(sqlite, alice):
    """What a scale and a node's record do: each reads the instance, then writes it."""
    instance, _token = make_instance(make_cluster(alice))
    errors, done = [], []

    def read_then_write(value: str):
        try:
            with transaction.atomic():
                Instance.objects.get(pk=instance.pk)
                time.sleep(0.3)  # the other one reads meanwhile
                Instance.objects.filter(pk=instance.pk).update(last_error=value)
            done.append(value)
        except Exception as exc:  # noqa: BLE001 - the test reports whatever the database said
            errors.append(f"{type(exc).__name__}: {exc}")
        finally:
            connections.close_all()

    threads = [threading.Thread(target=read_then_write, args=(f"writer {n}",)) for n in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)

    assert errors == []
    assert sorted(done) == ["writer 0", "writer 1"]
