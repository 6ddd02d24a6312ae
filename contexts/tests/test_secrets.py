"""Secrets: encrypted at rest, kept when left unchanged, never shown back."""

import pytest

from contexts import secrets
from contexts.document import DocumentInvalid
from contexts.models import ProfileRevision
from contexts.profiles import add_revision, create_profile, plain_document, shown_document

DOC = {
    "schema": 1,
    "users": [{"name": "alice", "password": "alice-pw"}, {"name": "bob", "password": "bob-pw"}],
    "root": {"password": "root-pw"},
    "services": {"condor": {"role": "worker", "pool_password": "pool-pw"}},
}


def test_seal_and_unseal_round_trip(settings):
    sealed = secrets.seal(DOC)
    assert "alice-pw" not in str(sealed)
    assert sealed["users"][0]["password"].keys() == {secrets.SEALED}
    assert secrets.unseal(sealed) == DOC


def test_redact_hides_every_set_secret():
    shown = secrets.redact(secrets.seal(DOC))
    assert shown["users"][0]["password"] == secrets.REDACTED
    assert shown["root"]["password"] == secrets.REDACTED
    assert shown["services"]["condor"]["pool_password"] == secrets.REDACTED


@pytest.mark.django_db
def test_the_database_column_holds_ciphertext(alice):
    profile = create_profile(alice, "p", DOC)
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SELECT document FROM contexts_profilerevision WHERE id = %s", [profile.latest.pk])
        stored = cursor.fetchone()[0]
    for plaintext in ("alice-pw", "bob-pw", "root-pw", "pool-pw"):
        assert plaintext not in stored
    assert "gAAAA" in stored  # Fernet tokens


@pytest.mark.django_db
def test_redacted_secrets_are_kept_and_follow_their_user_when_reordered(alice):
    profile = create_profile(alice, "p", DOC)
    edited = shown_document(profile.latest)
    edited["users"].reverse()
    edited["root"]["password"] = "new-root-pw"
    revision = add_revision(profile, edited, author=alice)
    plain = plain_document(revision)
    assert {u["name"]: u["password"] for u in plain["users"]} == {"alice": "alice-pw", "bob": "bob-pw"}
    assert plain["root"]["password"] == "new-root-pw"
    assert plain["services"]["condor"]["pool_password"] == "pool-pw"


@pytest.mark.django_db
def test_keeping_a_secret_that_was_never_set_is_an_error(alice):
    profile = create_profile(alice, "p", {"schema": 1})
    with pytest.raises(DocumentInvalid) as caught:
        add_revision(profile, {"schema": 1, "root": {"password": secrets.REDACTED}}, author=alice)
    assert "root.password: there is no stored secret to keep" in caught.value.messages[0]


@pytest.mark.django_db
def test_revisions_are_immutable(alice):
    profile = create_profile(alice, "p", {"schema": 1})
    revision = ProfileRevision.objects.get(pk=profile.latest.pk)
    revision.message = "changed"
    with pytest.raises(ValueError, match="immutable"):
        revision.save()


def test_secrets_encrypted_with_an_old_key_still_decrypt_after_rotation(settings):
    from cryptography.fernet import Fernet

    old = settings.PORTAL_ENCRYPTION_KEYS[0]
    sealed = secrets.seal(DOC)
    settings.PORTAL_ENCRYPTION_KEYS = [Fernet.generate_key().decode(), old]
    assert secrets.unseal(sealed) == DOC


def test_a_secret_under_an_unknown_key_gives_a_clear_error(settings):
    from cryptography.fernet import Fernet

    sealed = secrets.seal(DOC)
    settings.PORTAL_ENCRYPTION_KEYS = [Fernet.generate_key().decode()]
    with pytest.raises(secrets.SecretError, match="cannot be decrypted"):
        secrets.unseal(sealed)
