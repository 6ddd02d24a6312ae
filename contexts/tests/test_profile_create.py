import pytest

from contexts.models import Profile


@pytest.mark.django_db
def test_it_creates_a_blank_profile_and_opens_the_editor(alice_client, alice):
    response = alice_client.post(
        "/profiles/new/",
        {"name": "My worker", "description": "x", "visibility": "private", "tags": "cms, HTCondor"},
    )
    profile = Profile.objects.get(owner=alice)
    assert response.status_code == 302
    assert response["Location"] == f"/profiles/{profile.pk}/edit/"
    assert profile.slug == "my-worker"
    assert sorted(t.name for t in profile.tags.all()) == ["cms", "htcondor"]
    assert profile.latest.number == 1
    assert profile.latest.document == {"schema": 1}


@pytest.mark.django_db
def test_it_starts_from_the_given_yaml(alice_client, alice):
    alice_client.post(
        "/profiles/new/",
        {"name": "P", "visibility": "public", "document": "schema: 1\r\ntimezone: Europe/Zurich\r\n"},
    )
    profile = Profile.objects.get(owner=alice)
    assert profile.is_public
    assert profile.latest.document == {"schema": 1, "timezone": "Europe/Zurich"}


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("source", "message"),
    [
        ("schema: 1\nusers: [\n", "YAML syntax error at line"),
        ("schema: 1\npackages: htop\n", "packages: must be a list"),
        ("schema: 1\nhostname: '{{ nope }}'\n", "unknown template variable"),
    ],
)
def test_it_explains_a_bad_starting_document(alice_client, source, message):
    response = alice_client.post("/profiles/new/", {"name": "P", "visibility": "private", "document": source})
    assert response.status_code == 200
    assert message in response.content.decode()
    assert not Profile.objects.exists()


@pytest.mark.django_db
def test_it_requires_a_name(alice_client):
    response = alice_client.post("/profiles/new/", {"name": "", "visibility": "private"})
    assert response.status_code == 200
    assert not Profile.objects.exists()
