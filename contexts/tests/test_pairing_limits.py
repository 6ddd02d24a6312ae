"""Pairing's limits (docs/pairing.md): wrong PINs are limited per user, and per address only for those who
guessed wrong there; an address gets a bounded number of PINs; refusals say how long to wait."""

import subprocess

import pytest
from django.test import Client, override_settings

from contexts.tests.pairing_helpers import no_wrong_pins_counted, poll, vm_asks_for_a_pin  # noqa: F401
from contexts.tests.profile_helpers import make_profile
from contexts.views_pairing import PAIR_SCRIPT

LAB = "192.0.2.50"  # one address for a whole lab behind NAT


def claim_as(user, pin, profile, address=LAB):
    client = Client(REMOTE_ADDR=address)
    client.force_login(user)
    body = {"pin": pin, "profile": profile.pk, "format": "cloud-init"}
    return client.post("/api/v1/pairing/claim/", body, content_type="application/json")


def ask_for_a_pin(address):
    return Client(REMOTE_ADDR=address).post("/api/v1/pairing/", {}, content_type="application/json")


def a_lab_mistypes_up_to_the_address_limit(django_user_model, profile) -> list:
    """Twenty students, five typos each: well below their own limit (20), together the address's (100)."""
    students = [django_user_model.objects.create_user(f"student{i}") for i in range(20)]
    for i in range(100):
        assert claim_as(students[i % 20], f"WRNG{i:04d}", profile).status_code == 404
    return students


@pytest.mark.django_db
def test_other_users_wrong_pins_never_block_a_user_who_made_none(alice, charlie, django_user_model):
    profile = make_profile(alice, visibility="public")
    a_lab_mistypes_up_to_the_address_limit(django_user_model, profile)
    data = vm_asks_for_a_pin()
    assert claim_as(charlie, data["pin"], profile).status_code == 200
    assert poll(data).status_code == 200


@pytest.mark.django_db
def test_a_busy_address_blocks_those_who_guessed_wrong_there(alice, django_user_model):
    profile = make_profile(alice, visibility="public")
    student = a_lab_mistypes_up_to_the_address_limit(django_user_model, profile)[0]
    data = vm_asks_for_a_pin()
    response = claim_as(student, data["pin"], profile)
    assert response.status_code == 429
    assert "Too many wrong PINs" in response.json()["detail"]
    assert poll(data).status_code == 202
    # Below their own limit, so from another address they pair.
    assert claim_as(student, data["pin"], profile, address="198.51.100.9").status_code == 200


@pytest.mark.django_db
def test_a_wrong_pin_refusal_says_how_long_to_wait(alice):
    profile = make_profile(alice)
    for i in range(20):
        claim_as(alice, f"WRNG{i:04d}", profile, address=f"198.51.100.{i}")
    response = claim_as(alice, "WRNG9999", profile)
    assert response.status_code == 429
    assert response.json()["detail"] == "Too many wrong PINs: try again in 15 minutes."
    assert 895 <= int(response["Retry-After"]) <= 900


@pytest.mark.django_db
def test_an_address_gets_sixty_pins_in_fifteen_minutes_then_a_429():
    for _ in range(60):
        assert ask_for_a_pin("203.0.113.20").status_code == 201
    response = ask_for_a_pin("203.0.113.20")
    assert response.status_code == 429
    assert response.json() == {"detail": "Too many PIN requests from this address: try again in 15 minutes."}
    assert 895 <= int(response["Retry-After"]) <= 900
    assert ask_for_a_pin("203.0.113.21").status_code == 201  # other addresses are not affected


@pytest.mark.django_db
def test_addresses_of_one_ipv6_network_share_the_pin_limit():
    for i in range(60):
        assert ask_for_a_pin(f"2001:db8:0:7::{i + 1:x}").status_code == 201
    assert ask_for_a_pin("2001:db8:0:7::ffff").status_code == 429
    assert ask_for_a_pin("2001:db8:0:8::1").status_code == 201


@pytest.mark.django_db
@override_settings(CELERY_BROKER_URL="redis://127.0.0.1:9/0")  # nothing listens there: Redis is down
def test_without_redis_pairing_answers_a_clear_503(alice, alice_client):
    response = ask_for_a_pin("203.0.113.30")
    assert response.status_code == 503
    assert response.json() == {"detail": "Pairing is unavailable for a moment: try again in a minute."}

    profile = make_profile(alice)
    body = {"pin": "ABCDEFGH", "profile": profile.pk}
    response = alice_client.post("/api/v1/pairing/claim/", body, content_type="application/json")
    assert response.status_code == 503


@pytest.mark.django_db(transaction=True)
def test_pair_sh_prints_the_refusal_when_the_address_has_asked_for_too_many(live_server, tmp_path):
    for _ in range(60):
        assert ask_for_a_pin("127.0.0.1").status_code == 201
    result = subprocess.run(
        ["sh", str(PAIR_SCRIPT), live_server.url, "--out", str(tmp_path / "u"), "--no-apply"],
        capture_output=True,
        text=True,
        check=False,
        timeout=30,
    )
    assert result.returncode == 1
    assert result.stdout == ""
    assert result.stderr == "pair.sh: Too many PIN requests from this address: try again in 15 minutes.\n"
