"""The definitions list: mine, and the public ones of other users on their own tab."""

import pytest

from clusters.tests.definition_helpers import make_definition, make_image, make_offering, make_profile

pytestmark = pytest.mark.django_db


def with_roles(owner, name, *, visibility="private"):
    profile, image, offering = (
        make_profile(owner, name),
        make_image(owner, cloud_name=name),
        make_offering(name),
    )
    roles = [{"name": "master", "profile": profile, "image": image, "offering": offering},
             {"name": "worker", "profile": profile, "image": image, "offering": offering, "count": 20}]  # fmt: skip
    return make_definition(owner, name, visibility=visibility, roles=roles)


def test_my_definitions_are_listed_with_their_roles(alice_client, alice):
    with_roles(alice, "Condor pool")
    html = alice_client.get("/definitions/").content.decode()
    assert "Condor pool" in html
    assert "master × 1" in html
    assert "worker × 20" in html
    assert ">21</td>" in html


def test_the_list_offers_a_first_definition_when_there_is_none(alice_client):
    assert "Define your first cluster" in alice_client.get("/definitions/").content.decode()


def test_others_public_definitions_are_on_the_public_tab_and_private_ones_nowhere(alice_client, charlie):
    with_roles(charlie, "Shared pool", visibility="public")
    with_roles(charlie, "Hidden pool")
    mine = alice_client.get("/definitions/").content.decode()
    public = alice_client.get("/definitions/?show=public").content.decode()
    assert "Shared pool" not in mine
    assert "Shared pool" in public
    assert "charlie" in public
    assert "Hidden pool" not in mine + public


def test_the_list_reads_a_bounded_number_of_rows(alice_client, alice, django_assert_max_num_queries):
    for n in range(6):
        with_roles(alice, f"Pool {n}")
    with django_assert_max_num_queries(6):
        response = alice_client.get("/definitions/")
    assert response.content.decode().count("worker × 20") == 6
