import pytest

from clusters.models import CheckState, Image, ServiceOffering, SizeMapping
from clusters.tests.cloud_helpers import assert_no_secret, make_cloud, polls


@pytest.mark.django_db
def test_it_shows_the_settings_and_which_credentials_are_set(alice_client, alice):
    cloud = make_cloud(alice, port=8773, path="/api", secure=False, queue="cern-agent")
    html = alice_client.get(f"/clouds/{cloud.pk}/").content.decode()
    assert "http://ec2.example.org:8773/api" in html
    assert "<code>cern-agent</code>" in html
    assert html.count('<span class="badge text-bg-success">set</span>') == 2
    assert_no_secret(html, cloud)


@pytest.mark.django_db
def test_it_lists_the_images_and_the_offerings_mapped_here(alice_client, alice):
    cloud = make_cloud(alice)
    Image.objects.create(cloud=cloud, name="CernVM 4", provider_id="ami-785db401", format="amiconfig")
    SizeMapping.objects.create(
        offering=ServiceOffering.objects.create(name="large", vcpus=4, ram_mb=16384),
        cloud=cloud,
        size_id="m5.xlarge",
    )
    html = alice_client.get(f"/clouds/{cloud.pk}/").content.decode()
    assert "CernVM 4" in html and "ami-785db401" in html and "amiconfig" in html
    assert "<strong>large</strong>" in html and "<code>m5.xlarge</code>" in html


@pytest.mark.django_db
def test_the_page_polls_the_check_while_it_runs_and_loads_the_queue_warning(alice_client, alice):
    cloud = make_cloud(alice, check_state=CheckState.PENDING)
    html = alice_client.get(f"/clouds/{cloud.pk}/").content.decode()
    assert (
        f'<div id="check-status" class="mb-2" hx-get="/clouds/{cloud.pk}/check/status/" hx-trigger="every 1s" '
        'hx-swap="outerHTML">' in html
    )
    assert f'<div id="queue-status" hx-get="/clouds/{cloud.pk}/queue/" hx-trigger="load"></div>' in html
    assert f'hx-post="/clouds/{cloud.pk}/check/" hx-target="#check-status" hx-swap="outerHTML"' in html
    assert f'action="/clouds/{cloud.pk}/check/"' in html  # the same form posts without JavaScript
    assert "/static/vendor/htmx/htmx.min.js" in html


@pytest.mark.django_db
def test_a_finished_check_is_not_polled(alice_client, alice):
    cloud = make_cloud(alice, check_state=CheckState.FAILED, check_message="AuthFailure: bad key")
    html = alice_client.get(f"/clouds/{cloud.pk}/").content.decode()
    assert not polls(html)
    assert "AuthFailure: bad key" in html
