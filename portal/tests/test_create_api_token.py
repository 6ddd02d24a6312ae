import pytest
from django.core.management import CommandError, call_command
from rest_framework.authtoken.models import Token

pytestmark = pytest.mark.django_db


def test_it_prints_a_token_that_authenticates(alice, capsys, client):
    call_command("create_api_token", "alice")
    token = capsys.readouterr().out.strip()
    assert Token.objects.get(user=alice).key == token
    claim = {"pin": "ABCDEFGH", "profile": 1, "format": "cloud-init"}
    anonymous = client.post("/api/v1/pairing/claim/", claim, content_type="application/json")
    assert anonymous.status_code in (401, 403)
    signed = client.post("/api/v1/pairing/claim/", claim, content_type="application/json",
                         HTTP_AUTHORIZATION=f"Token {token}")  # fmt: skip
    assert signed.status_code == 404  # authenticated: the PIN is simply unknown


def test_a_new_token_replaces_the_old_one(alice, capsys):
    call_command("create_api_token", "alice")
    first = capsys.readouterr().out.strip()
    call_command("create_api_token", "alice")
    assert capsys.readouterr().out.strip() != first
    assert Token.objects.filter(user=alice).count() == 1


def test_create_user_makes_the_user(django_user_model, capsys):
    call_command("create_api_token", "robot", "--create-user")
    assert django_user_model.objects.filter(username="robot").exists()


def test_an_unknown_user_is_an_error_with_exit_2():
    with pytest.raises(CommandError) as caught:
        call_command("create_api_token", "nobody")
    assert caught.value.returncode == 2
