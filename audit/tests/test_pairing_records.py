"""Pairing: a machine's PIN request is recorded with the machine's address (nobody is logged in),
and the claim with the user who paired it, from their own address."""

import pytest
from rest_framework.test import APIClient

from audit.models import Action, AuditRecord
from audit.tests.helpers import ALICE_ADDRESS, only_record
from contexts.models import PairingRequest
from contexts.tests.pairing_helpers import no_wrong_pins_counted, vm_asks_for_a_pin  # noqa: F401
from contexts.tests.profile_helpers import make_profile

pytestmark = pytest.mark.django_db
MACHINE = "203.0.113.77"


def test_a_machine_asking_for_a_pin_is_recorded_with_its_address():
    vm_asks_for_a_pin(MACHINE, format="shell")
    request = PairingRequest.objects.get()
    record = only_record(action=Action.PAIRING_REQUEST)
    assert (record.user, record.username, record.address) == (None, "", MACHINE)
    assert (record.object_type, record.object_id) == ("pairing", str(request.pk))
    assert record.summary == "a machine asked for a pairing PIN (shell)"


def test_pairing_on_the_page_is_recorded_with_the_user_and_the_machine(alice, alice_client):
    profile = make_profile(alice)
    pin = vm_asks_for_a_pin(MACHINE)["pin"]
    response = alice_client.post("/pair/", {"pin": pin, "profile": profile.pk, "format": "shell"},
                                 REMOTE_ADDR=ALICE_ADDRESS)  # fmt: skip
    assert response.status_code == 302
    record = only_record(action=Action.PAIRING_CLAIM)
    assert (record.user, record.owner, record.address) == (alice, alice, ALICE_ADDRESS)
    paired = PairingRequest.objects.get()
    assert record.summary == (
        f"paired machine {paired.machine_name} ({MACHINE}) with profile Condor worker r1 as shell"
    )


def test_pairing_through_the_api_is_recorded(alice):
    profile = make_profile(alice)
    pin = vm_asks_for_a_pin(MACHINE)["pin"]
    api = APIClient(REMOTE_ADDR=ALICE_ADDRESS)
    api.force_authenticate(alice)
    answer = api.post("/api/v1/pairing/claim/", {"pin": pin, "profile": profile.pk, "format": "cloud-init"},
                      format="json")  # fmt: skip
    assert answer.status_code in (200, 201), answer.content
    record = only_record(action=Action.PAIRING_CLAIM)
    assert (record.user, record.address) == (alice, ALICE_ADDRESS)
    assert record.summary.endswith("as cloud-init")


def test_a_wrong_pin_pairs_nothing_and_records_no_claim(alice, alice_client):
    profile = make_profile(alice)
    vm_asks_for_a_pin(MACHINE)
    alice_client.post("/pair/", {"pin": "0000-0000", "profile": profile.pk, "format": ""})
    assert not PairingRequest.objects.filter(user=alice).exists()
    assert not AuditRecord.objects.filter(action=Action.PAIRING_CLAIM).exists()
