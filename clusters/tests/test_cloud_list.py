import pytest

from clusters.models import Image
from clusters.tests.cloud_helpers import assert_no_secret, make_cloud


@pytest.mark.django_db
def test_it_lists_my_clouds_and_the_site_wide_ones(alice_client, alice, bob):
    mine = make_cloud(alice, name="Alice EC2", queue="alice-agent")
    Image.objects.create(cloud=mine, name="CernVM 4", provider_id="ami-1")
    make_cloud(None, name="Site OpenStack", driver="openstack")
    make_cloud(bob, name="Bob EC2")
    html = alice_client.get("/clouds/").content.decode()
    assert "Alice EC2" in html and "<code>alice-agent</code>" in html
    assert "Site OpenStack" in html
    assert "Bob EC2" not in html
    assert (
        html.index("My clouds")
        < html.index("Alice EC2")
        < html.index("Site-wide clouds")
        < html.index("Site OpenStack")
    )
    assert_no_secret(html, mine)


@pytest.mark.django_db
def test_a_user_without_clouds_is_invited_to_add_one(alice_client):
    html = alice_client.get("/clouds/").content.decode()
    assert "Add your first cloud" in html
    assert "No site-wide cloud is set up." in html


@pytest.mark.django_db
def test_the_list_costs_a_fixed_number_of_queries(alice_client, alice, django_assert_max_num_queries):
    for n in range(20):
        make_cloud(alice if n % 2 else None, name=f"cloud {n}")
    with django_assert_max_num_queries(6):
        alice_client.get("/clouds/")


@pytest.mark.django_db
def test_the_nav_bar_links_to_the_clouds(alice_client):
    assert 'href="/clouds/">Clouds</a>' in alice_client.get("/clouds/").content.decode()
