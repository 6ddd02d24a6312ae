"""`manage.py render_profile FILE.yaml|PROFILE_ID --format F --var k=v` (docs/user-data.md), as a contract."""

import shlex
import subprocess
import sys
from pathlib import Path

import pytest
from django.conf import settings
from django.core.management import CommandError, call_command

from contexts.profiles import create_profile, render_revision
from contexts.templating import parse_variables, with_preview_defaults

ROOT = Path(__file__).resolve().parents[2]
WORKER = """\
schema: 1
hostname: "{{ cluster.name }}-{{ role.name }}-{{ instance.index }}"
users:
  - {name: alice, password: "s3cret-pass", ssh_authorized_keys: ["ssh-ed25519 AAAAC3Nz alice@laptop"]}
services:
  condor: {role: worker, master: "{{ roles.master.address }}"}
"""
VARS = ["--var", "cluster.name=demo", "--var", "role.name=worker", "--var", "instance.index=4",
        "--var", "roles.master.address=10.0.0.5"]  # fmt: skip


def run(*args, stdin=None):
    return subprocess.run([sys.executable, "manage.py", "render_profile", *args], cwd=ROOT,
                          capture_output=True, timeout=120, input=stdin)  # fmt: skip


@pytest.fixture
def profile_file(tmp_path):
    path = tmp_path / "worker.yaml"
    path.write_text(WORKER)
    return path


def test_it_prints_cloud_init_user_data_for_a_file(profile_file):
    result = run(str(profile_file), "--format", "cloud-init", *VARS)
    assert result.returncode == 0, result.stderr
    out = result.stdout.decode()
    assert out.startswith("#cloud-config")
    assert "demo-worker-4" in out
    assert "10.0.0.5" in out
    assert "s3cret-pass" not in out and "$6$" in out


@pytest.mark.parametrize("fmt", ["amiconfig", "shell"])
def test_it_prints_every_format(profile_file, fmt):
    result = run(str(profile_file), "--format", fmt, *VARS)
    assert result.returncode == 0, result.stderr
    assert b"10.0.0.5" in result.stdout


def test_the_same_file_always_gives_the_same_bytes(profile_file):
    assert run(str(profile_file), *VARS).stdout == run(str(profile_file), *VARS).stdout


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("schema: 1\nusers: [name: alice\n", "YAML syntax error"),
        ("schema: 1\npackages: 5\n", "packages: must be a list"),
        ("schema: 1\nhostname: '{{ clustr.name }}'\n", "unknown template variable"),
        ("schema: 1\nscripts: [{name: big, body: '" + "x" * 1024 * 1024 + "'}]\n", "the limit is"),
    ],
    ids=["broken-yaml", "wrong-type", "unknown-variable", "1MB-script"],
)
def test_bad_input_exits_2_with_a_one_line_error(tmp_path, content, message):
    path = tmp_path / "bad.yaml"
    path.write_text(content)
    result = run(str(path), *VARS)
    assert result.returncode == 2
    assert result.stdout == b""
    err = result.stderr.decode().strip()
    assert message in err
    assert len(err.splitlines()) == 1
    assert "Traceback" not in err


def test_a_variable_the_profile_needs_but_was_not_given_takes_its_documented_default(profile_file):
    result = run(str(profile_file), "--var", "cluster.name=demo")
    assert result.returncode == 0, result.stderr
    # role.name, instance.index and roles.master.address: docs/templates.md, "Defaults".
    assert "hostname: demo-node-0\n" in result.stdout.decode()
    assert "CONDOR_HOST = 192.0.2.10" in result.stdout.decode()


def test_a_name_no_template_may_use_exits_2(tmp_path):
    path = tmp_path / "bad.yaml"
    path.write_text('schema: 1\nhostname: "{{ cluster.nmae }}"\n')
    result = run(str(path))
    assert result.returncode == 2
    assert "unknown template variable" in result.stderr.decode()


def test_a_missing_file_exits_2():
    result = run("/nonexistent/profile.yaml")
    assert result.returncode == 2
    assert "no such file" in result.stderr.decode()


def test_a_malformed_var_exits_2(profile_file):
    result = run(str(profile_file), "--var", "no-equals-sign")
    assert result.returncode == 2
    assert "key=value" in result.stderr.decode()


@pytest.mark.django_db
def test_a_stored_profile_renders_the_same_bytes_as_the_portal(alice, capsysbinary):
    from contexts.document import parse_yaml

    profile = create_profile(alice, "Worker", parse_yaml(WORKER))
    call_command("render_profile", str(profile.pk), "--format", "cloud-init", *VARS)
    printed = capsysbinary.readouterr().out
    variables = parse_variables([v for v in VARS if v != "--var"])
    assert printed == render_revision(profile.latest, variables, "cloud-init")


@pytest.mark.django_db
def test_an_unknown_profile_id_exits_2():
    with pytest.raises(CommandError) as caught:
        call_command("render_profile", "999999")
    assert caught.value.returncode == 2


def readme_commands() -> list[list[str]]:
    """The `render_profile` command lines of the README's tour, as words."""
    readme = (ROOT / "README.md").read_text()
    block = readme[readme.index(".venv/bin/python manage.py render_profile") :].split("```")[0]
    lines = block.replace("\\\n", " ").splitlines()
    return [shlex.split(line.split("#")[0]) for line in lines if "render_profile" in line]


def test_the_readmes_file_example_runs_as_written_with_defaults_for_the_variables_it_leaves_out():
    file_example = readme_commands()[0]
    assert file_example[3] == "examples/htcondor-worker.yaml", "the README's first example renders a file"
    result = run(*file_example[3:])
    assert result.returncode == 0, result.stderr
    out = result.stdout.decode()
    assert "CONDOR_HOST = 10.0.0.5" in out  # given
    assert "hostname: demo-node-0\n" in out  # role.name and instance.index: their preview defaults


@pytest.mark.django_db
def test_the_readmes_stored_profile_example_runs_with_the_preview_defaults(alice, capsysbinary):
    from contexts.document import parse_yaml

    profile = create_profile(alice, "Worker", parse_yaml(WORKER))
    stored_example = readme_commands()[1]
    words = [str(profile.pk) if word == "42" else word for word in stored_example[3:]]
    call_command("render_profile", *words)
    printed = capsysbinary.readouterr().out
    assert printed.startswith(b"#!/bin/sh\n")
    defaults = with_preview_defaults(["cluster.name=demo"], profile.latest.document, settings.PORTAL_URL)
    assert printed == render_revision(profile.latest, parse_variables(defaults), "shell")
    assert b"'demo-node-0'" in printed and b"192.0.2.10" in printed


def test_a_given_role_address_replaces_that_roles_default_addresses():
    defaults = with_preview_defaults(
        ["roles.master.address=10.0.0.5"], {"hostname": "{{ roles.master.address }}"}, "https://p"
    )
    assert parse_variables(defaults)["roles"]["master"] == {"address": "10.0.0.5", "addresses": ["10.0.0.5"]}
    assert parse_variables(defaults)["role"] == {"name": "node"}
