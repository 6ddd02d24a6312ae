import pytest

from clusters.models import Cloud
from clusters.tests.cloud_helpers import ACCESS_KEY, SECRET_KEY, ec2_data, make_cloud, staff_client


@pytest.mark.django_db
def test_it_asks_for_the_driver_first(alice_client):
    html = alice_client.get("/clouds/new/").content.decode()
    for kind in ("ec2", "cloudstack", "openstack"):
        assert f'href="/clouds/new/{kind}/"' in html


@pytest.mark.django_db
def test_the_form_has_the_drivers_own_parameters_with_secrets_as_password_inputs(alice_client):
    html = alice_client.get("/clouds/new/ec2/").content.decode()
    assert 'type="password" name="param_key"' in html
    assert 'type="password" name="param_secret"' in html
    assert 'name="param_image_owner"' in html
    assert 'name="site_wide"' not in html  # only staff make site-wide clouds


@pytest.mark.django_db
def test_an_unknown_driver_is_404(alice_client):
    assert alice_client.get("/clouds/new/nonsense/").status_code == 404


@pytest.mark.django_db
def test_it_creates_a_cloud_with_encrypted_credentials(alice_client, alice):
    response = alice_client.post("/clouds/new/ec2/", ec2_data())
    cloud = Cloud.objects.get()
    assert response.status_code == 302 and response["Location"] == f"/clouds/{cloud.pk}/"
    assert (cloud.owner, cloud.driver, cloud.host, cloud.port, cloud.queue) == (
        alice, "ec2", "ec2.example.org", 8773, "default"
    )  # fmt: skip
    assert cloud.options == {"image_owner": "self"}
    assert cloud.config().credentials == {"key": ACCESS_KEY, "secret": SECRET_KEY}
    assert SECRET_KEY not in cloud.credentials


@pytest.mark.django_db
def test_a_missing_required_parameter_is_a_message_not_a_500(alice_client):
    response = alice_client.post("/clouds/new/ec2/", ec2_data(param_secret=""))
    assert response.status_code == 200
    assert "This field is required." in response.content.decode()
    assert not Cloud.objects.exists()


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("queue", "message"),
    [
        ("has space", "A queue name is 1 to 64 letters, digits, dots, dashes or underscores."),
        ("semi;colon", "A queue name is 1 to 64 letters, digits, dots, dashes or underscores."),
        ("ümlaut", "A queue name is 1 to 64 letters, digits, dots, dashes or underscores."),
        ("x" * 65, "Ensure this value has at most 64 characters (it has 65)."),
    ],
)
def test_a_bad_queue_name_is_a_message(alice_client, queue, message):
    response = alice_client.post("/clouds/new/ec2/", ec2_data(queue=queue))
    assert response.status_code == 200
    assert message in response.content.decode()
    assert not Cloud.objects.exists()


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("port", "70000", "less than or equal to 65535"),
        ("port", "http", "Enter a whole number."),
        ("api_concurrency", "0", "greater than or equal to 1"),
        ("name", "", "This field is required."),
    ],
)
def test_other_bad_values_are_messages(alice_client, field, value, message):
    response = alice_client.post("/clouds/new/ec2/", ec2_data(**{field: value}))
    assert response.status_code == 200
    assert message in response.content.decode()
    assert not Cloud.objects.exists()


@pytest.mark.django_db
def test_a_secret_typed_into_a_form_with_errors_is_not_shown_back(alice_client):
    response = alice_client.post("/clouds/new/ec2/", ec2_data(queue="bad queue"))
    html = response.content.decode()
    assert ACCESS_KEY not in html and SECRET_KEY not in html


@pytest.mark.django_db
def test_a_second_cloud_with_the_same_name_is_refused(alice_client, alice):
    make_cloud(alice, name="My EC2")
    response = alice_client.post("/clouds/new/ec2/", ec2_data())
    assert "You already have a cloud named &#x27;My EC2&#x27;" in response.content.decode()
    assert Cloud.objects.count() == 1


@pytest.mark.django_db
def test_a_user_cannot_make_a_site_wide_cloud(alice_client, alice):
    alice_client.post("/clouds/new/ec2/", ec2_data(site_wide="on"))
    assert Cloud.objects.get().owner == alice


@pytest.mark.django_db
def test_staff_make_a_site_wide_cloud(django_user_model):
    client = staff_client(django_user_model)
    assert 'name="site_wide"' in client.get("/clouds/new/ec2/").content.decode()
    client.post("/clouds/new/ec2/", ec2_data(site_wide="on"))
    assert Cloud.objects.get().is_site_wide


@pytest.mark.django_db
@pytest.mark.parametrize("kind", ["cloudstack", "openstack", "libcloud"])
def test_every_driver_has_a_form_that_refuses_an_empty_post_politely(alice_client, kind):
    assert alice_client.get(f"/clouds/new/{kind}/").status_code == 200
    response = alice_client.post(f"/clouds/new/{kind}/", {"name": "x"})
    assert response.status_code == 200
    assert "This field is required." in response.content.decode()
