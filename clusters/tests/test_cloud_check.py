""" "Test connection" as the page sees it, without a worker: what gets queued, and the partial the
page polls. The end-to-end runs with a real worker are in test_cloud_check_e2e.py."""

from unittest import mock

import pytest
from django.utils import timezone
from kombu.exceptions import OperationalError

from clusters.models import CheckState
from clusters.tasks import BROKER_DOWN, check_cloud_task
from clusters.tests.cloud_helpers import HTMX, idle_queue, make_cloud, polls, published_tasks


@pytest.mark.django_db
def test_it_queues_the_check_on_the_clouds_queue_with_the_id_only(alice_client, alice):
    with idle_queue() as queue, published_tasks() as published:
        cloud = make_cloud(alice, queue=queue)
        response = alice_client.post(f"/clouds/{cloud.pk}/check/")
    assert response.status_code == 302 and response["Location"] == f"/clouds/{cloud.pk}/"
    assert [(m["task"], m["queue"], list(m["body"][0]), m["body"][1]) for m in published] == [
        ("clusters.tasks.check_cloud_task", queue, [cloud.pk], {})
    ]
    cloud.refresh_from_db()
    assert cloud.check_state == CheckState.PENDING


@pytest.mark.django_db
def test_htmx_gets_the_checking_partial_back_which_polls(alice_client, alice):
    with idle_queue() as queue:
        cloud = make_cloud(alice, queue=queue)
        response = alice_client.post(f"/clouds/{cloud.pk}/check/", **HTMX)
    html = response.content.decode()
    assert response.status_code == 200
    assert html.lstrip().startswith('<div id="check-status"') and "navbar" not in html
    assert "checking…" in html and polls(html)
    assert f'hx-get="/clouds/{cloud.pk}/check/status/" hx-trigger="every 1s" hx-swap="outerHTML"' in html
    assert f"Waiting for a worker on queue <code>{queue}</code>" in html


@pytest.mark.django_db
def test_a_plain_post_gets_the_whole_page_back(alice_client, alice):
    # Only htmx's header asks for the partial; the old pollers' one is a plain request now.
    with idle_queue() as queue:
        cloud = make_cloud(alice, queue=queue)
        response = alice_client.post(f"/clouds/{cloud.pk}/check/", HTTP_X_REQUESTED_WITH="fetch", follow=True)
    assert response.redirect_chain == [(f"/clouds/{cloud.pk}/", 302)]
    html = response.content.decode()
    assert "navbar" in html and 'id="check-status"' in html and polls(html)


@pytest.mark.django_db
def test_the_check_needs_a_post(alice_client, alice):
    assert alice_client.get(f"/clouds/{make_cloud(alice).pk}/check/").status_code == 405


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("state", "message", "shown", "polled"),
    [
        (CheckState.OK, "connected: 58 sizes, 3 images", "connected: 58 sizes, 3 images", False),
        (CheckState.FAILED, "AuthFailure: AWS was not able to validate the provided access credentials",
         "AuthFailure: AWS was not able to validate", False),
        (CheckState.NEVER, "", "Never tested.", False),
        (CheckState.PENDING, "", "checking…", True),
    ],
)  # fmt: skip
def test_the_status_partial_shows_the_outcome(alice_client, alice, state, message, shown, polled):
    cloud = make_cloud(alice, check_state=state, check_message=message, checked_at=timezone.now())
    html = alice_client.get(f"/clouds/{cloud.pk}/check/status/", **HTMX).content.decode()
    assert shown in html
    assert polls(html) == polled


@pytest.mark.django_db
def test_a_check_nobody_answers_for_long_says_so(alice_client, alice):
    long_ago = timezone.now() - timezone.timedelta(minutes=2)
    cloud = make_cloud(alice, check_state=CheckState.PENDING, checked_at=long_ago)
    html = alice_client.get(f"/clouds/{cloud.pk}/check/status/").content.decode()
    assert "No answer yet: is a worker serving this queue?" in html


@pytest.mark.django_db
def test_an_unreachable_broker_fails_the_check_with_a_message(alice_client, alice):
    # Mocked: the test broker is shared by the whole session and cannot be stopped for one test.
    cloud = make_cloud(alice)
    with mock.patch.object(
        check_cloud_task, "apply_async", autospec=True, side_effect=OperationalError("down")
    ):
        html = alice_client.post(f"/clouds/{cloud.pk}/check/", **HTMX).content.decode()
    assert "Could not queue the test: the task broker is unreachable." in html
    cloud.refresh_from_db()
    assert cloud.check_state == CheckState.FAILED


@pytest.mark.django_db
def test_the_task_for_a_deleted_cloud_does_nothing():
    assert check_cloud_task(123456) == "gone"


@pytest.mark.django_db
@pytest.mark.parametrize("started_from", ["page", "api", "admin"])
def test_wherever_a_check_starts_an_unreachable_broker_never_leaves_it_checking(
    alice, alice_client, root_client, started_from
):
    # Mocked, as above: the session's broker cannot be stopped for one test.
    cloud = make_cloud(alice)
    with mock.patch.object(
        check_cloud_task, "apply_async", autospec=True, side_effect=OperationalError("down")
    ):
        if started_from == "page":
            answer = alice_client.post(f"/clouds/{cloud.pk}/check/", **HTMX)
        elif started_from == "api":
            answer = alice_client.post(f"/api/v1/clouds/{cloud.pk}/check/")
            assert answer.status_code == 503
        else:
            answer = root_client.post("/admin/clusters/cloud/", {"action": "test_connection",
                                      "_selected_action": [cloud.pk]}, follow=True)  # fmt: skip
            assert "The task broker is unreachable" in answer.content.decode()
    cloud.refresh_from_db()
    assert (cloud.check_state, cloud.check_message) == (CheckState.FAILED, BROKER_DOWN)
