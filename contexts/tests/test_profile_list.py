import pytest

from contexts.tests.profile_helpers import make_profile


@pytest.mark.django_db
def test_it_lists_my_profiles_with_visibility_tags_and_revision(alice_client, alice):
    make_profile(alice, name="Condor worker")
    html = alice_client.get("/profiles/").content.decode()
    assert "Condor worker" in html
    assert "Private" in html
    assert ">cms<" in html
    assert '<td class="text-end">1</td>' in html


@pytest.mark.django_db
def test_it_does_not_list_other_users_profiles_as_mine(alice_client, bob):
    make_profile(bob, name="Bob's profile", visibility="public")
    assert "Bob&#x27;s profile" not in alice_client.get("/profiles/").content.decode()


@pytest.mark.django_db
def test_the_public_tab_lists_public_profiles_of_others_only(alice_client, alice, bob):
    make_profile(bob, name="Bob public", visibility="public")
    make_profile(bob, name="Bob private")
    make_profile(alice, name="Alice public", visibility="public")
    html = alice_client.get("/profiles/?show=public").content.decode()
    assert "Bob public" in html
    assert "Bob private" not in html
    assert "Alice public" not in html
    assert ">bob<" in html


@pytest.mark.django_db
@pytest.mark.parametrize("url", ["/profiles/", "/profiles/?show=public"])
def test_it_lists_with_a_bounded_number_of_queries(
    alice_client, alice, bob, url, django_assert_max_num_queries
):
    for i in range(30):
        make_profile(alice if url == "/profiles/" else bob, name=f"Profile {i}", visibility="public")
    with django_assert_max_num_queries(8):
        response = alice_client.get(url)
    assert response.status_code == 200
    assert response.content.decode().count("/profiles/") > 25


@pytest.mark.django_db
def test_it_invites_a_new_user_to_create_a_profile(alice_client):
    assert "Create your first profile" in alice_client.get("/profiles/").content.decode()
