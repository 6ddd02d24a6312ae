import pytest

from clusters.models import CheckState, Cloud
from clusters.tests.cloud_helpers import (
    ACCESS_KEY,
    SECRET_KEY,
    assert_no_secret,
    idle_queue,
    make_cloud,
    published_tasks,
)


def _change_data(cloud, **changes):
    data = {
        "name": cloud.name, "owner": cloud.owner_id or "", "driver": cloud.driver, "host": cloud.host, "port": "",
        "path": "", "secure": "on", "region": cloud.region, "zone": "", "options": "{}", "new_credentials": "",
        "api_concurrency": "10", "instance_quota": "", "queue": cloud.queue,
    }  # fmt: skip
    data.update(changes)
    return data


@pytest.mark.django_db
def test_the_list_says_site_wide_for_clouds_without_owner(root_client, alice):
    make_cloud(alice, name="Alice EC2", queue="alice-agent")
    make_cloud(None, name="Site EC2")
    html = root_client.get("/admin/clusters/cloud/").content.decode()
    assert "site-wide" in html and "alice" in html and "alice-agent" in html


@pytest.mark.django_db
def test_the_change_form_never_renders_the_credentials(root_client, alice):
    cloud = make_cloud(alice)
    html = root_client.get(f"/admin/clusters/cloud/{cloud.pk}/change/").content.decode()
    assert "set: key, secret" in html
    assert 'name="new_credentials"' in html and 'name="credentials"' not in html
    assert_no_secret(html, cloud)


@pytest.mark.django_db
def test_blank_credentials_keep_the_stored_ones(root_client, alice):
    cloud = make_cloud(alice)
    response = root_client.post(f"/admin/clusters/cloud/{cloud.pk}/change/", _change_data(cloud, host="h2"))
    assert response.status_code == 302
    cloud.refresh_from_db()
    assert cloud.host == "h2" and cloud.config().credentials == {"key": ACCESS_KEY, "secret": SECRET_KEY}


@pytest.mark.django_db
def test_new_credentials_are_stored_encrypted(root_client, alice):
    cloud = make_cloud(alice)
    data = _change_data(cloud, new_credentials='{"key": "k2-Xy", "secret": "s2-Zw"}')
    assert root_client.post(f"/admin/clusters/cloud/{cloud.pk}/change/", data).status_code == 302
    cloud.refresh_from_db()
    assert cloud.config().credentials == {"key": "k2-Xy", "secret": "s2-Zw"}
    assert "s2-Zw" not in cloud.credentials


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("text", "message"),
    [
        ('{"key": ', "Not valid JSON"),
        ('["a"]', "Write a JSON object of names to text values."),
        (
            '{"password": "pw-Hq3"}',
            "Not a secret parameter of this driver: password (it takes: key, secret).",
        ),
    ],
)
def test_bad_credentials_are_messages_and_are_not_shown_back(root_client, alice, text, message):
    cloud = make_cloud(alice)
    response = root_client.post(
        f"/admin/clusters/cloud/{cloud.pk}/change/", _change_data(cloud, new_credentials=text)
    )
    html = response.content.decode()
    assert response.status_code == 200
    assert message in html
    assert "pw-Hq3" not in html
    assert_no_secret(html, cloud)


@pytest.mark.django_db
def test_a_bad_queue_name_is_a_message(root_client, alice):
    cloud = make_cloud(alice)
    response = root_client.post(
        f"/admin/clusters/cloud/{cloud.pk}/change/", _change_data(cloud, queue="no spaces")
    )
    assert "A queue name is 1 to 64 letters" in response.content.decode()


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("action", "task", "message"),
    [
        ("test_connection", "clusters.tasks.check_cloud_task", "A connection test queued for 2 clouds."),
        (
            "sync_sizes_and_images",
            "clusters.tasks.sync_cloud_task",
            "A sync of sizes and images queued for 2 clouds.",
        ),
    ],
)
def test_the_actions_queue_tasks_on_each_clouds_queue_with_ids_only(
    root_client, alice, action, task, message
):
    with idle_queue() as queue, published_tasks() as published:
        clouds = [make_cloud(alice, name="a", queue=queue), make_cloud(None, name="b", queue=queue)]
        response = root_client.post(
            "/admin/clusters/cloud/",
            {"action": action, "_selected_action": [c.pk for c in clouds]},
            follow=True,
        )
    assert message in response.content.decode()
    assert [(m["task"], m["queue"], list(m["body"][0])) for m in published] == [
        (task, queue, [clouds[0].pk]),
        (task, queue, [clouds[1].pk]),
    ]
    if action == "test_connection":
        assert set(Cloud.objects.values_list("check_state", flat=True)) == {CheckState.PENDING}
