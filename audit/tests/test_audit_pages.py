"""The audit pages: owners see their own records, staff see everyone's; a stranger's records and
addresses are never shown."""

import pytest
from django.test import Client

from audit.models import Action, AuditRecord

pytestmark = pytest.mark.django_db


def _records(alice, bob):
    AuditRecord.objects.create(user=alice, username="alice", owner=alice, address="192.0.2.10",
                               action=Action.TERMINATE, summary="terminated cluster alices-cluster")  # fmt: skip
    AuditRecord.objects.create(user=bob, username="bob", owner=bob, address="198.51.100.7",
                               action=Action.LAUNCH, summary="launched cluster bobs-cluster")  # fmt: skip


def test_it_needs_a_login():
    assert Client().get("/audit/")["Location"].startswith("/accounts/login/")
    assert Client().get("/audit/records.csv")["Location"].startswith("/accounts/login/")


def test_alice_sees_her_records_and_not_bobs(alice, bob, alice_client):
    _records(alice, bob)
    page = alice_client.get("/audit/").content.decode()
    assert "terminated cluster alices-cluster" in page and "192.0.2.10" in page
    assert "bobs-cluster" not in page and "198.51.100.7" not in page


def test_bob_cannot_see_alices_records(alice, bob, bob_client):
    _records(alice, bob)
    page = bob_client.get("/audit/").content.decode()
    assert "launched cluster bobs-cluster" in page
    assert "alices-cluster" not in page


def test_bob_cannot_reach_alices_records_through_a_filter(alice, bob, bob_client):
    _records(alice, bob)
    page = bob_client.get("/audit/", {"user": "alice"}).content.decode()
    assert "alices-cluster" not in page
    assert "alices-cluster" not in bob_client.get("/audit/records.csv", {"user": "alice"}).getvalue().decode()


def test_staff_see_everyones_records(alice, bob, root_client):
    _records(alice, bob)
    page = root_client.get("/audit/").content.decode()
    assert "alices-cluster" in page and "bobs-cluster" in page


def test_a_login_failure_on_alices_account_is_shown_to_alice(alice, alice_client):
    Client(REMOTE_ADDR="203.0.113.66").post("/accounts/login/", {"username": "alice", "password": "guess"})
    page = alice_client.get("/audit/").content.decode()
    assert "failed login as alice" in page and "203.0.113.66" in page


def test_a_bad_filter_is_explained_not_a_500(alice_client):
    response = alice_client.get("/audit/", {"address": "not-an-address", "start": "2025-13-40"})
    assert response.status_code == 200
    page = response.content.decode()
    assert "is not an IPv4 or IPv6 address" in page
    assert "Enter a valid date" in page


def test_the_menu_links_to_the_audit_trail(alice_client):
    assert 'href="/audit/"' in alice_client.get("/clusters/").content.decode()
