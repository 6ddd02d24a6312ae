"""Downloading user-data: the real thing for the owner, the redacted preview for anyone else."""

import base64
import gzip
import shlex
from urllib.parse import urlencode

import pytest
from django.core.management import call_command
from django.test import Client

from contexts.profiles import render_revision
from contexts.templating import parse_variables
from contexts.tests.profile_helpers import POOL_PASSWORD, full_document, make_profile

VARS = ["cluster.name=demo", "role.name=worker", "instance.index=0", "roles.master.address=10.0.0.5"]
QUERY = urlencode({"vars": "\n".join(VARS), "provider": ""})
POOL_B64 = base64.b64encode(POOL_PASSWORD.encode())


@pytest.mark.django_db
@pytest.mark.parametrize(("fmt", "filename"), [("cloud-init", "yaml"), ("amiconfig", "ini"), ("shell", "sh")])
def test_the_owner_downloads_the_real_user_data(alice_client, alice, fmt, filename):
    profile = make_profile(alice)
    response = alice_client.get(f"/profiles/{profile.pk}/download/{fmt}/?{QUERY}")
    assert response.status_code == 200
    assert response["Content-Disposition"] == f'attachment; filename="condor-worker-r1.{filename}"'
    assert response.content == render_revision(profile.latest, parse_variables(VARS), fmt)
    assert b"$6$" in response.content


@pytest.mark.django_db
def test_the_pool_password_is_only_in_the_owners_download(alice_client, alice, charlie):
    profile = make_profile(alice, visibility="public")
    owners = alice_client.get(f"/profiles/{profile.pk}/download/cloud-init/?{QUERY}").content
    charlie_client = Client()  # the conftest clients share one Client: log charlie in on another
    charlie_client.force_login(charlie)
    strangers = charlie_client.get(f"/profiles/{profile.pk}/download/cloud-init/?{QUERY}").content
    assert POOL_B64 in owners
    assert POOL_B64 not in strangers
    assert POOL_PASSWORD.encode() not in strangers
    assert b"$6$" not in strangers
    assert strangers == render_revision(profile.latest, parse_variables(VARS), "cloud-init", redact=True)


@pytest.mark.django_db
def test_a_cloud_init_download_with_a_python_script_is_still_one_yaml_document(alice_client, alice):
    document = full_document()
    document["scripts"].append({"name": "report", "language": "python", "body": "print('hi')\n"})
    profile = make_profile(alice, document=document)
    response = alice_client.get(f"/profiles/{profile.pk}/download/cloud-init/?{QUERY}")
    assert response.content.startswith(b"#cloud-config\n")
    assert response["Content-Disposition"].endswith('-r1.yaml"')


@pytest.mark.django_db
def test_user_data_over_the_provider_limit_downloads_as_gzip_bytes(alice_client, alice):
    document = full_document()
    document["files"].append({"path": "/etc/big", "content": "".join(f"line {i}\n" for i in range(3000))})
    profile = make_profile(alice, document=document)
    query = urlencode({"vars": "\n".join(VARS), "provider": "ec2"})
    response = alice_client.get(f"/profiles/{profile.pk}/download/cloud-init/?{query}")
    assert response.status_code == 200
    assert response["Content-Type"] == "application/gzip"
    assert response["Content-Disposition"].endswith('-r1.yaml.gz"')
    assert gzip.decompress(response.content).startswith(b"#cloud-config")
    assert response.content == render_revision(
        profile.latest, parse_variables(VARS), "cloud-init", provider="ec2"
    )


@pytest.mark.django_db
def test_the_preview_page_says_when_user_data_is_compressed(alice_client, alice):
    document = full_document()
    document["files"].append({"path": "/etc/big", "content": "".join(f"line {i}\n" for i in range(3000))})
    profile = make_profile(alice, document=document)
    query = urlencode({"vars": "\n".join(VARS), "provider": "ec2"})
    html = alice_client.get(f"/profiles/{profile.pk}/?{query}").content.decode()
    assert "gzip-compressed" in html


@pytest.mark.django_db
def test_a_bad_variable_is_a_readable_400(alice_client, alice):
    profile = make_profile(alice)
    response = alice_client.get(f"/profiles/{profile.pk}/download/shell/?" + urlencode({"vars": "no-equals"}))
    assert response.status_code == 400
    assert b"key=value" in response.content


@pytest.mark.django_db
def test_a_render_error_is_a_readable_400(alice_client, alice):
    profile = make_profile(alice)
    response = alice_client.get(
        f"/profiles/{profile.pk}/download/shell/?" + urlencode({"vars": "cluster.name=x"})
    )
    assert response.status_code == 400
    assert response.content.startswith(b"Cannot render shell:")


@pytest.mark.django_db
def test_an_unknown_format_is_a_404(alice_client, alice):
    profile = make_profile(alice)
    assert alice_client.get(f"/profiles/{profile.pk}/download/docx/").status_code == 404


@pytest.mark.django_db
def test_downloads_are_not_cached(alice_client, alice):
    profile = make_profile(alice)
    response = alice_client.get(f"/profiles/{profile.pk}/download/shell/?{QUERY}")
    assert "no-store" in response["Cache-Control"]


@pytest.mark.django_db
@pytest.mark.parametrize("fmt", ["cloud-init", "amiconfig", "shell"])
def test_the_command_shown_prints_the_same_bytes_as_the_download(alice_client, alice, fmt, capsysbinary):
    profile = make_profile(alice)
    outputs = alice_client.get(f"/profiles/{profile.pk}/?{QUERY}").context["outputs"]
    words = shlex.split(next(o for o in outputs if o.fmt == fmt).command)
    assert words[:3] == ["python", "manage.py", "render_profile"]
    call_command(*words[2:])
    download = alice_client.get(f"/profiles/{profile.pk}/download/{fmt}/?{QUERY}").content
    assert capsysbinary.readouterr().out == download
