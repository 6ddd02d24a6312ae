import pytest
from django.db import IntegrityError, connection

from clusters.models import Cloud
from clusters.tests.cloud_helpers import ACCESS_KEY, SECRET_KEY, assert_no_secret, make_cloud
from portal.crypto import decrypt_json


@pytest.mark.django_db
def test_the_database_column_holds_only_ciphertext(alice):
    cloud = make_cloud(alice)
    with connection.cursor() as cursor:
        cursor.execute("SELECT credentials FROM clusters_cloud WHERE id = %s", [cloud.pk])
        (stored,) = cursor.fetchone()
    assert ACCESS_KEY not in stored and SECRET_KEY not in stored
    assert decrypt_json(stored) == {"key": ACCESS_KEY, "secret": SECRET_KEY}


@pytest.mark.django_db
def test_config_carries_the_decrypted_credentials_and_the_endpoint(alice):
    cloud = make_cloud(alice, port=8773, path="/services/Cloud", secure=False, options={"signature": "4"})
    config = cloud.config()
    assert config.credentials == {"key": ACCESS_KEY, "secret": SECRET_KEY}
    assert (config.driver, config.host, config.port, config.path) == (
        "ec2",
        "ec2.example.org",
        8773,
        "/services/Cloud",
    )
    assert config.secure is False and config.region == "us-east-1" and config.options == {"signature": "4"}


@pytest.mark.django_db
def test_neither_str_nor_repr_shows_a_credential(alice):
    cloud = make_cloud(alice)
    assert_no_secret(str(cloud) + repr(cloud) + repr(cloud.config()), cloud)


@pytest.mark.django_db
def test_empty_credentials_are_not_stored(alice):
    cloud = make_cloud(alice, credentials={"key": ACCESS_KEY, "secret": ""})
    assert cloud.credential_names() == ["key"]
    cloud.set_credentials({})
    assert cloud.credentials == "" and cloud.credential_names() == []


@pytest.mark.django_db
def test_unreadable_credentials_count_as_not_set(alice):
    cloud = make_cloud(alice)
    cloud.credentials = "not-a-fernet-token"
    assert cloud.credential_names() == []


@pytest.mark.django_db
def test_two_users_may_use_the_same_cloud_name_but_one_user_may_not(alice, bob):
    make_cloud(alice, name="CERN")
    make_cloud(bob, name="CERN")
    with pytest.raises(IntegrityError):
        make_cloud(alice, name="CERN")


@pytest.mark.django_db
def test_site_wide_cloud_names_are_unique_too(alice):
    make_cloud(None, name="Site EC2")
    make_cloud(alice, name="Site EC2")
    with pytest.raises(IntegrityError):
        make_cloud(None, name="Site EC2")


@pytest.mark.django_db
def test_usable_by_means_own_and_site_wide(alice, bob):
    own, site, _other = make_cloud(alice, name="a"), make_cloud(None, name="s"), make_cloud(bob, name="b")
    assert set(Cloud.objects.usable_by(alice)) == {own, site}


@pytest.mark.django_db
def test_a_new_user_data_format_needs_no_migration(monkeypatch):
    """Images take the formats the renderers know when asked (clusters.models.user_data_formats)."""
    from django.core.management import call_command

    from clusters.models import Image
    from contexts import render

    monkeypatch.setattr(render, "FORMATS", (*render.FORMATS, "ignition"))
    assert ("ignition", "ignition") in Image._meta.get_field("format").choices
    call_command("makemigrations", "--check", "--dry-run", verbosity=0)  # exits 1 when one is needed
