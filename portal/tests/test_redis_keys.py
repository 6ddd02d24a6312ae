"""Every Redis key the portal writes carries the run's prefix, through one function, so that two
test runs (or a test run and `make run`) on one machine never share a key (issue: the API-slot
semaphore and the monitor's "list soon" keys ignored it, so two runs shared a cloud's API slots)."""

import re
from pathlib import Path

from django.conf import settings

from clusters import cloudside, destroys, recording, rendezvous
from clusters.limits import CloudSemaphore
from contexts import pairing
from portal.redis_keys import redis_key

ROOT = Path(__file__).resolve().parents[2]
PREFIX = settings.CELERY_BROKER_TRANSPORT_OPTIONS["global_keyprefix"]


def test_every_kind_of_key_is_under_the_runs_prefix():
    keys = [
        CloudSemaphore("portal-1", 4).key,
        cloudside._created_key("4f1d6c36-0000-4000-8000-000000000000"),
        destroys._key(1, "i-0", "gate"),
        recording._cycle_key(1),
        rendezvous._channel(),
        pairing.key_prefix(),
        redis_key("anything"),
    ]
    assert [key for key in keys if not key.startswith(f"{PREFIX}context-portal:")] == []


def test_no_module_spells_a_key_of_its_own():
    spelled = re.compile(r"context-portal:[a-z{]")  # a key; "context-portal: ..." is a message
    found = [
        f"{path.relative_to(ROOT)}:{number}"
        for package in ("clusters", "contexts", "portal")
        for path in (ROOT / package).rglob("*.py")
        if "tests" not in path.parts and path.name != "redis_keys.py"
        for number, line in enumerate(path.read_text().splitlines(), 1)
        if spelled.search(line)
    ]
    assert found == []
