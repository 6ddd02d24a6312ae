"""Every launch, scale, terminate, retry and budget change — from the pages and from the API — is
recorded with who, when, from which address, the cluster, and what happened in plain words."""

from datetime import timedelta

import pytest
from django.utils import timezone
from rest_framework.test import APIClient

from audit.models import Action, AuditRecord
from audit.tests.helpers import ALICE_ADDRESS, launchable, only_record
from clusters.models import Cluster, Instance, InstanceState

pytestmark = pytest.mark.django_db


def _api(user):
    client = APIClient(REMOTE_ADDR=ALICE_ADDRESS)
    client.force_authenticate(user)
    return client


def _launch_from_the_page(client, cloud, definition) -> Cluster:
    response = client.post(f"/definitions/{definition.pk}/launch/",
                           {"name": "demo", "cloud": cloud.pk, "confirm_unserved": "1"},
                           REMOTE_ADDR=ALICE_ADDRESS)  # fmt: skip
    assert response.status_code == 302
    return Cluster.objects.get(name="demo")


def assert_recorded(record, user, cluster, action):
    assert record.user == user and record.username == user.username
    assert record.address == ALICE_ADDRESS
    assert timezone.now() - record.created < timedelta(minutes=1)
    assert (record.action, record.object_type, record.object_id, record.object_name) == (
        action, "cluster", str(cluster.pk), cluster.name
    )  # fmt: skip


def test_a_launch_from_the_page_is_recorded(alice, alice_client):
    cloud, definition = launchable(alice)
    cluster = _launch_from_the_page(alice_client, cloud, definition)
    record = only_record(action=Action.LAUNCH)
    assert_recorded(record, alice, cluster, Action.LAUNCH)
    assert (
        record.summary == "launched cluster demo from definition condor: 3 instances (master ×1, worker ×2)"
    )


def test_a_launch_through_the_api_is_recorded(alice):
    cloud, definition = launchable(alice)
    answer = _api(alice).post("/api/v1/clusters/", {"definition": definition.pk, "name": "api", "cloud": cloud.pk},
                              format="json")  # fmt: skip
    assert answer.status_code == 201
    assert_recorded(only_record(action=Action.LAUNCH), alice, Cluster.objects.get(name="api"), Action.LAUNCH)


def test_a_refused_launch_is_not_recorded(alice, alice_client):
    cloud, definition = launchable(alice)
    alice_client.post(f"/definitions/{definition.pk}/launch/", {"name": "Not A Name!", "cloud": cloud.pk})
    assert not AuditRecord.objects.filter(action=Action.LAUNCH).exists()


def test_scaling_from_the_page_and_the_api_is_recorded(alice, alice_client):
    cloud, definition = launchable(alice)
    cluster = _launch_from_the_page(alice_client, cloud, definition)
    alice_client.post(
        f"/clusters/{cluster.pk}/scale/", {"role": "worker", "count": 4}, REMOTE_ADDR=ALICE_ADDRESS
    )
    assert _api(alice).post(f"/api/v1/clusters/{cluster.pk}/scale/", {"role": "worker", "count": 1},
                            format="json").status_code == 200  # fmt: skip
    page, api = AuditRecord.objects.filter(action=Action.SCALE).order_by("id")
    assert_recorded(page, alice, cluster, Action.SCALE)
    assert_recorded(api, alice, cluster, Action.SCALE)
    assert page.summary == "scaled role worker of cluster demo to 4 instances"
    assert api.summary == "scaled role worker of cluster demo to 1 instances"


def test_a_refused_scale_is_not_recorded(alice, alice_client):
    cloud, definition = launchable(alice)
    cluster = _launch_from_the_page(alice_client, cloud, definition)
    alice_client.post(f"/clusters/{cluster.pk}/scale/", {"role": "worker", "count": 1000})  # over its maximum
    assert not AuditRecord.objects.filter(action=Action.SCALE).exists()


def test_terminating_is_recorded(alice, alice_client):
    cloud, definition = launchable(alice)
    cluster = _launch_from_the_page(alice_client, cloud, definition)
    alice_client.post(f"/clusters/{cluster.pk}/terminate/", REMOTE_ADDR=ALICE_ADDRESS)
    record = only_record(action=Action.TERMINATE)
    assert_recorded(record, alice, cluster, Action.TERMINATE)
    assert record.summary == "terminated cluster demo"


def test_terminating_through_the_api_is_recorded(alice, alice_client):
    cloud, definition = launchable(alice)
    cluster = _launch_from_the_page(alice_client, cloud, definition)
    assert _api(alice).post(f"/api/v1/clusters/{cluster.pk}/terminate/").status_code == 200
    assert_recorded(only_record(action=Action.TERMINATE), alice, cluster, Action.TERMINATE)


def test_retrying_failed_instances_is_recorded(alice, alice_client):
    cloud, definition = launchable(alice)
    cluster = _launch_from_the_page(alice_client, cloud, definition)
    Instance.objects.filter(cluster=cluster, role="worker").update(state=InstanceState.FAILED)
    alice_client.post(f"/clusters/{cluster.pk}/retry/", REMOTE_ADDR=ALICE_ADDRESS)
    record = only_record(action=Action.RETRY)
    assert_recorded(record, alice, cluster, Action.RETRY)
    assert (
        record.summary
        == "retried 2 failed instances of cluster demo with the revisions they were launched with"
    )

    Instance.objects.filter(cluster=cluster, role="worker").update(state=InstanceState.FAILED)
    assert _api(alice).post(f"/api/v1/clusters/{cluster.pk}/retry/", {"revision": "latest"},
                            format="json").status_code == 200  # fmt: skip
    latest = AuditRecord.objects.filter(action=Action.RETRY).first()
    assert latest.summary.endswith("with their roles' latest profile revisions")


def test_a_retry_with_nothing_to_retry_is_not_recorded(alice, alice_client):
    cloud, definition = launchable(alice)
    cluster = _launch_from_the_page(alice_client, cloud, definition)
    alice_client.post(f"/clusters/{cluster.pk}/retry/")
    assert not AuditRecord.objects.filter(action=Action.RETRY).exists()


def test_a_budget_change_is_recorded(alice, alice_client):
    cloud, definition = launchable(alice)
    cluster = _launch_from_the_page(alice_client, cloud, definition)
    alice_client.post(f"/clusters/{cluster.pk}/budget/", {"budget_per_day": "12.50", "budget_total": ""},
                      REMOTE_ADDR=ALICE_ADDRESS)  # fmt: skip
    assert _api(alice).post(f"/api/v1/clusters/{cluster.pk}/budget/", {"budget_total": "100"},
                            format="json").status_code == 200  # fmt: skip
    page, api = AuditRecord.objects.filter(action=Action.BUDGET).order_by("id")
    assert_recorded(page, alice, cluster, Action.BUDGET)
    assert page.summary == "set the budget of cluster demo: 12.50 a day"
    assert api.summary == "set the budget of cluster demo: 12.50 a day, 100.00 in total"
