"""Clouds served by a gateway agent (docs/gateway-agents.md), as their pages and the admin see them: no credential
asked or stored, a queue of their own, the agent's command and agent.toml skeleton on the cloud's
page, and "Test connection" sent to the agent as a database-free cloud-side task. The agent itself
runs for real in test_agent.py."""

import tomllib
from unittest import mock

import pytest
from django.test import override_settings

from clusters.cloudside_check import check
from clusters.models import CheckState, Cloud
from clusters.providers import CloudError
from clusters.tasks import record_check
from clusters.tests.cloud_helpers import (
    ACCESS_KEY,
    SECRET_KEY,
    assert_no_secret,
    ec2_data,
    idle_queue,
    make_cloud,
    published_tasks,
)

AGENT = {"served_by_agent": "on", "queue": "agent-cern"}


def _agent_cloud(owner, **fields) -> Cloud:
    cloud = make_cloud(owner, served_by_agent=True, **{"queue": "agent-cern", **fields})
    cloud.set_credentials({})
    cloud.save()
    return cloud


@pytest.mark.django_db
def test_the_form_has_the_agent_checkbox(alice_client):
    html = alice_client.get("/clouds/new/ec2/").content.decode()
    assert 'name="served_by_agent"' in html and "Served by a gateway agent" in html


@pytest.mark.django_db
def test_an_agent_served_cloud_is_saved_without_credentials(alice_client):
    response = alice_client.post("/clouds/new/ec2/", ec2_data(param_key="", param_secret="", **AGENT))
    assert response.status_code == 302
    cloud = Cloud.objects.get()
    assert cloud.served_by_agent and cloud.queue == "agent-cern"
    assert cloud.credentials == "" and cloud.credential_names() == []


@pytest.mark.django_db
def test_credentials_typed_for_an_agent_served_cloud_are_not_stored(alice_client):
    alice_client.post("/clouds/new/ec2/", ec2_data(**AGENT))
    assert Cloud.objects.get().credentials == ""


@pytest.mark.django_db
def test_an_agent_served_cloud_needs_a_queue_of_its_own(alice_client):
    response = alice_client.post("/clouds/new/ec2/", ec2_data(served_by_agent="on", queue="default"))
    html = response.content.decode()
    assert response.status_code == 200
    assert "A gateway agent serves a queue of its own" in html
    assert not Cloud.objects.exists()


@pytest.mark.django_db
def test_a_cloud_served_by_portal_workers_still_needs_its_credentials(alice_client):
    response = alice_client.post("/clouds/new/ec2/", ec2_data(param_secret=""))
    assert "This field is required." in response.content.decode()
    assert not Cloud.objects.exists()


@pytest.mark.django_db
def test_ticking_the_box_clears_the_stored_credentials(alice_client, alice):
    cloud = make_cloud(alice)
    response = alice_client.post(
        f"/clouds/{cloud.pk}/edit/", ec2_data(param_key="", param_secret="", **AGENT)
    )
    assert response.status_code == 302
    cloud.refresh_from_db()
    assert cloud.served_by_agent and cloud.credentials == ""


@pytest.mark.django_db
def test_unticking_the_box_asks_for_the_credentials_again(alice_client, alice):
    cloud = _agent_cloud(alice)
    response = alice_client.post(f"/clouds/{cloud.pk}/edit/", ec2_data(param_key="", param_secret=""))
    assert "This field is required." in response.content.decode()
    cloud.refresh_from_db()
    assert cloud.served_by_agent


@pytest.mark.django_db
def test_the_cloud_page_shows_the_agents_command_and_config(alice_client, alice):
    cloud = _agent_cloud(alice, port=8773, path="/", options={"image_owner": "self"})
    html = alice_client.get(f"/clouds/{cloud.pk}/").content.decode()
    assert "Gateway agent" in html and "a gateway agent, which holds the credentials" in html
    assert "PORTAL_AGENT_CONFIG=agent.toml celery -A portal.agent worker -Q agent-cern" in html
    assert "Access key ID" not in html.split("Gateway agent")[0]  # no "set"/"not set" credential rows


@pytest.mark.django_db
def test_the_agent_config_skeleton_names_this_cloud_and_no_secret(alice, settings):
    from clusters.agents import agent_toml

    cloud = make_cloud(alice, port=8773, path="/", secure=False, options={"image_owner": "self"})
    # Stored from before it was agent-served (the form would have cleared them): still never shown.
    cloud.served_by_agent, cloud.queue = True, "agent-cern"
    cloud.save()
    skeleton = agent_toml(cloud)
    assert_no_secret(skeleton, cloud)
    config = tomllib.loads(skeleton)
    assert config["broker_url"] == settings.CELERY_BROKER_URL and config["results_queue"] == "records"
    assert config["broker_transport_options"] == {
        "global_keyprefix": settings.CELERY_BROKER_TRANSPORT_OPTIONS["global_keyprefix"]
    }
    assert config["clouds"][str(cloud.pk)] == {
        "driver": "ec2", "host": "ec2.example.org", "port": 8773, "path": "/", "secure": False,
        "region": "us-east-1", "credentials": {"key": "<Access key ID>", "secret": "<Secret access key>"},
        "options": {"image_owner": "self"}, "message_key": cloud.message_key_value(),
    }  # fmt: skip


@pytest.mark.django_db
def test_the_skeleton_hides_the_brokers_password(alice):
    from clusters.agents import agent_toml

    with override_settings(CELERY_BROKER_URL="redis://portal:hunter2-Qx@broker.example.org:6380/3"):
        skeleton = agent_toml(_agent_cloud(alice))
    assert "hunter2-Qx" not in skeleton
    assert tomllib.loads(skeleton)["broker_url"] == "redis://portal:BROKER-PASSWORD@broker.example.org:6380/3"


@pytest.mark.django_db
def test_only_those_who_may_change_the_cloud_see_how_to_run_its_agent(alice_client):
    cloud = _agent_cloud(None, name="Site EC2")
    html = alice_client.get(f"/clouds/{cloud.pk}/").content.decode()
    assert "a gateway agent, which holds the credentials" in html
    assert "agent.toml" not in html


@pytest.mark.django_db
def test_the_queue_warning_of_an_agent_served_cloud_speaks_of_its_agent(alice_client, alice):
    cloud = _agent_cloud(alice, queue="agent-nobody-runs")
    html = alice_client.get(f"/clouds/{cloud.pk}/queue/").content.decode()
    assert "No gateway agent serves the queue <code>agent-nobody-runs</code>" in html


@pytest.mark.django_db
def test_test_connection_sends_the_cloud_side_check_to_the_agents_queue(alice_client, alice):
    with idle_queue() as queue, published_tasks() as published:
        cloud = _agent_cloud(alice, queue=queue)
        alice_client.post(f"/clouds/{cloud.pk}/check/")
    [message] = published
    assert (message["task"], message["queue"]) == ("clusters.cloud_check", queue)
    [cloud_ref] = message["body"][0]
    assert cloud_ref["id"] == cloud.pk and set(cloud_ref) == {"id", "key", "concurrency", "portal"}
    cloud.refresh_from_db()
    assert cloud.check_state == CheckState.PENDING


@pytest.mark.django_db
def test_the_recorded_outcome_of_a_cloud_side_check_shows(alice_client, alice):
    cloud = _agent_cloud(alice, check_state=CheckState.PENDING)
    record_check(cloud.pk, True, "connected: 58 sizes, 3 images")
    cloud.refresh_from_db()
    assert (cloud.check_state, cloud.check_message) == (CheckState.OK, "connected: 58 sizes, 3 images")
    assert (
        "connected: 58 sizes, 3 images"
        in alice_client.get(f"/clouds/{cloud.pk}/check/status/").content.decode()
    )


@pytest.mark.django_db
def test_an_outcome_nobody_waits_for_any_more_is_dropped(alice):
    cloud = _agent_cloud(alice)  # its settings changed since the check was sent: never checked
    record_check(cloud.pk, False, "timed out")
    cloud.refresh_from_db()
    assert cloud.check_state == CheckState.NEVER


def test_the_cloud_side_check_masks_the_credentials_it_holds(moto_ec2):
    # Mocked: no peer we run echoes a key back, but a real CloudStack error can quote the signed
    # request URL, which carries the API key.
    config = moto_ec2.config()
    error = CloudError(f"401 for /client/api?apiKey={config.credentials['key']}&signature=x", permanent=True)
    with mock.patch("clusters.cloudside_check.get_provider", autospec=True) as get_provider:
        get_provider.return_value.check.side_effect = error
        assert check(config) == (False, "401 for /client/api?apiKey=********&signature=x")


@pytest.mark.django_db
def test_the_admin_form_has_the_checkbox_and_clears_the_credentials(client, django_user_model, alice):
    client.force_login(django_user_model.objects.create_superuser("root", "root@example.org", "pw"))
    cloud = make_cloud(alice)
    url = f"/admin/clusters/cloud/{cloud.pk}/change/"
    assert 'name="served_by_agent"' in client.get(url).content.decode()
    data = {
        "name": cloud.name, "owner": alice.pk, "driver": "ec2", "host": cloud.host, "port": "", "path": "",
        "secure": "on", "region": cloud.region, "zone": "", "options": "{}", "new_credentials": "",
        "api_concurrency": "10", "instance_quota": "", "queue": "default", "served_by_agent": "on",
    }  # fmt: skip
    html = client.post(url, data).content.decode()
    assert "A gateway agent serves a queue of its own" in html
    typed = {**data, "queue": "agent-cern", "new_credentials": f'{{"key": "{ACCESS_KEY}"}}'}
    assert "stores no credentials" in client.post(url, typed).content.decode()
    assert client.post(url, {**data, "queue": "agent-cern"}).status_code == 302
    cloud.refresh_from_db()
    assert cloud.served_by_agent and cloud.credentials == ""
    assert SECRET_KEY not in client.get(url).content.decode()


@pytest.mark.django_db
def test_the_admin_syncs_no_agent_served_cloud(client, django_user_model, alice):
    client.force_login(django_user_model.objects.create_superuser("root", "root@example.org", "pw"))
    with idle_queue() as queue, published_tasks() as published:
        cloud = _agent_cloud(alice, queue=queue)
        response = client.post("/admin/clusters/cloud/", {"action": "sync_sizes_and_images",
                                                          "_selected_action": [cloud.pk]}, follow=True)  # fmt: skip
    assert "Skipped 1 cloud served by a gateway agent" in response.content.decode()
    assert published == []


@pytest.mark.slow
@pytest.mark.database_agnostic
@pytest.mark.django_db(transaction=True)
def test_ticking_the_box_hides_the_credential_fields_in_the_browser(browser, live_server, alice):
    from portal.testing.browser import carry_session, click

    carry_session(browser, live_server.url, alice)
    browser.get(live_server.url + "/clouds/new/ec2/")
    key = browser.find_element("name", "param_key")
    assert key.is_displayed()
    click(browser, "//input[@name='served_by_agent']")
    assert not key.is_displayed()
    assert browser.find_element("name", "param_image_owner").is_displayed()  # options are still asked
