"""Adding, editing and deleting a cloud, and changing its credentials, are recorded — from the pages
and from the API — and no record ever holds a credential."""

import pytest
from rest_framework.test import APIClient

from audit.models import Action, AuditRecord
from audit.tests.helpers import ALICE_ADDRESS, only_record
from clusters.models import Cloud
from clusters.tests.cloud_helpers import ec2_data, make_cloud

pytestmark = pytest.mark.django_db
SECRET = "very-secret-key-value"


def _api(user):
    client = APIClient(REMOTE_ADDR=ALICE_ADDRESS)
    client.force_authenticate(user)
    return client


def assert_no_credential_anywhere():
    for record in AuditRecord.objects.all():
        assert SECRET not in " ".join(str(value) for value in record.__dict__.values())


def test_adding_a_cloud_on_the_page_is_recorded(alice, alice_client):
    response = alice_client.post("/clouds/new/ec2/", ec2_data(name="Lab EC2", param_secret=SECRET),
                                 REMOTE_ADDR=ALICE_ADDRESS)  # fmt: skip
    assert response.status_code == 302
    cloud = Cloud.objects.get(name="Lab EC2")
    record = only_record(action=Action.CLOUD_CREATE)
    assert (record.user, record.address, record.object_type, record.object_id, record.object_name) == (
        alice, ALICE_ADDRESS, "cloud", str(cloud.pk), "Lab EC2"
    )  # fmt: skip
    assert record.summary == "added cloud Lab EC2 (ec2, own)"
    assert_no_credential_anywhere()


def test_editing_a_cloud_says_which_fields_changed(alice, alice_client):
    cloud = make_cloud(alice, name="Lab EC2")
    data = ec2_data(name="Lab EC2", region="eu-west-1", port="", path="", param_key="", param_secret="")
    assert alice_client.post(f"/clouds/{cloud.pk}/edit/", data, REMOTE_ADDR=ALICE_ADDRESS).status_code == 302
    record = only_record(action=Action.CLOUD_EDIT)
    assert record.summary == "edited cloud Lab EC2: changed region"
    assert record.address == ALICE_ADDRESS


def test_changing_credentials_is_its_own_kind_of_record_without_the_credentials(alice, alice_client):
    cloud = make_cloud(alice, name="Lab EC2")
    data = ec2_data(name="Lab EC2", port="", path="", param_key="", param_secret=SECRET)
    assert alice_client.post(f"/clouds/{cloud.pk}/edit/", data).status_code == 302
    record = only_record(action=Action.CLOUD_CREDENTIALS)
    assert record.summary == "edited cloud Lab EC2: changed credentials"
    assert_no_credential_anywhere()


def test_deleting_a_cloud_is_recorded_with_its_id(alice, alice_client):
    cloud = make_cloud(alice, name="Old cloud")
    cloud_id = cloud.pk
    assert alice_client.post(f"/clouds/{cloud_id}/delete/", REMOTE_ADDR=ALICE_ADDRESS).status_code == 302
    assert not Cloud.objects.filter(pk=cloud_id).exists()
    record = only_record(action=Action.CLOUD_DELETE)
    assert (record.object_id, record.object_name, record.summary) == (
        str(cloud_id), "Old cloud", "deleted cloud Old cloud (ec2, own)"
    )  # fmt: skip


def test_cloud_changes_through_the_api_are_recorded(alice):
    api = _api(alice)
    body = {"name": "API cloud", "driver": "ec2", "region": "us-east-1",
            "credentials": {"key": "AKIA", "secret": SECRET}}  # fmt: skip
    created = api.post("/api/v1/clouds/", body, format="json")
    assert created.status_code == 201, created.content
    cloud_id = created.json()["id"]
    assert api.patch(f"/api/v1/clouds/{cloud_id}/", {"region": "eu-west-1"}, format="json").status_code == 200
    assert api.patch(f"/api/v1/clouds/{cloud_id}/", {"credentials": {"secret": SECRET + "2"}},
                     format="json").status_code == 200  # fmt: skip
    assert api.delete(f"/api/v1/clouds/{cloud_id}/").status_code == 204
    actions = list(
        AuditRecord.objects.filter(object_type="cloud").order_by("id").values_list("action", "summary")
    )
    assert actions == [
        (Action.CLOUD_CREATE, "added cloud API cloud (ec2, own)"),
        (Action.CLOUD_EDIT, "edited cloud API cloud: changed region"),
        (Action.CLOUD_CREDENTIALS, "edited cloud API cloud: changed credentials"),
        (Action.CLOUD_DELETE, "deleted cloud API cloud (ec2, own)"),
    ]
    assert set(AuditRecord.objects.filter(object_type="cloud").values_list("address", flat=True)) == {
        ALICE_ADDRESS
    }
    assert_no_credential_anywhere()


def test_a_refused_cloud_is_not_recorded(alice, alice_client):
    alice_client.post("/clouds/new/ec2/", ec2_data(name=""))
    assert not AuditRecord.objects.filter(object_type="cloud").exists()
