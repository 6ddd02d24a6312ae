"""The CSV export: a header and one row per record, read back with csv; filtered by date range,
user and address; the same visibility as the page; bad filters refused in words."""

import csv
import io
from datetime import timedelta

import pytest
from django.utils import timezone

from audit.models import Action, AuditRecord
from audit.views import RECORD_HEADER

pytestmark = pytest.mark.django_db


def _rows(response) -> list[dict]:
    assert response.status_code == 200
    assert response["Content-Type"] == "text/csv"
    assert response["Content-Disposition"].startswith('attachment; filename="audit-records-')
    text = b"".join(response.streaming_content).decode()
    reader = csv.reader(io.StringIO(text))
    header = next(reader)
    assert header == RECORD_HEADER
    return [dict(zip(header, row, strict=True)) for row in reader]


def _record(user, days_ago: int, address: str, summary: str, action=Action.SCALE):
    return AuditRecord.objects.create(created=timezone.now() - timedelta(days=days_ago), user=user,
                                      username=user.username, owner=user, address=address, action=action,
                                      object_type="cluster", object_id="7", object_name="demo",
                                      summary=summary)  # fmt: skip


@pytest.fixture
def history(alice, bob):
    AuditRecord.objects.all().delete()  # the fixtures' own logins: not what these tests count
    _record(alice, 10, "192.0.2.10", "scaled role worker of cluster demo to 4 instances")
    _record(alice, 3, "192.0.2.11", 'scaled role worker of cluster demo to 8 instances, "quoted"')
    _record(bob, 1, "198.51.100.7", '=HYPERLINK("http://example.org") typed as a name')
    _record(alice, 0, "2001:db8::5", "terminated cluster demo", action=Action.TERMINATE)


def test_the_export_has_a_header_and_one_row_per_record(alice, alice_client, history):
    rows = _rows(alice_client.get("/audit/records.csv"))
    assert [row["summary"] for row in rows] == [
        "terminated cluster demo",
        'scaled role worker of cluster demo to 8 instances, "quoted"',
        "scaled role worker of cluster demo to 4 instances",
    ]
    newest = rows[0]
    record = AuditRecord.objects.filter(action=Action.TERMINATE).get()
    assert newest == {
        "time": record.created.astimezone(timezone.get_fixed_timezone(0)).isoformat(timespec="seconds"),
        "user": "alice", "address": "2001:db8::5", "action": "terminate", "object type": "cluster",
        "object id": "7", "object name": "demo", "summary": "terminated cluster demo",
    }  # fmt: skip


def test_staff_export_everyones_records(root_client, history):
    assert {row["user"] for row in _rows(root_client.get("/audit/records.csv"))} >= {"alice", "bob"}


def test_a_cell_a_spreadsheet_would_run_as_a_formula_is_written_as_text(root_client, history):
    rows = _rows(root_client.get("/audit/records.csv", {"user": "bob"}))
    assert [row["summary"] for row in rows] == ['\'=HYPERLINK("http://example.org") typed as a name']


def test_it_filters_by_date_range(alice_client, history):
    today = timezone.localdate()
    start, end = today - timedelta(days=4), today - timedelta(days=2)
    rows = _rows(alice_client.get("/audit/records.csv", {"start": start.isoformat(), "end": end.isoformat()}))
    assert [row["address"] for row in rows] == ["192.0.2.11"]
    rows = _rows(alice_client.get("/audit/records.csv", {"start": today.isoformat()}))
    assert [row["address"] for row in rows] == ["2001:db8::5"]


def test_it_filters_by_user_and_address(root_client, history):
    assert [r["address"] for r in _rows(root_client.get("/audit/records.csv", {"user": "bob"}))] == [
        "198.51.100.7"
    ]
    rows = _rows(root_client.get("/audit/records.csv", {"address": "2001:DB8:0::5"}))  # any spelling of it
    assert [row["summary"] for row in rows] == ["terminated cluster demo"]
    assert _rows(root_client.get("/audit/records.csv", {"user": "alice", "address": "198.51.100.7"})) == []


def test_a_bad_filter_is_a_400_in_words(alice_client):
    response = alice_client.get(
        "/audit/records.csv", {"address": "10.0.0", "start": "2025-05-02", "end": "2025-05-01"}
    )
    assert response.status_code == 400
    text = response.content.decode()
    assert "address: '10.0.0' is not an IPv4 or IPv6 address." in text
    assert "The range ends before it starts." in text
