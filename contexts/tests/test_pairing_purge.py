"""Old pairing requests are deleted: every hour Celery beat runs `contexts.purge_pairings`, which
removes PINs that expired an hour ago or more without being paired. Paired machines stay: they are
the user's "My paired machines"."""

import subprocess
import sys
from datetime import timedelta

import pytest
from django.conf import settings
from django.utils import timezone

from contexts.models import PairingRequest
from contexts.tasks import purge_pairings
from contexts.tests.pairing_helpers import no_wrong_pins_counted, poll, vm_asks_for_a_pin  # noqa: F401
from contexts.tests.profile_helpers import make_profile


def pin_that_expired(minutes_ago, **fields) -> PairingRequest:
    data = vm_asks_for_a_pin()
    pairing = PairingRequest.objects.get(pin=data["pin"])
    PairingRequest.objects.filter(pk=pairing.pk).update(
        expires_at=timezone.now() - timedelta(minutes=minutes_ago), **fields
    )
    return pairing


@pytest.mark.django_db
def test_it_deletes_pins_that_expired_unpaired_an_hour_ago_or_more():
    old = pin_that_expired(minutes_ago=61)
    older = pin_that_expired(minutes_ago=60 * 24 * 30)
    assert purge_pairings() == 2
    assert not PairingRequest.objects.filter(pk__in=[old.pk, older.pk]).exists()


@pytest.mark.django_db
def test_it_keeps_waiting_pins_and_lets_a_vm_hear_that_its_pin_expired():
    waiting = vm_asks_for_a_pin()
    just_expired = pin_that_expired(minutes_ago=30)
    assert purge_pairings() == 0
    assert PairingRequest.objects.filter(pin__in=[waiting["pin"], just_expired.pin]).count() == 2
    assert poll(waiting).status_code == 202


@pytest.mark.django_db
def test_it_keeps_paired_machines_collected_or_not(alice, alice_client):
    profile = make_profile(alice)
    paired_long_ago = timezone.now() - timedelta(days=90)
    fields = {"user": alice, "profile": profile, "revision": profile.latest, "format": "shell"}
    collected = pin_that_expired(
        60 * 24 * 90, paired_at=paired_long_ago, collected_at=paired_long_ago, **fields
    )
    never_collected = pin_that_expired(60 * 24 * 90, paired_at=paired_long_ago, **fields)
    assert purge_pairings() == 0
    page = alice_client.get("/pair/").content.decode()
    assert collected.machine_name in page
    assert never_collected.machine_name in page


def test_beat_runs_it_every_hour_and_a_worker_knows_it():
    (entry,) = [e for e in settings.CELERY_BEAT_SCHEDULE.values() if e["task"] == "contexts.purge_pairings"]
    assert entry["schedule"] == 3600
    # A fresh process, as a worker starts: the task is found by autodiscovery, not by this import.
    code = (
        "import django; django.setup(); from portal.celery import app; "
        "app.loader.import_default_modules(); print(sorted(t for t in app.tasks if t.startswith('contexts.')))"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert result.stdout.strip() == "['contexts.purge_pairings']"
