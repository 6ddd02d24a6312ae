"""`manage.py render_profile FILE.yaml|PROFILE_ID --format F --var k=v` (docs/user-data.md), as a contract."""

import subprocess
import sys
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command

from contexts.profiles import create_profile, render_revision
from contexts.templating import parse_variables

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


def test_a_variable_the_profile_needs_but_was_not_given_exits_2(profile_file):
    result = run(str(profile_file), "--var", "cluster.name=demo")
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
