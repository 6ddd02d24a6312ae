"""The sectioned editor (docs/profiles.md): each save makes a revision, secrets are never shown back, and
what the form has no field for survives."""

import pytest

from contexts.forms import document_from_forms
from contexts.profiles import plain_document
from contexts.secrets import REDACTED
from contexts.services import SERVICES
from contexts.tests.profile_helpers import (
    POOL_PASSWORD,
    ROOT_PASSWORD,
    USER_PASSWORD,
    assert_no_secret,
    editor_data,
    make_profile,
)


def _edit(client, profile, **changes):
    url = f"/profiles/{profile.pk}/edit/"
    return client.post(url, editor_data(client.get(url), **changes))


@pytest.mark.django_db
def test_create_then_edit_makes_revision_2_and_keeps_the_advanced_section(alice_client, alice):
    alice_client.post("/profiles/new/", {"name": "Worker", "visibility": "private", "document": ""})
    profile = alice.profiles.get()
    alice_client.post(
        f"/profiles/{profile.pk}/yaml/", {"document": "schema: 1\ncloud_config:\n  ntp: {enabled: true}\n"}
    )
    response = _edit(alice_client, profile, **{"general-timezone": "UTC", "change-message": "UTC please"})
    assert response.status_code == 302
    profile.refresh_from_db()
    assert profile.latest.number == 3
    assert profile.latest.message == "UTC please"
    assert profile.latest.document == {
        "schema": 1,
        "timezone": "UTC",
        "cloud_config": {"ntp": {"enabled": True}},
    }


@pytest.mark.django_db
def test_saving_the_form_unchanged_keeps_the_whole_document(alice_client, alice):
    profile = make_profile(alice)
    before = plain_document(profile.latest)
    _edit(alice_client, profile, **{"general-locale": "en_US.UTF-8"})
    profile.refresh_from_db()
    assert plain_document(profile.latest) == {**before, "locale": "en_US.UTF-8"}


def test_keys_the_form_has_no_field_for_are_kept():
    class Blank:
        def __init__(self, result):
            self.result = result

        def to_document(self, stored):
            return self.result

        def kept_forms(self):
            return []

    forms = {name: Blank({}) for name in ("general", "root", "packages", "cvmfs", "env", "advanced")}
    forms.update({name: Blank(None) for name in SERVICES})
    forms.update({name: Blank([]) for name in ("users", "cvmfs_extra", "files", "scripts")})
    current = {"schema": 1, "timezone": "UTC", "x_future": {"a": 1}, "services": {"lsf": {"role": "x"}}}
    assert document_from_forms(current, forms) == {
        "schema": 1,
        "services": {"lsf": {"role": "x"}},
        "x_future": {"a": 1},
    }


@pytest.mark.django_db
def test_a_blank_password_keeps_the_stored_secret(alice_client, alice):
    profile = make_profile(alice)
    _edit(alice_client, profile, **{"general-timezone": "UTC"})
    profile.refresh_from_db()
    document = plain_document(profile.latest)
    assert profile.latest.number == 2
    assert document["users"][0]["password"] == USER_PASSWORD
    assert document["root"]["password"] == ROOT_PASSWORD
    assert document["services"]["condor"]["pool_password"] == POOL_PASSWORD


@pytest.mark.django_db
def test_a_typed_password_replaces_the_stored_one(alice_client, alice):
    profile = make_profile(alice)
    _edit(alice_client, profile, **{"users-0-password": "new-pw-123", "condor-pool_password": "new-pool"})
    profile.refresh_from_db()
    document = plain_document(profile.latest)
    assert document["users"][0]["password"] == "new-pw-123"
    assert document["services"]["condor"]["pool_password"] == "new-pool"


@pytest.mark.django_db
def test_clear_removes_the_stored_secret(alice_client, alice):
    profile = make_profile(alice)
    _edit(alice_client, profile, **{"users-0-clear_password": "on", "root-clear_password": "on"})
    profile.refresh_from_db()
    document = plain_document(profile.latest)
    assert "password" not in document["users"][0]
    assert "root" not in document
    assert document["services"]["condor"]["pool_password"] == POOL_PASSWORD


@pytest.mark.django_db
def test_typing_a_password_and_ticking_clear_is_refused(alice_client, alice):
    profile = make_profile(alice)
    response = _edit(alice_client, profile, **{"root-password": "x", "root-clear_password": "on"})
    assert response.status_code == 200
    assert "not both" in response.content.decode()
    assert profile.revisions.count() == 1


@pytest.mark.django_db
def test_the_editor_marks_stored_secrets_and_never_shows_them(alice_client, alice):
    profile = make_profile(alice)
    html = alice_client.get(f"/profiles/{profile.pk}/edit/").content.decode()
    assert html.count('<span class="badge text-bg-success">set</span>') == 3
    assert "Leave blank to keep it." in html
    assert REDACTED not in html
    assert_no_secret(html, profile)


@pytest.mark.django_db
def test_it_adds_a_user_from_the_blank_form(alice_client, alice):
    profile = make_profile(alice)
    _edit(
        alice_client,
        profile,
        **{"users-1-name": "bob", "users-1-groups": "wheel, docker", "users-1-password": "bob-pw-1"},
    )
    profile.refresh_from_db()
    bob = plain_document(profile.latest)["users"][1]
    assert bob == {"name": "bob", "groups": ["wheel", "docker"], "password": "bob-pw-1"}


@pytest.mark.django_db
def test_it_removes_a_file_ticked_for_removal(alice_client, alice):
    profile = make_profile(alice)
    _edit(alice_client, profile, **{"files-0-DELETE": "on"})
    profile.refresh_from_db()
    assert "files" not in profile.latest.document


@pytest.mark.django_db
def test_textareas_keep_unix_line_ends(alice_client, alice):
    profile = make_profile(alice)
    _edit(alice_client, profile, **{"scripts-0-body": "set -e\r\necho hi\r\n"})
    profile.refresh_from_db()
    assert profile.latest.document["scripts"][0]["body"] == "set -e\necho hi\n"


@pytest.mark.django_db
def test_it_enables_a_service_by_filling_it_in(alice_client, alice):
    profile = make_profile(alice)
    _edit(alice_client, profile, **{"ganglia-collector": "gmond.example.org", "env-env": "A=1\r\nB = two"})
    profile.refresh_from_db()
    assert profile.latest.document["services"]["ganglia"] == {"collector": "gmond.example.org"}
    assert profile.latest.document["env"] == {"A": "1", "B": "two"}


@pytest.mark.django_db
def test_a_service_field_without_the_main_one_is_an_error(alice_client, alice):
    profile = make_profile(alice)
    response = _edit(alice_client, profile, **{"ganglia-cluster_name": "cms"})
    assert response.status_code == 200
    assert "Fill this in to enable Ganglia" in response.content.decode()
    assert profile.revisions.count() == 1


@pytest.mark.django_db
def test_document_problems_are_listed_on_top_and_in_their_section(alice_client, alice):
    profile = make_profile(alice)
    response = _edit(alice_client, profile, **{"general-timezone": "Europe Zurich", "files-0-mode": "999"})
    html = response.content.decode()
    assert response.status_code == 200
    assert "The profile was not saved" in html
    sections = {s.key: s.problems for s in response.context["editor"].sections()}
    assert sections["general"] and "timezone" in sections["general"][0]
    assert sections["files"] and "files[0].mode" in sections["files"][0]
    assert html.count("Europe Zurich") >= 3  # the top list, the section, and the field keeps the input
    assert 'value="Europe Zurich"' in html
    assert profile.revisions.count() == 1


@pytest.mark.django_db
def test_an_unknown_template_variable_is_shown_not_a_crash(alice_client, alice):
    profile = make_profile(alice)
    response = _edit(alice_client, profile, **{"general-hostname": "{{ cluster.nmae }}"})
    assert response.status_code == 200
    assert "unknown template variable" in response.content.decode()
    assert profile.revisions.count() == 1


@pytest.mark.django_db
def test_broken_advanced_yaml_is_a_field_error(alice_client, alice):
    profile = make_profile(alice)
    response = _edit(alice_client, profile, **{"advanced-cloud_config": "ntp: [\n"})
    assert response.status_code == 200
    assert "YAML syntax error" in response.content.decode()
    assert profile.revisions.count() == 1


@pytest.mark.django_db
def test_a_yaml_date_in_the_advanced_section_is_kept_as_text(alice_client, alice):
    profile = make_profile(alice)
    response = _edit(alice_client, profile, **{"advanced-cloud_config": "final_message: 2024-01-01\n"})
    assert response.status_code == 302
    profile.refresh_from_db()
    assert profile.latest.document["cloud_config"] == {"final_message": "2024-01-01"}


@pytest.mark.django_db
def test_saving_without_a_change_makes_no_revision(alice_client, alice):
    profile = make_profile(alice)
    response = _edit(alice_client, profile)
    assert response.status_code == 302
    assert profile.revisions.count() == 1


@pytest.mark.django_db
def test_it_sets_cernvms_boot_loader_settings_and_shows_them_back(alice_client, alice):
    profile = make_profile(alice)
    _edit(
        alice_client,
        profile,
        **{
            "cvmfs-resize_rootfs": "on",
            "cvmfs-cvmfs_branch": "cernvm-prod.cern.ch",
            "cvmfs-cvmfs_server": "hepvm.cern.ch\ns1.example.org:8000",
            "cvmfs-cvmfs_tag": "cernvm-system-4.7.1.0",
        },
    )
    profile.refresh_from_db()
    assert plain_document(profile.latest)["cvmfs"]["ucernvm"] == {
        "resize_rootfs": True,
        "cvmfs_branch": "cernvm-prod.cern.ch",
        "cvmfs_server": ["hepvm.cern.ch", "s1.example.org:8000"],
        "cvmfs_tag": "cernvm-system-4.7.1.0",
    }
    page = alice_client.get(f"/profiles/{profile.pk}/edit/").content.decode()
    assert 'value="cernvm-system-4.7.1.0"' in page and "s1.example.org:8000</textarea>" in page


@pytest.mark.django_db
def test_a_bad_boot_loader_server_is_a_clear_message(alice_client, alice):
    profile = make_profile(alice)
    response = _edit(alice_client, profile, **{"cvmfs-cvmfs_server": "hepvm.cern.ch; reboot"})
    assert response.status_code == 200
    assert "cvmfs.ucernvm.cvmfs_server" in response.content.decode()
    profile.refresh_from_db()
    assert profile.latest.number == 1
