"""Login throttling: ten wrong passwords lock the account, and ten from one address lock the
address, for fifteen minutes; a clear page says how long to wait; everyone else logs in as usual."""

from datetime import timedelta

import pytest
from django.test import Client

from conftest import PASSWORD

pytestmark = pytest.mark.django_db


def log_in(username, password, address="192.0.2.1", path="/accounts/login/"):
    client = Client(REMOTE_ADDR=address)
    return client, client.post(path, {"username": username, "password": password})


def is_logged_in(client) -> bool:
    return client.get("/profiles/").status_code == 200


def lock_alice_from_ten_addresses():
    for i in range(10):
        log_in("alice", "wrong", address=f"198.51.100.{i + 1}")


def move_failures_back(minutes):
    """The lock is kept in django-axes' failed-attempt rows: age them as time passing would."""
    from axes.models import AccessAttempt

    for attempt in AccessAttempt.objects.all():
        attempt.attempt_time -= timedelta(minutes=minutes)
        attempt.save()


def test_nine_wrong_passwords_are_only_wrong_passwords(alice):
    for _ in range(9):
        _, response = log_in("alice", "wrong")
        assert response.status_code == 200
        assert "correct username and password" in response.content.decode()
    client, response = log_in("alice", PASSWORD)
    assert response.status_code == 302
    assert is_logged_in(client)


def test_the_tenth_wrong_password_locks_the_account_with_a_page_that_says_how_long(alice):
    for i in range(9):
        log_in("alice", "wrong", address=f"198.51.100.{i + 1}")
    _, response = log_in("alice", "wrong", address="198.51.100.10")
    assert response.status_code == 429
    assert response["Content-Type"] == "text/html; charset=utf-8"
    page = response.content.decode()
    assert "Too many failed logins" in page
    assert "Try again in 15 minutes" in page
    assert 'href="/accounts/login/"' in page
    assert "navbar" in page  # the site's own page, not a bare text answer
    assert 895 <= int(response["Retry-After"]) <= 900


def test_a_locked_account_refuses_even_its_right_password_from_any_address(alice):
    lock_alice_from_ten_addresses()
    client, response = log_in("alice", PASSWORD, address="203.0.113.99")
    assert response.status_code == 429
    assert not is_logged_in(client)


def test_others_log_in_while_an_account_is_locked(alice, bob):
    lock_alice_from_ten_addresses()
    client, response = log_in("bob", PASSWORD, address="198.51.100.1")  # one of alice's addresses
    assert response.status_code == 302
    assert is_logged_in(client)


def test_ten_wrong_passwords_from_one_address_lock_that_address(alice, bob):
    for i in range(10):
        log_in(f"guess{i}", "wrong", address="192.0.2.66")
    client, response = log_in("bob", PASSWORD, address="192.0.2.66")
    assert response.status_code == 429
    assert "Too many failed logins" in response.content.decode()
    assert not is_logged_in(client)

    elsewhere, response = log_in("bob", PASSWORD, address="192.0.2.67")
    assert response.status_code == 302
    assert is_logged_in(elsewhere)


def test_the_wait_shown_is_what_is_left_of_the_lock(alice):
    lock_alice_from_ten_addresses()
    move_failures_back(minutes=6)
    _, response = log_in("alice", PASSWORD)
    assert response.status_code == 429
    assert "Try again in 9 minutes" in response.content.decode()
    assert 535 <= int(response["Retry-After"]) <= 540


def test_trying_again_while_locked_does_not_make_the_wait_longer(alice):
    lock_alice_from_ten_addresses()
    move_failures_back(minutes=6)
    for _ in range(3):
        _, response = log_in("alice", PASSWORD)
    assert "Try again in 9 minutes" in response.content.decode()


def test_the_lock_lifts_after_fifteen_minutes(alice):
    lock_alice_from_ten_addresses()
    move_failures_back(minutes=16)
    client, response = log_in("alice", PASSWORD)
    assert response.status_code == 302
    assert is_logged_in(client)


def test_the_admin_login_is_locked_too(django_user_model):
    django_user_model.objects.create_superuser("root", password=PASSWORD)
    for i in range(10):
        _, response = log_in("root", "wrong", address=f"198.51.100.{i + 1}", path="/admin/login/")
    assert response.status_code == 429
    client, response = log_in("root", PASSWORD, path="/admin/login/")
    assert response.status_code == 429
    page = response.content.decode()
    assert "Too many failed logins" in page
    assert 'href="/admin/login/"' in page
    assert client.get("/admin/").status_code == 302


def test_the_test_clients_login_and_force_login_still_work(alice, bob):
    client = Client()
    assert client.login(username="alice", password=PASSWORD)
    assert is_logged_in(client)
    assert not Client().login(username="alice", password="wrong")
    other = Client()
    other.force_login(bob)
    assert is_logged_in(other)


def test_a_locked_account_stays_locked_for_a_login_without_a_request(alice):
    lock_alice_from_ten_addresses()
    assert not Client().login(username="alice", password=PASSWORD)
