import pytest
from django.test import Client
from django.urls import reverse

from contexts.marketplace import fork
from contexts.tests.marketplace_helpers import publish
from contexts.tests.profile_helpers import assert_no_secret

pytestmark = pytest.mark.django_db


def url(profile):
    return reverse("marketplace:profile", args=[profile.pk])


def test_it_shows_a_public_profile_to_logged_out_users(alice):
    profile = publish(alice, "Condor worker", description="Joins the pool.", tags=["cms"])
    response = Client().get(url(profile))
    assert response.status_code == 200
    html = response.content.decode()
    assert "Condor worker" in html
    assert "alice" in html
    assert "Joins the pool." in html
    assert 'href="/marketplace/?tag=cms"' in html
    assert response.context["outputs"]  # the rendered preview


def test_its_preview_is_redacted(alice):
    profile = publish(alice, "Condor worker")
    html = Client().get(url(profile)).content.decode()
    assert "********" in html
    assert_no_secret(html, profile)


def test_it_is_a_404_for_a_private_profile(alice, alice_client, charlie_client):
    profile = publish(alice, "Mine", visibility="private")
    assert Client().get(url(profile)).status_code == 404
    assert charlie_client.get(url(profile)).status_code == 404
    assert alice_client.get(url(profile)).status_code == 404  # not published, not in the marketplace


def test_it_renders_the_description_as_markdown(alice):
    profile = publish(alice, "Worker", description="# Usage\n\nRun **this** `now`.")
    html = Client().get(url(profile)).content.decode()
    assert "<h1>Usage</h1>" in html
    assert "<strong>this</strong>" in html
    assert "<code>now</code>" in html


def test_it_sanitises_the_markdown(alice):
    description = 'Hi <script>alert("owned")</script> <img src=x onerror="alert(1)"> [x](javascript:alert(2))'
    profile = publish(alice, "Worker", description=description)
    html = Client().get(url(profile)).content.decode()
    assert 'alert("owned")' not in html
    assert "onerror" not in html
    assert "javascript:" not in html


def test_it_shows_where_a_fork_comes_from(alice, bob):
    source = publish(alice, "Condor worker")
    copy = fork(source, bob)
    copy.visibility = "public"
    copy.save()
    html = Client().get(url(copy)).content.decode()
    assert "Forked from" in html
    assert f'href="{url(source)}">Condor worker</a> by alice' in html
