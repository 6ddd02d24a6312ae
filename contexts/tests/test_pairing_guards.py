"""Pairing's guards (docs/pairing.md): a paired VM collects within fifteen minutes, a profile that
cannot render is refused when the PIN is claimed, and a profile deleted after pairing is a clear 410."""

from datetime import timedelta

import pytest
from django.utils import timezone

from contexts.models import PairingRequest
from contexts.pairing import paired_variables
from contexts.profiles import render_revision
from contexts.tests.pairing_helpers import no_wrong_pins_counted, poll, vm_asks_for_a_pin  # noqa: F401
from contexts.tests.profile_helpers import full_document, make_profile

COLLECT_WINDOW = timedelta(minutes=15)


def claim(client, pin, profile_id, fmt="cloud-init"):
    body = {"pin": pin, "profile": profile_id, "format": fmt}
    return client.post("/api/v1/pairing/claim/", body, content_type="application/json")


def paired_ago(data: dict, ago: timedelta) -> None:
    """The PIN of `data` as if paired `ago` (five minutes before it expired)."""
    paired_at = timezone.now() - ago
    PairingRequest.objects.filter(pin=data["pin"]).update(
        paired_at=paired_at, expires_at=paired_at + timedelta(minutes=5)
    )


def paired_vm(client, profile) -> dict:
    data = vm_asks_for_a_pin()
    response = claim(client, data["pin"], profile.pk)
    assert response.status_code == 200, response.content
    return data


def unrenderable_when_paired(owner):
    """Host names made unique by the instance token: valid at save time (a launch has a token), but a
    paired VM has none, so its host name would end in '-'."""
    document = {**full_document(), "hostname": "worker-{{ instance.token[:6] }}"}
    return make_profile(owner, document=document, name="Token host names")


@pytest.mark.django_db
def test_a_vm_collecting_just_before_the_window_ends_gets_its_user_data(alice, alice_client):
    data = paired_vm(alice_client, make_profile(alice))
    paired_ago(data, COLLECT_WINDOW - timedelta(seconds=10))
    pairing = PairingRequest.objects.get(pin=data["pin"])
    response = poll(data)
    assert response.status_code == 200
    assert response.content == render_revision(pairing.revision, paired_variables(pairing), "cloud-init")


@pytest.mark.django_db
def test_a_vm_collecting_after_the_window_is_refused(alice, alice_client):
    data = paired_vm(alice_client, make_profile(alice))
    paired_ago(data, COLLECT_WINDOW + timedelta(seconds=1))
    response = poll(data)
    assert response.status_code == 410
    assert response.json() == {
        "detail": "The pairing expired before the user-data was collected: ask for a new PIN."
    }
    assert PairingRequest.objects.get(pin=data["pin"]).collected_at is None


@pytest.mark.django_db
def test_a_profile_that_cannot_render_is_refused_when_the_pin_is_claimed(alice, alice_client):
    profile = unrenderable_when_paired(alice)
    data = vm_asks_for_a_pin()
    response = claim(alice_client, data["pin"], profile.pk)
    assert response.status_code == 400
    detail = response.json()["detail"]
    assert detail.startswith("Cannot render cloud-init: hostname: 'worker-' is not a valid host name")
    pairing = PairingRequest.objects.get(pin=data["pin"])
    assert (pairing.paired_at, pairing.user, pairing.profile, pairing.revision) == (None, None, None, None)
    assert poll(data).status_code == 202


@pytest.mark.django_db
def test_a_profile_that_cannot_render_is_a_form_error_on_the_page(alice, alice_client):
    profile = unrenderable_when_paired(alice)
    data = vm_asks_for_a_pin()
    response = alice_client.post("/pair/", {"pin": data["pin"], "profile": profile.pk, "format": ""})
    assert response.status_code == 400
    assert "Cannot render cloud-init: hostname: &#x27;worker-&#x27;" in response.content.decode()
    assert PairingRequest.objects.get(pin=data["pin"]).paired_at is None
    assert poll(data).status_code == 202


@pytest.mark.django_db
def test_a_profile_deleted_after_pairing_is_a_clear_410_to_the_vm(alice, alice_client):
    profile = make_profile(alice)
    data = paired_vm(alice_client, profile)
    assert alice_client.post(f"/profiles/{profile.pk}/delete/").status_code == 302
    for _ in range(2):  # the VM polls again: still a clear answer
        response = poll(data)
        assert response.status_code == 410
        assert response.json() == {"detail": "The profile was deleted after pairing: ask for a new PIN."}


@pytest.mark.django_db
def test_my_paired_machines_still_show_a_machine_whose_profile_was_deleted(alice, alice_client):
    profile = make_profile(alice)
    data = paired_vm(alice_client, profile)
    pairing = PairingRequest.objects.get(pin=data["pin"])
    assert alice_client.post(f"/profiles/{profile.pk}/delete/").status_code == 302
    page = alice_client.get("/pair/")
    assert page.status_code == 200
    html = page.content.decode()
    assert "My paired machines" in html
    assert pairing.machine_name in html
    assert "(deleted)" in html
    assert f"/profiles/{profile.pk}/" not in html


@pytest.mark.django_db
def test_someone_elses_public_profile_deleted_after_pairing_leaves_their_pages_working(
    alice, alice_client, charlie_client
):
    profile = make_profile(alice, visibility="public")
    data = paired_vm(charlie_client, profile)
    assert alice_client.post(f"/profiles/{profile.pk}/delete/").status_code == 302
    assert poll(data).status_code == 410
    page = charlie_client.get("/pair/")
    assert page.status_code == 200
    assert "(deleted)" in page.content.decode()

    again = vm_asks_for_a_pin()
    response = claim(charlie_client, again["pin"], profile.pk)
    assert response.status_code == 404
    assert response.json() == {"detail": "No such profile."}
    form = charlie_client.post("/pair/", {"pin": again["pin"], "profile": profile.pk, "format": ""})
    assert form.status_code == 200
    assert "Select a valid choice" in form.content.decode()
    assert poll(again).status_code == 202
