"""Shared by the pairing tests: a clean slate of wrong-PIN counters, and a VM asking for a PIN."""

import pytest
import redis
from django.conf import settings
from django.test import Client

from contexts.pairing import key_prefix


@pytest.fixture(autouse=True)
def no_wrong_pins_counted():
    client = redis.Redis.from_url(settings.CELERY_BROKER_URL)
    for key in client.scan_iter(f"{key_prefix()}*"):
        client.delete(key)


def vm_asks_for_a_pin(address="203.0.113.7", **body) -> dict:
    response = Client(REMOTE_ADDR=address).post("/api/v1/pairing/", body, content_type="application/json")
    assert response.status_code == 201, response.content
    return response.json()


def poll(data: dict):
    return Client().get(data["poll_url"])
