"""Logins are recorded: each success and each failure, with the name tried and the address; a
password never."""

import pytest
from django.test import Client

from audit.models import Action, AuditRecord
from audit.tests.helpers import BOB_ADDRESS, only_record
from conftest import PASSWORD

pytestmark = pytest.mark.django_db


def _log_in(username, password, address=BOB_ADDRESS):
    return Client(REMOTE_ADDR=address).post("/accounts/login/", {"username": username, "password": password})


def test_a_successful_login_is_recorded(alice):
    assert _log_in("alice", PASSWORD).status_code == 302
    record = only_record(action=Action.LOGIN)
    assert (record.user, record.username, record.owner, record.address) == (
        alice,
        "alice",
        alice,
        BOB_ADDRESS,
    )
    assert record.summary == "alice logged in"


def test_a_wrong_password_is_recorded_for_the_account_without_the_password(alice):
    assert _log_in("alice", "not her password").status_code == 200
    record = only_record(action=Action.LOGIN_FAILED)
    assert (record.user, record.username, record.owner, record.address) == (None, "alice", alice, BOB_ADDRESS)
    assert record.summary == "failed login as alice"
    assert "not her password" not in str(AuditRecord.objects.values_list())


def test_an_unknown_account_is_recorded_as_such():
    _log_in("mallory", "guess")
    record = only_record(action=Action.LOGIN_FAILED)
    assert (record.owner, record.summary) == (None, "failed login as mallory (no such account)")


def test_signing_up_logs_in_and_is_recorded():
    response = Client(REMOTE_ADDR=BOB_ADDRESS).post(
        "/accounts/signup/", {"username": "dora", "password1": PASSWORD, "password2": PASSWORD}
    )
    assert response.status_code == 302
    assert only_record(action=Action.LOGIN).username == "dora"
