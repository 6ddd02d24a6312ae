"""POST /api/v1/instance/checkin (docs/launches.md, docs/api.md): an instance tells the portal it booted, is ready or
failed, with its own token, and only about itself."""

from urllib.parse import urlencode

import pytest
from django.utils import timezone

from clusters.checkin import MAX_MESSAGE_LENGTH
from clusters.instance_auth import new_instance_token, token_hash
from clusters.models import ClusterEvent, Instance, InstanceState
from clusters.tests.instance_helpers import auth, make_cluster, make_instance

URL = "/api/v1/instance/checkin"
pytestmark = pytest.mark.django_db


def checkin(client, token, status, message=None, **extra):
    body = {"status": status} if message is None else {"status": status, "message": message}
    return client.post(URL, body, content_type="application/json", **auth(token), **extra)


def test_ready_moves_the_instance_to_ready_with_the_time(client, alice):
    instance, token = make_instance(make_cluster(alice), state=InstanceState.RUNNING)
    before = timezone.now()
    answer = checkin(client, token, "ready")
    assert answer.status_code == 200
    instance.refresh_from_db()
    assert instance.state == InstanceState.READY
    assert instance.checkin_status == "ready"
    assert before <= instance.ready_at <= timezone.now()
    assert answer.json()["state"] == "ready"
    assert answer.json()["instance"] == instance.name
    assert ClusterEvent.objects.filter(cluster=instance.cluster, message=f"{instance.name} is ready").exists()


def test_ready_also_comes_before_the_portal_saw_the_node_running(client, alice):
    instance, token = make_instance(make_cluster(alice), state=InstanceState.LAUNCHING)
    assert checkin(client, token, "ready").status_code == 200
    instance.refresh_from_db()
    assert instance.state == InstanceState.READY and instance.ready_at


def test_a_second_ready_keeps_the_first_time(client, alice):
    instance, token = make_instance(make_cluster(alice))
    checkin(client, token, "ready")
    first = Instance.objects.get(pk=instance.pk).ready_at
    checkin(client, token, "ready")
    assert Instance.objects.get(pk=instance.pk).ready_at == first


def test_ready_does_not_revive_a_failed_or_terminating_instance(client, alice):
    cluster = make_cluster(alice)
    for index, state in enumerate([InstanceState.FAILED, InstanceState.TERMINATING]):
        instance, token = make_instance(cluster, index=index, state=state)
        assert checkin(client, token, "ready").status_code == 200
        instance.refresh_from_db()
        assert instance.state == state
        assert instance.checkin_status == "ready"
        assert instance.ready_at is None


def test_booted_is_recorded(client, alice):
    instance, token = make_instance(make_cluster(alice))
    answer = checkin(client, token, "booted")
    assert answer.status_code == 200
    instance.refresh_from_db()
    assert instance.checkin_status == "booted"
    assert instance.state == InstanceState.RUNNING


def test_failed_records_the_message_and_an_event_and_keeps_the_state(client, alice):
    instance, token = make_instance(make_cluster(alice))
    answer = checkin(client, token, "failed", "failed: /var/lib/context-portal/scripts/01-setup (status 3)")
    assert answer.status_code == 200
    instance.refresh_from_db()
    assert instance.state == InstanceState.RUNNING, "the node is alive: only its contextualization failed"
    assert instance.checkin_status == "failed"
    assert instance.checkin_message == "failed: /var/lib/context-portal/scripts/01-setup (status 3)"
    event = ClusterEvent.objects.get(cluster=instance.cluster, level="error")
    assert "01-setup (status 3)" in event.message and instance.name in event.message


def test_the_helper_form_encoded_body_works_too(client, alice):
    instance, token = make_instance(make_cluster(alice))
    body = urlencode({"status": "failed", "message": "it's 100% broken & done"})
    answer = client.post(URL, body, content_type="application/x-www-form-urlencoded", **auth(token))
    assert answer.status_code == 200
    instance.refresh_from_db()
    assert instance.checkin_message == "it's 100% broken & done"


def test_it_checks_in_only_the_instance_of_the_token(client, alice, bob):
    mine, token = make_instance(make_cluster(alice), index=0)
    sibling, _ = make_instance(mine.cluster, index=1)
    other, _ = make_instance(make_cluster(bob, "other"))
    checkin(client, token, "ready")
    assert Instance.objects.get(pk=mine.pk).state == InstanceState.READY
    for instance in (sibling, other):
        instance.refresh_from_db()
        assert (instance.state, instance.checkin_status) == (InstanceState.RUNNING, "")


@pytest.mark.parametrize(
    "headers",
    [
        {},
        {"HTTP_AUTHORIZATION": "Instance not-a-token-of-anyone"},
        {"HTTP_AUTHORIZATION": "Instance"},
        {"HTTP_AUTHORIZATION": "Instance two words"},
        {"HTTP_AUTHORIZATION": "Token abc"},
        {"HTTP_AUTHORIZATION": "Instance " + "x" * 5000},
    ],
)
def test_no_token_or_a_wrong_one_is_401(client, alice, headers):
    instance, _token = make_instance(make_cluster(alice))
    answer = client.post(URL, {"status": "ready"}, content_type="application/json", **headers)
    assert answer.status_code == 401
    assert "detail" in answer.json()
    instance.refresh_from_db()
    assert instance.checkin_status == ""


def test_a_terminated_instance_token_no_longer_works(client, alice):
    _instance, token = make_instance(make_cluster(alice), state=InstanceState.TERMINATED)
    assert checkin(client, token, "ready").status_code == 401


def test_a_replaced_token_no_longer_works(client, alice):
    instance, old = make_instance(make_cluster(alice))
    new, new_hash = new_instance_token()
    Instance.objects.filter(pk=instance.pk).update(checkin_token_hash=new_hash)
    assert checkin(client, old, "ready").status_code == 401
    assert checkin(client, new, "ready").status_code == 200


def test_only_the_hash_of_the_token_is_stored(alice):
    instance, token = make_instance(make_cluster(alice))
    assert instance.checkin_token_hash == token_hash(token) != token
    assert len(instance.checkin_token_hash) == 64
    assert len(token) >= 43, "256 random bits"


@pytest.mark.parametrize(
    ("body", "content_type"),
    [
        ('{"status": "done"}', "application/json"),
        ('{"status": 1}', "application/json"),
        ('{"message": "no status"}', "application/json"),
        ('{"status": "failed", "message": ["x"]}', "application/json"),
        ('["ready"]', "application/json"),
        ("{not json", "application/json"),
        ('{"status": "failed", "message": "nul \\u0000 here"}', "application/json"),
        ('{"status": "failed", "message": "lone \\ud800 surrogate"}', "application/json"),
        ('{"status": "failed", "message": "' + "x" * (MAX_MESSAGE_LENGTH + 1) + '"}', "application/json"),
    ],
)
def test_bad_bodies_are_400_with_a_detail(client, alice, body, content_type):
    instance, token = make_instance(make_cluster(alice))
    answer = client.post(URL, body, content_type=content_type, **auth(token))
    assert answer.status_code == 400
    assert answer.json()["detail"]
    instance.refresh_from_db()
    assert instance.checkin_status == ""


def test_a_huge_body_is_refused_unread(client, alice):
    _instance, token = make_instance(make_cluster(alice))
    body = '{"status": "failed", "message": "' + "x" * 200_000 + '"}'
    answer = client.post(URL, body, content_type="application/json", **auth(token))
    assert answer.status_code == 413
    assert "limit" in answer.json()["detail"]


def test_other_methods_and_media_types_are_4xx_json(client, alice):
    _instance, token = make_instance(make_cluster(alice))
    assert client.get(URL, **auth(token)).status_code == 405
    answer = client.post(URL, "status=ready", content_type="text/csv", **auth(token))
    assert answer.status_code == 415
    assert answer.json()["detail"]
