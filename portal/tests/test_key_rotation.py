"""`manage.py rotate_encryption_key` moves every stored secret to the new key: afterwards each one
decrypts to the same value with the new key alone (docs/security.md, "Rotating the key")."""

from pathlib import Path

import pytest
import yaml
from cryptography.fernet import Fernet
from django.apps import apps
from django.core.management import CommandError, call_command
from django.db import models
from django.test import override_settings

from clusters.models import Cloud, Cluster
from clusters.tests.cloud_helpers import make_cloud
from contexts import profiles
from contexts.models import ProfileRevision
from portal import crypto
from portal.key_rotation import SEALED_DOCUMENT_FIELDS, TOKEN_FIELDS

OLD, NEW = Fernet.generate_key().decode(), Fernet.generate_key().decode()
EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "htcondor-worker.yaml"
CREDENTIALS = {"key": "AKIA-rotation", "secret": "the cloud's secret key"}


def secrets_in_the_database() -> dict:
    """Every secret the portal stores, decrypted with the keys configured now."""
    found = {}
    for cloud in Cloud.objects.order_by("pk"):
        found[f"cloud {cloud.pk} credentials"] = crypto.decrypt_json(cloud.credentials)
        found[f"cloud {cloud.pk} message key"] = cloud.message_key_value()
    for cluster in Cluster.objects.order_by("pk"):
        found[f"cluster {cluster.pk}"] = crypto.decrypt(cluster.secret)
    for revision in ProfileRevision.objects.order_by("pk"):
        found[f"revision {revision.pk}"] = profiles.plain_document(revision)
    return found


@pytest.fixture
def stored_with_the_old_key(alice):
    with override_settings(PORTAL_ENCRYPTION_KEYS=[OLD]):
        cloud = make_cloud(alice, credentials=CREDENTIALS)
        cloud.message_key_value()  # made on first use
        Cluster.objects.create(
            owner=alice, name="demo", snapshot={"roles": []}, secret=crypto.encrypt("s3cret")
        )
        profile = profiles.create_profile(alice, "Worker", yaml.safe_load(EXAMPLE.read_text()))
        profiles.add_revision(
            profile, {**profiles.plain_document(profile.latest), "hostname": "w2"}, author=alice
        )
        stored = secrets_in_the_database()
    assert stored[f"cloud {cloud.pk} credentials"] == CREDENTIALS
    return stored


@pytest.mark.django_db
def test_after_rotation_every_secret_decrypts_with_the_new_key_alone(stored_with_the_old_key, capsys):
    with override_settings(PORTAL_ENCRYPTION_KEYS=[NEW, OLD]):
        call_command("rotate_encryption_key")
    assert "the others can now be removed" in capsys.readouterr().out
    with override_settings(PORTAL_ENCRYPTION_KEYS=[NEW]):
        assert secrets_in_the_database() == stored_with_the_old_key
    with override_settings(PORTAL_ENCRYPTION_KEYS=[OLD]), pytest.raises(crypto.DecryptionError):
        crypto.decrypt(Cluster.objects.get().secret)  # rewritten, not left as it was


@pytest.mark.django_db
def test_a_secret_no_key_opens_stops_the_rotation_and_changes_nothing(stored_with_the_old_key, alice):
    stranger = Fernet(Fernet.generate_key()).encrypt(b"lost").decode()
    Cluster.objects.create(owner=alice, name="lost", snapshot={"roles": []}, secret=stranger)
    before = list(Cluster.objects.order_by("pk").values_list("secret", flat=True))
    with (
        override_settings(PORTAL_ENCRYPTION_KEYS=[NEW, OLD]),
        pytest.raises(CommandError, match="cannot be decrypted"),
    ):
        call_command("rotate_encryption_key")
    assert list(Cluster.objects.order_by("pk").values_list("secret", flat=True)) == before


@pytest.mark.django_db
def test_every_field_holding_a_token_is_rotated(stored_with_the_old_key):
    """A field of any model whose stored value holds a Fernet token must be in the rotation's lists."""
    listed = {(label, field) for label, field in TOKEN_FIELDS + SEALED_DOCUMENT_FIELDS}
    holding = set()
    for model in apps.get_models():
        fields = [
            f.name
            for f in model._meta.fields
            if isinstance(f, models.TextField | models.CharField | models.JSONField)
        ]
        for row in model.objects.values(*fields) if fields else []:
            holding |= {(model._meta.label, name) for name, value in row.items() if "gAAAAA" in str(value)}
    assert holding and holding <= listed, holding - listed
