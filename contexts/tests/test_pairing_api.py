"""The pairing API (docs/pairing.md, docs/api.md): a VM asks for a PIN and polls; a user claims it."""

from datetime import timedelta

import pytest
from django.test import Client
from django.utils import timezone

from contexts.models import PairingRequest
from contexts.pairing import PIN_ALPHABET, paired_variables
from contexts.profiles import render_revision
from contexts.tests.pairing_helpers import no_wrong_pins_counted, poll, vm_asks_for_a_pin  # noqa: F401
from contexts.tests.profile_helpers import POOL_PASSWORD, ROOT_PASSWORD, make_profile


def claim(client, pin, profile_id, fmt="cloud-init", **extra):
    body = {"pin": pin, "profile": profile_id, "format": fmt}
    return client.post("/api/v1/pairing/claim/", body, content_type="application/json", **extra)


@pytest.mark.django_db
def test_a_vm_gets_a_pin_of_eight_unambiguous_characters():
    data = vm_asks_for_a_pin()
    assert len(data["pin"]) == 8
    assert set(data["pin"]) <= set(PIN_ALPHABET)
    assert not set("0O1IL") & set(PIN_ALPHABET)
    assert data["pin"] not in data["poll_url"]
    assert data["poll_url"].startswith("http://testserver/api/v1/pairing/poll/")


@pytest.mark.django_db
def test_it_records_the_vms_address_and_a_fifteen_minute_expiry():
    data = vm_asks_for_a_pin("198.51.100.4")
    pairing = PairingRequest.objects.get(pin=data["pin"])
    assert pairing.address == "198.51.100.4"
    assert timedelta(minutes=14) < pairing.expires_at - timezone.now() <= timedelta(minutes=15)


@pytest.mark.django_db
def test_the_vm_waits_with_202_until_paired():
    response = poll(vm_asks_for_a_pin())
    assert response.status_code == 202
    assert response.json() == {"detail": "waiting"}


@pytest.mark.django_db
def test_a_head_request_for_the_user_data_is_refused_and_does_not_collect_it(alice, alice_client):
    data = vm_asks_for_a_pin()
    assert claim(alice_client, data["pin"], make_profile(alice).pk).status_code == 200
    assert Client().head(data["poll_url"]).status_code == 405
    assert poll(data).status_code == 200


@pytest.mark.django_db
def test_the_owner_pairs_and_the_vm_collects_the_real_user_data_once(alice, alice_client):
    profile = make_profile(alice)
    data = vm_asks_for_a_pin()
    response = claim(alice_client, data["pin"].lower(), profile.pk)
    assert response.status_code == 200, response.content
    assert response.json()["revision"] == 1
    pairing = PairingRequest.objects.get(pin=data["pin"])

    collected = poll(data)
    assert collected.status_code == 200
    assert collected["Content-Type"] == "text/plain; charset=utf-8"
    assert "no-store" in collected["Cache-Control"]
    assert collected.content == render_revision(profile.latest, paired_variables(pairing), "cloud-init")
    assert b"$6$" in collected.content  # the owner's password hashes are in
    assert ROOT_PASSWORD.encode() not in collected.content

    again = poll(data)
    assert again.status_code == 410
    assert "already collected" in again.json()["detail"]


@pytest.mark.django_db
def test_a_paired_vm_is_named_after_its_pairing_and_its_roles_point_at_itself(alice, alice_client):
    profile = make_profile(alice)
    data = vm_asks_for_a_pin("198.51.100.9")
    claim(alice_client, data["pin"], profile.pk, "amiconfig")
    pairing = PairingRequest.objects.get(pin=data["pin"])
    variables = paired_variables(pairing)
    assert variables["instance"]["name"] == f"paired-{pairing.pk}"
    assert variables["roles"]["master"]["address"] == "198.51.100.9"
    other = vm_asks_for_a_pin("198.51.100.9")
    claim(alice_client, other["pin"], profile.pk)
    others = paired_variables(PairingRequest.objects.get(pin=other["pin"]))
    assert variables["cluster"]["secret"] != others["cluster"]["secret"]
    assert b"[amiconfig]" in poll(data).content


@pytest.mark.django_db
def test_someone_elses_public_profile_comes_redacted(alice, charlie_client):
    profile = make_profile(alice, visibility="public")
    data = vm_asks_for_a_pin()
    assert claim(charlie_client, data["pin"], profile.pk, "shell").status_code == 200
    content = poll(data).content
    assert content.startswith(b"#!/bin/sh")
    assert POOL_PASSWORD.encode() not in content
    assert b"$6$" not in content


@pytest.mark.django_db
def test_a_strangers_private_profile_is_a_404(alice, charlie_client):
    profile = make_profile(alice)
    data = vm_asks_for_a_pin()
    response = claim(charlie_client, data["pin"], profile.pk)
    assert response.status_code == 404
    assert poll(data).status_code == 202


@pytest.mark.django_db
def test_a_wrong_pin_is_a_404(alice, alice_client):
    profile = make_profile(alice)
    response = claim(alice_client, "ABCDEFGH", profile.pk)
    assert response.status_code == 404
    assert "No machine is waiting" in response.json()["detail"]


@pytest.mark.django_db
def test_an_expired_pin_is_410_to_the_user_and_the_vm(alice, alice_client):
    profile = make_profile(alice)
    data = vm_asks_for_a_pin()
    PairingRequest.objects.filter(pin=data["pin"]).update(expires_at=timezone.now() - timedelta(seconds=1))
    response = claim(alice_client, data["pin"], profile.pk)
    assert response.status_code == 410
    assert "expired" in response.json()["detail"]
    assert poll(data).status_code == 410


@pytest.mark.django_db
def test_a_pin_pairs_only_once(alice, alice_client):
    profile = make_profile(alice)
    data = vm_asks_for_a_pin()
    assert claim(alice_client, data["pin"], profile.pk).status_code == 200
    response = claim(alice_client, data["pin"], profile.pk)
    assert response.status_code == 410
    assert "already used" in response.json()["detail"]


@pytest.mark.django_db
def test_claiming_needs_a_login(alice):
    profile = make_profile(alice)
    data = vm_asks_for_a_pin()
    assert claim(Client(), data["pin"], profile.pk).status_code in (401, 403)


@pytest.mark.django_db
@pytest.mark.parametrize(
    "body",
    [{}, {"pin": 5, "profile": 1}, {"pin": "ABCDEFGH", "profile": "x"}, {"pin": "A", "profile": [1]}],
)
def test_bad_claims_are_400s(alice_client, body):
    response = alice_client.post("/api/v1/pairing/claim/", body, content_type="application/json")
    assert response.status_code == 400
    assert "detail" in response.json()


@pytest.mark.django_db
def test_bad_requests_for_a_pin_are_400s():
    client = Client()
    assert (
        client.post("/api/v1/pairing/", {"format": "yaml"}, content_type="application/json").status_code
        == 400
    )
    response = client.post("/api/v1/pairing/", "{nope", content_type="application/json")
    assert response.status_code == 400
    assert "detail" in response.json()


@pytest.mark.django_db
def test_an_unknown_poll_token_is_a_404():
    response = Client().get("/api/v1/pairing/poll/not-a-token/")
    assert response.status_code == 404


@pytest.mark.django_db
def test_others_wrong_pins_from_one_address_do_not_block_a_user_there(alice, bob, charlie):
    profile = make_profile(alice, visibility="public")
    data = vm_asks_for_a_pin()
    for i, user in enumerate([alice, bob] * 10):  # two users mistype at one address
        client = Client(REMOTE_ADDR="192.0.2.50")
        client.force_login(user)
        assert claim(client, f"WRNGP{i:03d}", profile.pk).status_code == 404
    client = Client(REMOTE_ADDR="192.0.2.50")
    client.force_login(charlie)
    assert claim(client, data["pin"], profile.pk).status_code == 200


@pytest.mark.django_db
def test_twenty_wrong_pins_from_one_user_block_them_from_any_address(alice):
    profile = make_profile(alice)
    data = vm_asks_for_a_pin()
    for i in range(20):
        client = Client(REMOTE_ADDR=f"192.0.2.{100 + i}")
        client.force_login(alice)
        assert claim(client, f"WRNGP{i:03d}", profile.pk).status_code == 404
    client = Client(REMOTE_ADDR="198.51.100.200")
    client.force_login(alice)
    assert claim(client, data["pin"], profile.pk).status_code == 429
