"""The advanced YAML view: the same document as text, secrets as ******** meaning "keep"."""

import pytest

from contexts.profiles import plain_document
from contexts.tests.profile_helpers import USER_PASSWORD, assert_no_secret, make_profile


def _yaml_url(profile):
    return f"/profiles/{profile.pk}/yaml/"


@pytest.mark.django_db
def test_it_shows_the_document_with_secrets_redacted(alice_client, alice):
    profile = make_profile(alice)
    html = alice_client.get(_yaml_url(profile)).content.decode()
    assert "timezone: Europe/Zurich" in html
    assert "password: &#x27;********&#x27;" in html
    assert "keeps it" in html
    assert_no_secret(html, profile)


@pytest.mark.django_db
def test_saving_makes_a_revision_and_keeps_redacted_secrets(alice_client, alice):
    profile = make_profile(alice)
    text = alice_client.get(_yaml_url(profile)).context["form"].initial["document"]
    text = text.replace("timezone: Europe/Zurich", "timezone: UTC")
    response = alice_client.post(_yaml_url(profile), {"document": text, "message": "to UTC"})
    assert response.status_code == 302
    profile.refresh_from_db()
    assert profile.latest.number == 2
    assert profile.latest.message == "to UTC"
    document = plain_document(profile.latest)
    assert document["timezone"] == "UTC"
    assert document["users"][0]["password"] == USER_PASSWORD


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("schema: 1\nusers: [\n  {name: bob\n", "YAML syntax error at line"),
        ("schema: 1\npackage_upgrade: maybe\n", "package_upgrade: must be true or false, not a text"),
        ("schema: 1\nhostname: '{{ cluster.nmae }}'\n", "hostname: unknown template variable"),
        ("- just\n- a list\n", "the document must be a mapping"),
        ("schema: 1\nusers: [{name: carol, password: '********'}]\n", "there is no stored secret to keep"),
        ("schema: 1\ncloud_config: {x: .nan}\n", "only text, numbers"),
    ],
)
def test_it_explains_a_bad_document_and_keeps_the_text(alice_client, alice, text, message):
    profile = make_profile(alice)
    response = alice_client.post(_yaml_url(profile), {"document": text})
    html = response.content.decode()
    assert response.status_code == 200
    assert message in html.replace("&#x27;", "'")
    assert response.context["form"]["document"].value() == text
    assert profile.revisions.count() == 1


@pytest.mark.django_db
def test_a_one_megabyte_script_is_refused_with_a_message(alice_client, alice):
    profile = make_profile(alice)
    body = "echo " + "x" * (1024 * 1024) + "\n"
    text = f"schema: 1\nscripts:\n  - name: big\n    body: {body}"
    response = alice_client.post(_yaml_url(profile), {"document": text})
    assert response.status_code == 200
    assert "the limit is 524,288 bytes" in response.content.decode()
    assert profile.revisions.count() == 1


@pytest.mark.django_db
def test_a_script_over_the_schema_limit_is_refused_with_a_message(alice_client, alice):
    profile = make_profile(alice)
    text = "schema: 1\nscripts:\n  - name: big\n    body: " + "x" * 70000 + "\n"
    response = alice_client.post(_yaml_url(profile), {"document": text})
    assert response.status_code == 200
    assert "scripts[0].body: too long (70,000 characters; the limit is 65,536)" in response.content.decode()


@pytest.mark.django_db
def test_a_request_over_the_upload_limit_is_a_plain_400(alice_client, alice):
    profile = make_profile(alice)
    response = alice_client.post(_yaml_url(profile), {"document": "x" * (3 * 1024 * 1024)})
    assert response.status_code == 400
    assert b"Traceback" not in response.content
    assert profile.revisions.count() == 1
