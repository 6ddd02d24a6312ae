"""cloud-init output passes Debian's `cloud-init schema`, and big user-data is fitted to the provider."""

import gzip
import hashlib
import shutil
import subprocess

import pytest
import yaml

from contexts.render import RenderError, render
from contexts.render.limits import UserDataLimit, limit_named
from contexts.tests.render_samples import EXAMPLES, SALT_SEED, VARIABLES, render_example

CLOUD_INIT = "/usr/bin/cloud-init"
# The limits as the provider classes declare them (clusters/tests/test_user_data_limits.py).
EC2 = UserDataLimit("ec2", 16384)
OPENSTACK = UserDataLimit("openstack", 65536)


def assert_cloud_init_accepts(config: bytes, tmp_path):
    cloud_init = shutil.which("cloud-init") or CLOUD_INIT
    assert shutil.which(cloud_init), (
        "cloud-init is not installed: `make test` installs Debian's cloud-init package "
        "(apt-get install cloud-init), which these tests need to check the output"
    )
    path = tmp_path / "user-data"
    path.write_bytes(config)
    result = subprocess.run(
        [cloud_init, "schema", "--config-file", str(path)], capture_output=True, text=True
    )
    assert result.returncode == 0, f"cloud-init schema rejected the output:\n{result.stdout}{result.stderr}"


@pytest.mark.parametrize("name", EXAMPLES)
def test_example_passes_cloud_init_schema(name, tmp_path):
    assert_cloud_init_accepts(render_example(name, "cloud-init"), tmp_path)


def test_redacted_example_passes_cloud_init_schema_too(tmp_path):
    from contexts import secrets
    from contexts.tests.render_samples import example

    document = secrets.redact(example("htcondor-worker"))
    output = render(document, VARIABLES, "cloud-init", salt_seed=SALT_SEED, redact=True)
    assert_cloud_init_accepts(output, tmp_path)


def test_scripts_in_any_language_are_files_run_in_order_after_the_services():
    config = yaml.safe_load(render_example("mpi-node", "cloud-init"))
    scripts = {
        f["path"]: f for f in config["write_files"] if f["path"].startswith("/var/lib/context-portal/")
    }
    assert list(scripts) == [
        "/var/lib/context-portal/scripts/01-prepare",
        "/var/lib/context-portal/scripts/02-check-peers",
    ]
    assert scripts["/var/lib/context-portal/scripts/02-check-peers"]["content"].startswith(
        "#!/usr/bin/env python3\n"
    )
    assert {f["permissions"] for f in scripts.values()} == {"0700"}
    assert config["runcmd"][-2:] == [[path] for path in scripts]


def test_cloud_config_merge_appends_lists_and_merges_mappings(tmp_path):
    document = {
        "schema": 1,
        "packages": ["git"],
        "cloud_config": {"packages": ["vim"], "ntp": {"enabled": True}, "package_update": False},
    }
    output = render(document, VARIABLES, salt_seed=SALT_SEED).decode()
    assert "packages:\n- git\n- vim\n" in output
    assert "ntp:\n  enabled: true\n" in output
    assert "package_update: false\n" in output
    assert_cloud_init_accepts(output.encode(), tmp_path)


def _document_with_file(content: str) -> dict:
    return {"schema": 1, "files": [{"path": "/srv/data.txt", "content": content}]}


def test_user_data_over_the_ec2_limit_is_gzipped(tmp_path):
    document = _document_with_file("the same line again and again\n" * 1000)
    plain = render(document, VARIABLES, salt_seed=SALT_SEED)
    fitted = render(document, VARIABLES, salt_seed=SALT_SEED, limit=EC2)
    assert len(plain) > 16384
    assert len(fitted) <= 16384
    assert gzip.decompress(fitted) == plain
    assert fitted == render(document, VARIABLES, salt_seed=SALT_SEED, limit=EC2), "gzip must be deterministic"
    assert render(document, VARIABLES, salt_seed=SALT_SEED, limit=OPENSTACK) == plain


def test_user_data_over_the_limit_even_gzipped_is_an_error_naming_the_sizes():
    noise = "".join(hashlib.sha256(str(i).encode()).hexdigest() for i in range(1000))  # 64,000 characters
    document = _document_with_file(noise)
    with pytest.raises(RenderError) as caught:
        render(document, VARIABLES, salt_seed=SALT_SEED, limit=EC2)
    message = str(caught.value)
    assert "(gzip-compressed); the ec2 limit is 16,384 bytes" in message
    assert message.startswith("user-data is ") and " bytes" in message


def test_other_formats_over_the_limit_are_an_error_without_gzip():
    document = _document_with_file("the same line again and again\n" * 1000)
    with pytest.raises(RenderError, match=r"^user-data is [\d,]+ bytes; the ec2 limit is 16,384 bytes$"):
        render(document, VARIABLES, "shell", salt_seed=SALT_SEED, limit=EC2)


def test_unknown_format_or_provider_is_an_error():
    with pytest.raises(RenderError, match="unknown user-data format 'ini'"):
        render({"schema": 1}, VARIABLES, "ini", salt_seed=SALT_SEED)
    with pytest.raises(RenderError, match="unknown provider 'gce'"):
        limit_named("gce")


def test_unknown_template_variable_is_a_render_error_naming_the_field():
    document = {"schema": 1, "hostname": "{{ cluster.nope }}"}
    with pytest.raises(RenderError, match=r"^hostname: unknown template variable"):
        render(document, VARIABLES, salt_seed=SALT_SEED)


def test_template_that_makes_a_line_break_in_a_one_line_field_is_refused():
    document = {"schema": 1, "env": {"A": "x{{ '\\n' }}y"}}
    with pytest.raises(RenderError, match=r"^env.A: the template produced a line break"):
        render(document, VARIABLES, "amiconfig", salt_seed=SALT_SEED)
