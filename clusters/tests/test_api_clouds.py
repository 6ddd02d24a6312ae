"""The clouds, offerings and images API (docs/api.md): the cloud pages' rules in JSON, and no
credential in any response."""

import pytest
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from clusters.models import CheckState, Cloud, Image, ServiceOffering
from clusters.tests.cloud_helpers import (
    ACCESS_KEY,
    SECRET_KEY,
    assert_no_secret,
    idle_queue,
    make_cloud,
    published_tasks,
)

EC2 = {
    "name": "My EC2",
    "driver": "ec2",
    "host": "ec2.example.org",
    "port": 8773,
    "secure": True,
    "region": "us-east-1",
    "credentials": {"key": ACCESS_KEY, "secret": SECRET_KEY},
    "queue": "default",
}


def api_client(user) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {Token.objects.create(user=user).key}")
    return client


@pytest.fixture
def alice_api(alice):
    return api_client(alice)


@pytest.fixture
def charlie_api(charlie):
    return api_client(charlie)


@pytest.fixture
def staff_api(django_user_model):
    return api_client(django_user_model.objects.create_user(username="staffer", is_staff=True))


@pytest.mark.django_db
def test_it_creates_a_cloud_and_returns_no_credential(alice_api, alice):
    response = alice_api.post("/api/v1/clouds/", EC2, format="json")
    assert response.status_code == 201, response.content
    data = response.json()
    cloud = Cloud.objects.get(pk=data["id"], owner=alice)
    assert cloud.config().credentials == {"key": ACCESS_KEY, "secret": SECRET_KEY}
    assert data["credentials_set"] == ["key", "secret"]
    assert "credentials" not in data
    for field in ("name", "driver", "host", "port", "secure", "region", "queue"):
        assert data[field] == EC2[field]
    assert data["options"] == {"image_owner": "self"}
    assert data["check_state"] == "never"
    assert_no_secret(response.content.decode(), cloud)


@pytest.mark.django_db
def test_credentials_never_appear_in_any_response(alice_api, alice):
    cloud = make_cloud(alice)
    Image.objects.create(cloud=cloud, name="CernVM", provider_id="ami-1")
    urls = ["/api/v1/clouds/", f"/api/v1/clouds/{cloud.pk}/", f"/api/v1/clouds/{cloud.pk}/check/",
            "/api/v1/images/", "/api/v1/offerings/"]  # fmt: skip
    for url in urls:
        response = alice_api.get(url)
        assert response.status_code == 200
        assert_no_secret(response.content.decode(), cloud)
    response = alice_api.patch(f"/api/v1/clouds/{cloud.pk}/", {"region": "eu-west-1"}, format="json")
    assert_no_secret(response.content.decode(), cloud)


@pytest.mark.django_db
def test_a_patch_keeps_the_stored_credentials(alice_api, alice):
    cloud = make_cloud(alice)
    response = alice_api.patch(f"/api/v1/clouds/{cloud.pk}/", {"region": "eu-west-1"}, format="json")
    assert response.status_code == 200, response.content
    cloud.refresh_from_db()
    assert cloud.region == "eu-west-1"
    assert cloud.host == "ec2.example.org"
    assert cloud.config().credentials == {"key": ACCESS_KEY, "secret": SECRET_KEY}


@pytest.mark.django_db
def test_a_put_replaces_a_credential(alice_api, alice):
    cloud = make_cloud(alice)
    body = {**EC2, "credentials": {"secret": "new-secret-Ab12"}}
    assert alice_api.put(f"/api/v1/clouds/{cloud.pk}/", body, format="json").status_code == 200
    cloud.refresh_from_db()
    assert cloud.config().credentials == {"key": ACCESS_KEY, "secret": "new-secret-Ab12"}


@pytest.mark.django_db
def test_it_deletes_a_cloud(alice_api, alice):
    cloud = make_cloud(alice)
    assert alice_api.delete(f"/api/v1/clouds/{cloud.pk}/").status_code == 204
    assert not Cloud.objects.filter(pk=cloud.pk).exists()


@pytest.mark.django_db
def test_a_stranger_gets_404_on_another_users_cloud(charlie_api, alice):
    cloud = make_cloud(alice)
    url = f"/api/v1/clouds/{cloud.pk}/"
    for response in (
        charlie_api.get(url),
        charlie_api.patch(url, {"name": "x"}, format="json"),
        charlie_api.delete(url),
        charlie_api.post(f"{url}check/"),
        charlie_api.post(
            "/api/v1/images/", {"cloud": cloud.pk, "name": "x", "provider_id": "ami-1"}, format="json"
        ),
    ):
        assert response.status_code == 404
        assert response.json()["detail"]
    assert charlie_api.get("/api/v1/clouds/").json()["count"] == 0
    assert Cloud.objects.get(pk=cloud.pk).name == "My EC2"


@pytest.mark.django_db
def test_site_wide_clouds_are_read_by_all_and_changed_by_staff_only(alice_api, staff_api):
    response = staff_api.post("/api/v1/clouds/", {**EC2, "name": "Shared", "site_wide": True}, format="json")
    assert response.status_code == 201, response.content
    cloud_id = response.json()["id"]
    assert response.json()["site_wide"] is True
    assert alice_api.get(f"/api/v1/clouds/{cloud_id}/").status_code == 200
    assert alice_api.get(f"/api/v1/clouds/{cloud_id}/").json()["can_edit"] is False
    assert alice_api.patch(f"/api/v1/clouds/{cloud_id}/", {"name": "Mine"}, format="json").status_code == 403
    assert alice_api.delete(f"/api/v1/clouds/{cloud_id}/").status_code == 403
    assert staff_api.patch(f"/api/v1/clouds/{cloud_id}/", {"name": "Ours"}, format="json").status_code == 200


@pytest.mark.django_db
def test_only_staff_add_site_wide_clouds(alice_api):
    response = alice_api.post("/api/v1/clouds/", {**EC2, "site_wide": True}, format="json")
    assert response.status_code == 403
    assert not Cloud.objects.exists()


@pytest.mark.django_db
def test_check_queues_the_test_and_answers_202(alice_api, alice):
    with idle_queue() as queue, published_tasks() as published:
        cloud = make_cloud(alice, queue=queue)
        response = alice_api.post(f"/api/v1/clouds/{cloud.pk}/check/")
    assert response.status_code == 202
    assert response.json()["state"] == "pending"
    assert [(m["task"], list(m["body"][0])) for m in published] == [
        ("clusters.tasks.check_cloud_task", [cloud.pk])
    ]
    cloud.refresh_from_db()
    assert cloud.check_state == CheckState.PENDING
    assert alice_api.get(f"/api/v1/clouds/{cloud.pk}/").json()["check_state"] == "pending"


BAD_CLOUDS = [
    {**EC2, "driver": "nosuch"},
    {**EC2, "port": "abc"},
    {**EC2, "port": 70000},
    {**EC2, "name": ""},
    {**EC2, "credentials": "key"},
    {**EC2, "credentials": {"password": "x"}},
    {**EC2, "credentials": {"key": ACCESS_KEY}},  # the secret is required
    {**EC2, "options": {"nosuch": "x"}},
    {**EC2, "queue": "bad queue!"},
    {**EC2, "secure": "maybe"},
    {**EC2, "served_by_agent": True},  # an agent needs a queue of its own
    {k: v for k, v in EC2.items() if k != "driver"},
    [],
]


@pytest.mark.django_db
@pytest.mark.parametrize("body", BAD_CLOUDS)
def test_bad_clouds_are_a_json_400_without_credentials(alice_api, body):
    response = alice_api.post("/api/v1/clouds/", body, format="json")
    assert response.status_code == 400, response.content
    data = response.json()
    assert data["detail"] and data["errors"]
    assert ACCESS_KEY not in response.content.decode() and SECRET_KEY not in response.content.decode()
    assert not Cloud.objects.exists()


@pytest.mark.django_db
def test_a_duplicate_name_and_a_driver_change_are_400(alice_api, alice):
    cloud = make_cloud(alice)
    assert alice_api.post("/api/v1/clouds/", EC2, format="json").status_code == 400
    response = alice_api.patch(f"/api/v1/clouds/{cloud.pk}/", {"driver": "openstack"}, format="json")
    assert response.status_code == 400


@pytest.mark.django_db
def test_it_lists_active_offerings(alice_api):
    ServiceOffering.objects.all().delete()
    ServiceOffering.objects.create(name="small", vcpus=1, ram_mb=2048)
    ServiceOffering.objects.create(name="old", vcpus=1, ram_mb=512, active=False)
    data = alice_api.get("/api/v1/offerings/").json()
    assert [o["name"] for o in data["results"]] == ["small"]


@pytest.mark.django_db
def test_users_add_images_to_their_own_clouds(alice_api, alice):
    cloud = make_cloud(alice)
    body = {"cloud": cloud.pk, "name": "CernVM 4", "provider_id": "ami-123", "format": "amiconfig"}
    response = alice_api.post("/api/v1/images/", body, format="json")
    assert response.status_code == 201, response.content
    data = response.json()
    assert {k: data[k] for k in body} == body
    assert set(data) == {"id", "name", "cloud", "provider_id", "format"}
    listed = alice_api.get(f"/api/v1/images/?cloud={cloud.pk}").json()["results"]
    assert [i["id"] for i in listed] == [data["id"]]
    assert alice_api.post("/api/v1/images/", body, format="json").status_code == 400  # same name
    assert alice_api.delete(f"/api/v1/images/{data['id']}/").status_code == 204


@pytest.mark.django_db
def test_only_staff_add_images_to_site_wide_clouds(alice_api, staff_api):
    cloud = make_cloud(None, name="Shared")
    body = {"cloud": cloud.pk, "name": "CernVM 4", "provider_id": "ami-123"}
    response = alice_api.post("/api/v1/images/", body, format="json")
    assert response.status_code == 403
    assert response.json()["detail"]
    assert staff_api.post("/api/v1/images/", body, format="json").status_code == 201
    assert alice_api.get("/api/v1/images/").json()["count"] == 1


@pytest.mark.django_db
@pytest.mark.parametrize(
    "body",
    [{"name": "x", "provider_id": "ami-1"}, {"cloud": "1", "name": "x"}, {"cloud": None}, {"cloud": True}],
)
def test_bad_images_are_a_json_400(alice_api, alice, body):
    make_cloud(alice)
    response = alice_api.post("/api/v1/images/", body, format="json")
    assert response.status_code == 400
    assert response.json()["errors"]


@pytest.mark.django_db
def test_a_bad_format_or_missing_field_on_an_image_is_a_400(alice_api, alice):
    cloud = make_cloud(alice)
    for body in (
        {"cloud": cloud.pk, "name": "x", "provider_id": "ami-1", "format": "docx"},
        {"cloud": cloud.pk},
    ):
        assert alice_api.post("/api/v1/images/", body, format="json").status_code == 400


@pytest.mark.django_db
def test_options_and_huge_ids_are_no_500(alice_api, alice):
    cloud = make_cloud(alice)
    assert alice_api.options(f"/api/v1/clouds/{cloud.pk}/").status_code == 200
    assert alice_api.get(f"/api/v1/clouds/{'9' * 30}/").status_code == 404
    assert alice_api.get(f"/api/v1/images/?cloud={'9' * 30}").status_code == 400
    body = {"cloud": 10**30, "name": "x", "provider_id": "ami-1"}
    assert alice_api.post("/api/v1/images/", body, format="json").status_code == 400
