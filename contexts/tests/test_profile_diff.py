"""Comparing two revisions: a unified diff of the redacted documents, secrets never shown."""

import pytest

from contexts.profiles import add_revision, plain_document
from contexts.secrets import REDACTED
from contexts.tests.profile_helpers import assert_no_secret, make_profile


def _second_revision(profile, user, **changes):
    document = plain_document(profile.latest)
    document.update(changes)
    return add_revision(profile, document, author=user, message="second")


@pytest.mark.django_db
def test_it_shows_a_changed_line_in_colour(alice_client, alice):
    profile = make_profile(alice)
    _second_revision(profile, alice, timezone="UTC")
    html = alice_client.get(f"/profiles/{profile.pk}/diff/?a=1&b=2").content.decode()
    assert '<span class="diff-del">-timezone: Europe/Zurich</span>' in html
    assert '<span class="diff-add">+timezone: UTC</span>' in html
    assert '<span class="diff-hunk">@@' in html
    assert_no_secret(html, profile)


@pytest.mark.django_db
def test_it_compares_the_last_two_revisions_by_default_and_in_order(alice_client, alice):
    profile = make_profile(alice)
    _second_revision(profile, alice, timezone="UTC")
    html = alice_client.get(f"/profiles/{profile.pk}/diff/").content.decode()
    assert "+timezone: UTC" in html
    swapped = alice_client.get(f"/profiles/{profile.pk}/diff/?a=2&b=1").content.decode()
    assert "+timezone: UTC" in swapped


@pytest.mark.django_db
def test_a_changed_secret_shows_as_changed_without_its_value(alice_client, alice):
    profile = make_profile(alice)
    document = plain_document(profile.latest)
    document["root"]["password"] = "another-root-pw"
    document["users"][0]["password"] = REDACTED  # kept, as the editor sends it: not a change
    document["services"]["condor"]["pool_password"] = REDACTED
    add_revision(profile, document, author=alice)
    html = alice_client.get(f"/profiles/{profile.pk}/diff/?a=1&b=2").content.decode()
    assert "+  password: &#x27;******** (changed)&#x27;" in html
    assert html.count("(changed)") == 2  # the line and the explanation above the diff
    assert "another-root-pw" not in html
    assert_no_secret(html, profile)


@pytest.mark.django_db
def test_a_removed_secret_shows_as_removed(alice_client, alice):
    profile = make_profile(alice)
    document = plain_document(profile.latest)
    del document["root"]
    add_revision(profile, document, author=alice)
    html = alice_client.get(f"/profiles/{profile.pk}/diff/?a=1&b=2").content.decode()
    assert "-  password: &#x27;********&#x27;" in html
    assert_no_secret(html, profile)


@pytest.mark.django_db
@pytest.mark.parametrize("query", ["a=1&b=9", "a=x&b=1"])
def test_a_revision_that_does_not_exist_is_a_404(alice_client, alice, query):
    profile = make_profile(alice)
    assert alice_client.get(f"/profiles/{profile.pk}/diff/?{query}").status_code == 404


@pytest.mark.django_db
def test_a_single_revision_has_no_difference(alice_client, alice):
    profile = make_profile(alice)
    assert "No difference." in alice_client.get(f"/profiles/{profile.pk}/diff/").content.decode()
