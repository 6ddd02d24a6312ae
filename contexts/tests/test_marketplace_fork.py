import pytest
from django.test import Client
from django.urls import reverse

from contexts.models import Profile
from contexts.secrets import secret_slots
from contexts.tests.marketplace_helpers import publish
from contexts.tests.profile_helpers import assert_no_secret

pytestmark = pytest.mark.django_db


def fork_url(profile):
    return reverse("marketplace:profile_fork", args=[profile.pk])


def test_it_forks_into_a_private_copy(alice, charlie, charlie_client):
    source = publish(alice, "Condor worker", description="Joins the pool.", tags=["cms", "grid"])
    response = charlie_client.post(fork_url(source))
    copy = Profile.objects.get(owner=charlie)
    assert response.status_code == 302
    assert response.url == copy.get_absolute_url()
    assert copy.visibility == "private"
    assert copy.name == "Condor worker"
    assert copy.description == "Joins the pool."
    assert sorted(t.name for t in copy.tags.all()) == ["cms", "grid"]
    assert copy.forked_from == source.latest


def test_it_copies_the_document_but_no_secret(alice, charlie, charlie_client):
    source = publish(alice, "Condor worker")
    charlie_client.post(fork_url(source))
    stored = Profile.objects.get(owner=charlie).latest.document
    assert not [name for c, k, name in secret_slots(stored) if c.get(k)]
    assert "password" not in stored["root"]
    assert "pool_password" not in stored["services"]["condor"]
    assert "password" not in stored["users"][0]
    assert stored["users"][0]["name"] == "alice"
    assert stored["packages"] == source.latest.document["packages"]
    assert stored["cvmfs"] == source.latest.document["cvmfs"]
    assert_no_secret(str(stored), source)


def test_the_copy_says_where_it_comes_from(alice, charlie, charlie_client):
    source = publish(alice, "Condor worker")
    charlie_client.post(fork_url(source))
    copy = Profile.objects.get(owner=charlie)
    html = charlie_client.get(copy.get_absolute_url()).content.decode()
    assert "Forked from" in html
    assert "Condor worker</a> by alice" in html


def test_a_fork_counts_on_the_source(alice, charlie_client):
    source = publish(alice, "Condor worker")
    charlie_client.post(fork_url(source))
    page = Client().get(reverse("marketplace:profile", args=[source.pk]))
    assert page.context["fork_count"] == 1


def test_the_owner_can_fork_their_own_public_profile(alice, alice_client):
    source = publish(alice, "Condor worker")
    alice_client.post(fork_url(source))
    copy = Profile.objects.exclude(pk=source.pk).get()
    assert copy.owner == alice
    assert copy.slug == "condor-worker-2"


def test_a_stranger_cannot_fork_a_private_profile(alice, charlie, charlie_client):
    source = publish(alice, "Mine", visibility="private")
    assert charlie_client.post(fork_url(source)).status_code == 404
    assert not Profile.objects.filter(owner=charlie).exists()


def test_a_logged_out_user_is_sent_to_log_in(alice):
    source = publish(alice, "Condor worker")
    response = Client().post(fork_url(source))
    assert response.status_code == 302
    assert response.url.startswith(reverse("login"))
    assert Profile.objects.count() == 1


def test_it_needs_a_post(alice, charlie_client):
    source = publish(alice, "Condor worker")
    assert charlie_client.get(fork_url(source)).status_code == 405
