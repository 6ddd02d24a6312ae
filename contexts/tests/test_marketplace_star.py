import pytest
from django.test import Client
from django.urls import reverse

from contexts.models import Star
from contexts.tests.marketplace_helpers import publish

pytestmark = pytest.mark.django_db


def star_url(profile):
    return reverse("marketplace:profile_star", args=[profile.pk])


def unstar_url(profile):
    return reverse("marketplace:profile_unstar", args=[profile.pk])


def test_it_stars_a_profile(alice, charlie, charlie_client):
    profile = publish(alice, "Worker")
    response = charlie_client.post(star_url(profile))
    assert response.status_code == 302
    assert Star.objects.filter(user=charlie, profile=profile).count() == 1
    page = charlie_client.get(reverse("marketplace:profile", args=[profile.pk]))
    assert page.context["starred"] is True
    assert page.context["star_count"] == 1


def test_a_second_star_is_a_no_op(alice, charlie_client):
    profile = publish(alice, "Worker")
    charlie_client.post(star_url(profile))
    charlie_client.post(star_url(profile))
    assert Star.objects.filter(profile=profile).count() == 1


def test_it_unstars(alice, charlie_client):
    profile = publish(alice, "Worker")
    charlie_client.post(star_url(profile))
    charlie_client.post(unstar_url(profile))
    assert not Star.objects.filter(profile=profile).exists()
    charlie_client.post(unstar_url(profile))  # unstarring again changes nothing
    assert not Star.objects.filter(profile=profile).exists()


def test_it_needs_a_post(alice, charlie_client):
    profile = publish(alice, "Worker")
    assert charlie_client.get(star_url(profile)).status_code == 405
    assert not Star.objects.exists()


def test_a_logged_out_user_is_sent_to_log_in(alice):
    profile = publish(alice, "Worker")
    response = Client().post(star_url(profile))
    assert response.status_code == 302
    assert response.url.startswith(reverse("login"))
    assert not Star.objects.exists()


def test_a_private_profile_cannot_be_starred(alice, charlie_client):
    profile = publish(alice, "Mine", visibility="private")
    assert charlie_client.post(star_url(profile)).status_code == 404
    assert not Star.objects.exists()
