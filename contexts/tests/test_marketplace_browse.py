import pytest
from django.test import Client
from django.urls import reverse

from clusters.models import Cluster, ClusterDefinition
from contexts.marketplace import fork, star
from contexts.tests.marketplace_helpers import publish

pytestmark = pytest.mark.django_db

URL = reverse("marketplace:profiles")


def names(response):
    return [entry.name for entry in response.context["page"].object_list]


def test_it_lists_public_profiles_to_logged_out_users(alice):
    publish(alice, "Condor worker")
    response = Client().get(URL)
    assert response.status_code == 200
    assert names(response) == ["Condor worker"]
    assert b"Marketplace" in response.content


def test_it_never_lists_private_profiles(alice, charlie_client):
    publish(alice, "Secret sauce", visibility="private")
    assert names(charlie_client.get(URL)) == []
    assert names(charlie_client.get(URL, {"q": "sauce"})) == []


def test_it_finds_a_word_in_the_name(alice):
    publish(alice, "Condor worker")
    publish(alice, "Puppet agent")
    assert names(Client().get(URL, {"q": "condor"})) == ["Condor worker"]


def test_it_finds_a_word_in_the_description(alice):
    publish(alice, "Worker", description="Joins the CMS analysis pool.")
    publish(alice, "Other", description="Nothing to see.")
    assert names(Client().get(URL, {"q": "analysis"})) == ["Worker"]


def test_it_finds_a_tag(alice):
    publish(alice, "Worker", tags=["atlas"])
    publish(alice, "Other", tags=["cms"])
    assert names(Client().get(URL, {"q": "atlas"})) == ["Worker"]


def test_it_excludes_private_profiles_from_search(alice):
    publish(alice, "Condor public")
    publish(alice, "Condor private", visibility="private")
    assert names(Client().get(URL, {"q": "condor"})) == ["Condor public"]


def test_it_filters_by_tag(alice):
    publish(alice, "Worker", tags=["atlas", "grid"])
    publish(alice, "Other", tags=["cms"])
    response = Client().get(URL, {"tag": "atlas"})
    assert names(response) == ["Worker"]
    assert [t.name for t in response.context["tags"]] == ["atlas", "cms", "grid"]


def test_it_sorts_by_stars(alice, bob, charlie):
    publish(alice, "One")
    two, three = publish(alice, "Two"), publish(alice, "Three")
    for user in (alice, bob, charlie):
        star(user, two)
    star(alice, three)
    assert names(Client().get(URL, {"sort": "stars"})) == ["Two", "Three", "One"]
    assert [e.star_count for e in Client().get(URL).context["page"].object_list] == [3, 1, 0]


def test_it_sorts_by_forks(alice, bob):
    publish(alice, "One")
    two = publish(alice, "Two")
    fork(two, bob)
    response = Client().get(URL, {"sort": "forks"})
    assert names(response)[0] == "Two"
    assert response.context["page"].object_list[0].fork_count == 1


def test_it_sorts_by_newest(alice):
    publish(alice, "Old")
    publish(alice, "New")
    assert names(Client().get(URL, {"sort": "newest"})) == ["New", "Old"]


def test_it_shows_twenty_per_page(alice):
    for n in range(25):
        publish(alice, f"Profile {n}")
    assert len(Client().get(URL).context["page"].object_list) == 20
    assert len(Client().get(URL, {"page": 2}).context["page"].object_list) == 5


def test_its_queries_do_not_grow_with_the_page(alice, bob, django_assert_max_num_queries):
    for n in range(20):
        profile = publish(alice, f"Profile {n}", tags=["cms", f"t{n}"])
        star(bob, profile)
    client = Client()
    with django_assert_max_num_queries(4):
        response = client.get(URL)
    assert len(response.context["page"].object_list) == 20


def test_it_lists_public_definitions_by_launches(alice):
    quiet = ClusterDefinition.objects.create(owner=alice, name="Quiet pool", visibility="public")
    busy = ClusterDefinition.objects.create(owner=alice, name="Busy pool", visibility="public")
    ClusterDefinition.objects.create(owner=alice, name="Hidden pool")
    for n in range(2):
        Cluster.objects.create(owner=alice, definition=busy, name=f"c{n}", snapshot={}, secret="x")
    response = Client().get(reverse("marketplace:definitions"), {"sort": "launches"})
    assert [d.name for d in response.context["page"].object_list] == ["Busy pool", "Quiet pool"]
    assert response.context["page"].object_list[0].launch_count == 2
    assert quiet.name.encode() in response.content


def test_it_searches_definitions(alice):
    ClusterDefinition.objects.create(owner=alice, name="Condor pool", visibility="public")
    ClusterDefinition.objects.create(owner=alice, name="Slurm farm", visibility="public")
    response = Client().get(reverse("marketplace:definitions"), {"q": "slurm"})
    assert [d.name for d in response.context["page"].object_list] == ["Slurm farm"]
