"""The /pair/ page: pair a machine by PIN, see "My paired machines"; and the script it points to."""

from datetime import timedelta

import pytest
from django.test import Client
from django.utils import timezone

from contexts.models import PairingRequest
from contexts.tests.pairing_helpers import no_wrong_pins_counted, poll, vm_asks_for_a_pin  # noqa: F401
from contexts.tests.profile_helpers import make_profile


def pair(client, pin, profile_id, fmt=""):
    return client.post("/pair/", {"pin": pin, "profile": profile_id, "format": fmt})


@pytest.mark.django_db
def test_it_needs_a_login():
    response = Client().get("/pair/")
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/")


@pytest.mark.django_db
def test_it_offers_own_and_public_profiles_but_not_strangers_private_ones(alice, bob, alice_client):
    make_profile(alice, name="Mine")
    make_profile(bob, name="Bobs public", visibility="public")
    make_profile(bob, name="Bobs secret")
    page = alice_client.get("/pair/").content.decode()
    assert "Mine" in page
    assert "Bobs public — public, by bob" in page
    assert "Bobs secret" not in page
    assert "Pair a VM" in page


@pytest.mark.django_db
def test_pairing_on_the_page_lists_the_machine(alice, alice_client):
    profile = make_profile(alice)
    data = vm_asks_for_a_pin("203.0.113.77", format="shell")
    response = pair(alice_client, f"{data['pin'][:4]}-{data['pin'][4:]}", profile.pk)
    assert response.status_code == 302
    page = alice_client.get("/pair/").content.decode()
    assert "203.0.113.77" in page
    assert "Condor worker" in page
    assert " r1" in page
    assert "shell" in page  # the format the machine asked for
    assert poll(data).content.startswith(b"#!/bin/sh")


@pytest.mark.django_db
def test_an_expired_pin_is_a_form_error(alice, alice_client):
    profile = make_profile(alice)
    data = vm_asks_for_a_pin()
    PairingRequest.objects.filter(pin=data["pin"]).update(expires_at=timezone.now() - timedelta(minutes=1))
    response = pair(alice_client, data["pin"], profile.pk)
    assert response.status_code == 410
    assert "This PIN has expired" in response.content.decode()


@pytest.mark.django_db
def test_a_used_pin_is_a_form_error(alice, alice_client):
    profile = make_profile(alice)
    data = vm_asks_for_a_pin()
    assert pair(alice_client, data["pin"], profile.pk).status_code == 302
    response = pair(alice_client, data["pin"], profile.pk)
    assert "This PIN was already used" in response.content.decode()


@pytest.mark.django_db
def test_a_strangers_private_profile_is_a_form_error(alice, charlie_client):
    profile = make_profile(alice)
    data = vm_asks_for_a_pin()
    response = pair(charlie_client, data["pin"], profile.pk)
    assert response.status_code == 200
    assert "Select a valid choice" in response.content.decode()
    assert poll(data).status_code == 202


@pytest.mark.django_db
def test_too_many_wrong_pins_are_refused_on_the_page(alice, alice_client):
    profile = make_profile(alice)
    data = vm_asks_for_a_pin()
    for i in range(20):
        assert pair(alice_client, f"WRNGP{i:03d}", profile.pk).status_code == 404
    response = pair(alice_client, data["pin"], profile.pk)
    assert response.status_code == 429
    assert "Too many wrong PINs" in response.content.decode()


def test_the_script_is_served_as_a_shell_script():
    response = Client().get("/agent/pair.sh")
    assert response.status_code == 200
    assert response["Content-Type"] == "text/x-shellscript; charset=utf-8"
    assert response.content.startswith(b"#!/bin/sh")
