import pytest

from contexts.profiles import add_revision, plain_document
from contexts.tests.profile_helpers import make_profile


@pytest.mark.django_db
def test_it_lists_revisions_with_author_and_message(alice_client, alice):
    profile = make_profile(alice)
    document = plain_document(profile.latest)
    add_revision(profile, {**document, "timezone": "UTC"}, author=alice, message="Move to UTC")
    html = alice_client.get(f"/profiles/{profile.pk}/history/").content.decode()
    assert "Move to UTC" in html
    assert "Created" in html
    assert html.count(">alice<") >= 2
    assert 'name="a" value="1" aria-label="compare from revision 1" checked' in html
    assert 'name="b" value="2" aria-label="compare to revision 2" checked' in html


@pytest.mark.django_db
def test_it_lists_with_a_bounded_number_of_queries(alice_client, alice, django_assert_max_num_queries):
    profile = make_profile(alice)
    for n in range(20):
        add_revision(profile, {"schema": 1, "hostname": f"h{n}"}, author=alice)
    with django_assert_max_num_queries(6):
        assert alice_client.get(f"/profiles/{profile.pk}/history/").status_code == 200
