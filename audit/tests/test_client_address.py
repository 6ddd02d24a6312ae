"""The address recorded is the connection's own; X-Forwarded-For counts only when the connection
comes from a proxy named in TRUSTED_PROXIES, read from the right past the trusted proxies."""

import pytest
from django.test import Client

from audit.models import Action, AuditRecord

pytestmark = pytest.mark.django_db
PROXY = "10.9.8.7"


def _failed_login_address(**meta) -> str:
    Client(**meta).post("/accounts/login/", {"username": "nobody", "password": "x"})
    return AuditRecord.objects.filter(action=Action.LOGIN_FAILED).first().address


def test_the_connections_address_is_recorded():
    assert _failed_login_address(REMOTE_ADDR="192.0.2.44") == "192.0.2.44"


def test_a_forwarded_for_header_is_ignored_without_a_trusted_proxy():
    assert _failed_login_address(REMOTE_ADDR="192.0.2.44", HTTP_X_FORWARDED_FOR="203.0.113.1") == "192.0.2.44"


def test_behind_a_trusted_proxy_the_client_it_saw_is_recorded(settings):
    settings.TRUSTED_PROXIES = ["10.9.8.0/24"]
    # The client claimed 198.51.100.1 itself; the proxy appended the address it saw.
    address = _failed_login_address(REMOTE_ADDR=PROXY, HTTP_X_FORWARDED_FOR="198.51.100.1, 203.0.113.9")
    assert address == "203.0.113.9"


def test_a_chain_of_trusted_proxies_is_walked_past(settings):
    settings.TRUSTED_PROXIES = ["10.9.8.7", "10.9.8.6"]
    address = _failed_login_address(REMOTE_ADDR=PROXY, HTTP_X_FORWARDED_FOR="203.0.113.9, 10.9.8.6")
    assert address == "203.0.113.9"


def test_a_garbled_header_from_a_trusted_proxy_records_the_proxy(settings):
    settings.TRUSTED_PROXIES = [PROXY]
    assert _failed_login_address(REMOTE_ADDR=PROXY, HTTP_X_FORWARDED_FOR="unknown") == PROXY
