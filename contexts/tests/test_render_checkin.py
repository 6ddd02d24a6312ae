"""User-data with check-in (`render(..., checkin=...)`, docs/launches.md): every format installs the
`portal-instance` helper with the token in a root-only file, checks in `booted` first and `ready`
last; without `checkin` nothing changes (the golden files of test_render_golden)."""

import base64
import os
import re
from pathlib import Path

import pytest
import yaml

from contexts.render import FORMATS, RenderError, render
from contexts.render.checkin import HELPER_PATH, TOKEN_PATH, helper_script
from contexts.templating import check_templates, parse_variables, preview_variables
from contexts.tests.render_samples import EXAMPLES, SALT_SEED, VARIABLES, render_example
from contexts.tests.test_render_cloud_init_schema import assert_cloud_init_accepts
from contexts.tests.test_render_shell import amiconfig_sh_part, sh_syntax_errors

GOLDEN_DIR = Path(__file__).parent / "golden"
TOKEN = "Tq3vX0-instance-token_8Jd2kLw9aZpQ4rYb"
TOKEN_B64 = base64.b64encode(f"{TOKEN}\n".encode()).decode()
CHECKIN = {"url": "https://portal.example.org/api/v1/instance/", "token": TOKEN}


def with_checkin(name: str, fmt: str) -> bytes:
    return render_example(name, fmt, checkin=CHECKIN)


def sh_of(user_data: bytes, fmt: str) -> str:
    text = user_data.decode()
    return amiconfig_sh_part(text) if fmt == "amiconfig" else text


@pytest.mark.parametrize("fmt", FORMATS)
def test_htcondor_worker_with_checkin_matches_its_golden_file(fmt):
    output = with_checkin("htcondor-worker", fmt)
    golden = GOLDEN_DIR / f"htcondor-worker.checkin.{fmt}"
    if os.environ.get("UPDATE_GOLDEN"):
        golden.write_bytes(output)
    assert golden.exists(), f"no golden file {golden.name}; run with UPDATE_GOLDEN=1 and review it"
    assert output == golden.read_bytes(), f"htcondor-worker ({fmt}, checkin) differs from {golden.name}"


@pytest.mark.parametrize("fmt", FORMATS)
def test_output_is_deterministic_and_differs_only_with_checkin(fmt):
    assert with_checkin("mpi-node", fmt) == with_checkin("mpi-node", fmt)
    assert render_example("mpi-node", fmt, checkin=None) == render_example("mpi-node", fmt)
    assert with_checkin("mpi-node", fmt) != render_example("mpi-node", fmt)


@pytest.mark.parametrize("name", EXAMPLES)
def test_cloud_init_with_checkin_passes_cloud_init_schema(name, tmp_path):
    assert_cloud_init_accepts(with_checkin(name, "cloud-init"), tmp_path)


@pytest.mark.parametrize("fmt", ["shell", "amiconfig"])
@pytest.mark.parametrize("name", EXAMPLES)
def test_shell_with_checkin_is_valid_sh(name, fmt):
    assert sh_syntax_errors(sh_of(with_checkin(name, fmt), fmt)) == ""


def test_the_helper_is_valid_sh():
    assert sh_syntax_errors(helper_script(CHECKIN["url"])) == ""


def test_cloud_init_has_the_token_only_in_the_root_only_file():
    output = with_checkin("htcondor-worker", "cloud-init")
    assert TOKEN.encode() not in output
    assert output.count(TOKEN_B64.encode()) == 1
    config = yaml.safe_load(output)
    files = {f["path"]: f for f in config["write_files"]}
    token_file = files[TOKEN_PATH]
    assert base64.b64decode(token_file["content"]).decode() == f"{TOKEN}\n"
    assert (token_file["permissions"], token_file["owner"]) == ("0600", "root:root")
    helper = files[HELPER_PATH]
    assert (helper["permissions"], helper["owner"]) == ("0700", "root:root")
    assert helper["content"] == helper_script(CHECKIN["url"])
    assert TOKEN_PATH in helper["content"]
    assert all(TOKEN not in " ".join(entry) for entry in config["runcmd"])


def test_cloud_init_checks_in_booted_first_and_ready_last_after_the_profile_runcmd():
    document = {
        "schema": 1,
        "scripts": [{"name": "setup", "body": "echo setting up"}],
        "cloud_config": {"runcmd": [["echo", "from the profile"]]},
    }
    config = yaml.safe_load(render(document, VARIABLES, salt_seed=SALT_SEED, checkin=CHECKIN))
    assert config["runcmd"] == [
        [HELPER_PATH, "checkin", "booted"],
        [HELPER_PATH, "run", "script 01-setup", "/var/lib/context-portal/scripts/01-setup"],
        ["echo", "from the profile"],
        [HELPER_PATH, "finish"],
    ]


def test_cloud_init_runs_every_service_command_and_script_through_the_helper_then_finishes():
    config = yaml.safe_load(with_checkin("mpi-node", "cloud-init"))
    assert config["runcmd"][0] == [HELPER_PATH, "checkin", "booted"]
    assert config["runcmd"][-1] == [HELPER_PATH, "finish"]
    steps = config["runcmd"][1:-1]
    assert all(step[:2] == [HELPER_PATH, "run"] for step in steps)
    assert [step[2] for step in steps][-2:] == ["script 01-prepare", "script 02-check-peers"]


@pytest.mark.parametrize("fmt", ["shell", "amiconfig"])
def test_shell_has_the_token_only_in_the_line_writing_the_root_only_file(fmt):
    script = sh_of(with_checkin("htcondor-worker", fmt), fmt)
    assert TOKEN not in script
    lines = [line for line in script.splitlines() if TOKEN_B64 in line]
    assert lines == [f"printf '%s' '{TOKEN_B64}' | base64 -d | cp_write '{TOKEN_PATH}' 0600 'root:root'"]
    if fmt == "shell":
        assert f"cp_write '{HELPER_PATH}' 0700 root:root <<'PORTAL_INSTANCE_HELPER'\n" in script
        assert helper_script(CHECKIN["url"]) + "PORTAL_INSTANCE_HELPER\n" in script
    else:
        # amiconfig.sh drops blank lines and ends the script at a column-0 `exit`: one line.
        helper = base64.b64encode(helper_script(CHECKIN["url"]).encode()).decode()
        assert f"printf '%s' '{helper}' | base64 -d | cp_write '{HELPER_PATH}' 0700 'root:root'\n" in script


@pytest.mark.parametrize("fmt", ["shell", "amiconfig"])
def test_shell_checks_in_booted_before_the_sections_and_ready_or_failed_after_them(fmt):
    script = sh_of(with_checkin("htcondor-worker", fmt), fmt)
    booted = script.index("\ncp_checkin booted\n")
    first_section = script.index("\n# ", booted)
    assert script.index("\ncp_as 'systemctl restart condor' 'systemctl' 'restart' 'condor'\n") > first_section
    epilogue = script.index("\n# Check-in: ready, or failed naming what failed\n")
    assert epilogue > script.index("\ncp_as 'systemctl restart condor' 'systemctl' 'restart' 'condor'\n")
    assert script[epilogue:].count("\n# ") == 1, "the check-in comes after every section"
    assert '\tcp_checkin failed "failed: $cp_failed"\n' in script[epilogue:]
    assert "\tcp_checkin ready\n" in script[epilogue:]
    assert "trap '" in script[:booted] and 'cp_checkin failed "stopped with status' in script[:booted]


def test_every_shell_section_names_itself_for_the_failure_message():
    script = with_checkin("htcondor-worker", "shell").decode()
    titles = re.findall(r"\n# (.+)\ncp_step=", script)
    assert titles == ["System", "Users", "Packages", "Files", "Services"]
    assert "\n# Services\ncp_step='Services'\n" in script


def test_amiconfig_gets_an_sh_part_for_the_checkin_even_with_nothing_else_to_do():
    plain = render({"schema": 1}, VARIABLES, "amiconfig", salt_seed=SALT_SEED).decode()
    assert plain.startswith("[amiconfig]\n")
    output = render({"schema": 1}, VARIABLES, "amiconfig", salt_seed=SALT_SEED, checkin=CHECKIN).decode()
    sh_part = amiconfig_sh_part(output)
    assert sh_part.startswith("#!/bin/sh\n") and sh_part.endswith("\nexit 0\n")
    assert "cp_checkin booted" in sh_part and "cp_checkin ready" in sh_part
    assert sh_syntax_errors(sh_part) == ""


@pytest.mark.parametrize(
    "checkin",
    [
        "https://portal/api/v1/instance/",
        {"url": "https://portal.example.org/api/v1/instance/"},
        {"url": "ftp://portal.example.org/", "token": TOKEN},
        {"url": "https://portal.example.org/a b", "token": TOKEN},
        {"url": "https://portal.example.org/", "token": 'to"ken-with-a-quote-inside'},
        {"url": "https://portal.example.org/", "token": "short"},
    ],
)
def test_a_bad_checkin_option_is_a_render_error(checkin):
    with pytest.raises(RenderError, match="^checkin"):
        render({"schema": 1}, VARIABLES, "shell", salt_seed=SALT_SEED, checkin=checkin)


def test_the_url_gets_one_trailing_slash():
    without = {**CHECKIN, "url": "https://portal.example.org/api/v1/instance"}
    assert render({"schema": 1}, VARIABLES, salt_seed=SALT_SEED, checkin=without) == render(
        {"schema": 1}, VARIABLES, salt_seed=SALT_SEED, checkin=CHECKIN
    )


def test_instance_token_is_a_template_variable():
    document = {
        "schema": 1,
        "scripts": [{"name": "publish", "body": 'curl -H "Authorization: Instance {{ instance.token }}" x'}],
    }
    assert check_templates(document) == []
    dotted = preview_variables(document, "https://portal.example.org")
    assert dotted["instance.token"] == "preview-instance-token"
    variables = parse_variables({**dotted, "instance.token": TOKEN})
    output = render(document, variables, salt_seed=SALT_SEED).decode()
    assert f'curl -H "Authorization: Instance {TOKEN}" x' in output
