"""No page, no API and no admin form changes or deletes an audit record or an address's history."""

import pytest
from django.utils import timezone

from audit.models import Action, AuditRecord, InstanceAddress, ReadOnly

pytestmark = pytest.mark.django_db


@pytest.fixture
def record(alice):
    return AuditRecord.objects.create(user=alice, username="alice", owner=alice, address="192.0.2.10",
                                      action=Action.TERMINATE, summary="terminated cluster demo")  # fmt: skip


@pytest.fixture
def held(alice):
    return InstanceAddress.objects.create(instance_name="demo-node-0", cluster_name="demo", owner=alice,
                                          owner_username="alice", cloud_name="moto", node_id="i-1",
                                          address="10.0.0.5", kind="private", seen_from=timezone.now())  # fmt: skip


def _unchanged(record):
    fresh = AuditRecord.objects.get(pk=record.pk)
    assert (fresh.summary, fresh.address, fresh.username) == (
        "terminated cluster demo",
        "192.0.2.10",
        "alice",
    )


def test_the_admin_lists_and_shows_records_read_only(root_client, record, held):
    listing = root_client.get("/admin/audit/auditrecord/").content.decode()
    assert "terminated cluster demo" in listing
    assert "action-select" not in listing  # no "delete selected" or any other bulk action
    page = root_client.get(f"/admin/audit/auditrecord/{record.pk}/change/")
    assert page.status_code == 200
    html = page.content.decode()
    assert 'name="summary"' not in html and 'type="submit"' not in html.split("<h1")[1]
    assert "10.0.0.5" in root_client.get("/admin/audit/instanceaddress/").content.decode()


def test_the_admin_refuses_to_change_a_record(root_client, record):
    response = root_client.post(f"/admin/audit/auditrecord/{record.pk}/change/",
                                {"summary": "nothing happened", "address": "127.0.0.1", "username": "bob"})  # fmt: skip
    assert response.status_code == 403
    _unchanged(record)


def test_the_admin_refuses_to_delete_or_add(root_client, record, held):
    assert (
        root_client.post(f"/admin/audit/auditrecord/{record.pk}/delete/", {"post": "yes"}).status_code == 403
    )
    assert (
        root_client.post(f"/admin/audit/instanceaddress/{held.pk}/delete/", {"post": "yes"}).status_code
        == 403
    )
    bulk = root_client.post("/admin/audit/auditrecord/", {"action": "delete_selected", "_selected_action": [record.pk],
                                                          "post": "yes"})  # fmt: skip
    assert bulk.status_code in (200, 302)
    assert root_client.get("/admin/audit/auditrecord/add/").status_code == 403
    _unchanged(record)
    assert InstanceAddress.objects.filter(pk=held.pk).exists()


@pytest.mark.parametrize("method", ["post", "put", "patch", "delete"])
@pytest.mark.parametrize(
    "url", ["/audit/", "/audit/records.csv", "/audit/addresses/", "/audit/addresses.csv"]
)
def test_the_audit_pages_only_read(root_client, record, method, url):
    assert getattr(root_client, method)(url, {"summary": "changed"}).status_code == 405
    _unchanged(record)


def test_a_record_cannot_be_saved_over_or_deleted_from_code(record):
    record.summary = "nothing happened"
    with pytest.raises(ReadOnly):
        record.save()
    with pytest.raises(ReadOnly):
        record.delete()
    _unchanged(record)
