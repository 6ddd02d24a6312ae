import pytest

from clusters.models import CheckState
from clusters.tests.cloud_helpers import ACCESS_KEY, SECRET_KEY, ec2_data, make_cloud


@pytest.mark.django_db
def test_the_form_never_fills_a_credential_back_and_says_it_is_set(alice_client, alice):
    cloud = make_cloud(alice)
    html = alice_client.get(f"/clouds/{cloud.pk}/edit/").content.decode()
    assert ACCESS_KEY not in html and SECRET_KEY not in html and cloud.credentials not in html
    assert "Set: leave blank to keep the stored value." in html
    assert 'value="ec2.example.org"' in html


@pytest.mark.django_db
def test_blank_credentials_keep_the_stored_ones(alice_client, alice):
    cloud = make_cloud(alice)
    response = alice_client.post(
        f"/clouds/{cloud.pk}/edit/", ec2_data(param_key="", param_secret="", host="other.example.org")
    )
    assert response.status_code == 302
    cloud.refresh_from_db()
    assert cloud.host == "other.example.org"
    assert cloud.config().credentials == {"key": ACCESS_KEY, "secret": SECRET_KEY}


@pytest.mark.django_db
def test_a_new_secret_replaces_only_that_credential(alice_client, alice):
    cloud = make_cloud(alice)
    alice_client.post(f"/clouds/{cloud.pk}/edit/", ec2_data(param_key="", param_secret="new-secret-Pq7"))
    cloud.refresh_from_db()
    assert cloud.config().credentials == {"key": ACCESS_KEY, "secret": "new-secret-Pq7"}


@pytest.mark.django_db
def test_a_change_forgets_the_last_check(alice_client, alice):
    cloud = make_cloud(alice, check_state=CheckState.OK, check_message="connected: 3 sizes, 1 images")
    alice_client.post(
        f"/clouds/{cloud.pk}/edit/", ec2_data(param_key="", param_secret="", region="eu-west-1")
    )
    cloud.refresh_from_db()
    assert (cloud.check_state, cloud.check_message) == (CheckState.NEVER, "")


@pytest.mark.django_db
def test_a_bad_value_on_edit_is_a_message(alice_client, alice):
    cloud = make_cloud(alice)
    response = alice_client.post(
        f"/clouds/{cloud.pk}/edit/", ec2_data(param_key="", param_secret="", queue="a b")
    )
    assert response.status_code == 200
    assert "A queue name is 1 to 64 letters" in response.content.decode()


@pytest.mark.django_db
def test_renaming_onto_another_of_ones_clouds_is_refused(alice_client, alice):
    make_cloud(alice, name="Taken")
    cloud = make_cloud(alice)
    response = alice_client.post(
        f"/clouds/{cloud.pk}/edit/", ec2_data(name="Taken", param_key="", param_secret="")
    )
    assert "You already have a cloud named" in response.content.decode()
