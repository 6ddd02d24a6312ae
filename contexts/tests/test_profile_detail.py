"""The profile page: metadata, the redacted document, and a preview of every user-data format."""

from urllib.parse import urlencode

import pytest
from django.conf import settings
from django.utils.html import escape

from contexts.profiles import render_revision, shown_document
from contexts.templating import parse_variables, preview_variables
from contexts.tests.profile_helpers import assert_no_secret, make_profile

VARS = ["cluster.name=demo", "role.name=node", "roles.master.address=10.0.0.5", "instance.index=3"]


@pytest.mark.django_db
def test_it_shows_the_metadata_and_the_redacted_document(alice_client, alice):
    profile = make_profile(alice)
    html = alice_client.get(f"/profiles/{profile.pk}/").content.decode()
    assert "Condor worker" in html
    assert "A worker." in html
    assert "revision 1" in html
    assert "timezone: Europe/Zurich" in html
    assert "password: &#x27;********&#x27;" in html
    assert_no_secret(html, profile)


@pytest.mark.django_db
def test_it_previews_every_format_with_the_default_variables(alice_client, alice):
    profile = make_profile(alice)
    html = alice_client.get(f"/profiles/{profile.pk}/").content.decode()
    defaults = preview_variables(shown_document(profile.latest), settings.PORTAL_URL)
    assert escape("\n".join(f"{k}={v}" for k, v in defaults.items())) in html
    for fmt in ("cloud-init", "amiconfig", "shell"):
        expected = render_revision(profile.latest, parse_variables(defaults), fmt, redact=True)
        assert escape(expected.decode()) in html
    assert "hostname: preview-node-0" in html
    assert_no_secret(html, profile)


@pytest.mark.django_db
def test_it_previews_with_the_variables_given(alice_client, alice):
    profile = make_profile(alice)
    query = urlencode({"vars": "\r\n".join(VARS), "provider": ""})
    html = alice_client.get(f"/profiles/{profile.pk}/?{query}").content.decode()
    expected = render_revision(profile.latest, parse_variables(VARS), "cloud-init", redact=True)
    assert escape(expected.decode()) in html
    assert "hostname: demo-node-3" in html
    assert "CONDOR_HOST = 10.0.0.5" in html
    assert f"render_profile {profile.pk} --format cloud-init --revision 1 --var cluster.name=demo" in html


@pytest.mark.django_db
def test_the_raw_preview_gives_the_same_bytes_as_render_revision(alice_client, alice):
    profile = make_profile(alice)
    query = urlencode({"vars": "\n".join(VARS)})
    for fmt in ("cloud-init", "amiconfig", "shell"):
        response = alice_client.get(f"/profiles/{profile.pk}/preview/{fmt}/?{query}")
        assert response.status_code == 200
        assert response.content == render_revision(profile.latest, parse_variables(VARS), fmt, redact=True)
        assert not response["Content-Disposition"].startswith("attachment")


@pytest.mark.django_db
def test_it_shows_a_bad_variable_as_an_alert(alice_client, alice):
    profile = make_profile(alice)
    response = alice_client.get(f"/profiles/{profile.pk}/?" + urlencode({"vars": "cluster.name demo"}))
    assert response.status_code == 200
    assert "must look like key=value" in response.content.decode()


@pytest.mark.django_db
def test_it_shows_a_render_error_as_an_alert(alice_client, alice):
    profile = make_profile(alice)
    query = urlencode({"vars": "cluster.name=demo"})  # the hostname also needs role.name
    response = alice_client.get(f"/profiles/{profile.pk}/?{query}")
    html = response.content.decode()
    assert response.status_code == 200
    assert "Cannot render cloud-init" in html
    assert "role" in html


@pytest.mark.django_db
def test_it_shows_an_unknown_provider_as_a_form_error(alice_client, alice):
    profile = make_profile(alice)
    response = alice_client.get(f"/profiles/{profile.pk}/?" + urlencode({"vars": "", "provider": "azure"}))
    assert response.status_code == 200
    assert "Select a valid choice" in response.content.decode()


@pytest.mark.django_db
def test_a_stranger_sees_the_redacted_preview_of_a_public_profile(charlie_client, alice):
    profile = make_profile(alice, visibility="public")
    html = charlie_client.get(f"/profiles/{profile.pk}/").content.decode()
    assert "#cloud-config" in html
    assert "(with secrets)" not in html
    assert "--redact" in html
    assert_no_secret(html, profile)
