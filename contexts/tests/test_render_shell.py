"""The shell output (and amiconfig's sh part) is valid POSIX sh, and no value is ever expanded."""

import subprocess

import pytest

from contexts.document import validate
from contexts.render import RenderError, render
from contexts.render.common import quote
from contexts.tests.render_samples import EXAMPLES, SALT_SEED, VARIABLES, render_example

HOSTILE = [
    "it's",
    "'\"'\"'",
    "$(touch /tmp/context-portal-pwned)",
    "`id`",
    "${HOME} $HOME $0 $$ $1",
    "a\\b\\\\c \\'",
    "semi; rm -rf /nonexistent # comment",
    "line one\nline two\n\n",
    "tabs\tand\r\ncarriage returns \x01\x7f",
    "ünïcödé ☃ 𝄞",
    "-n",
    "%s %d %%",
    "",
]


def sh_syntax_errors(script: str) -> str:
    result = subprocess.run(["sh", "-n"], input=script, capture_output=True, text=True)
    return "" if result.returncode == 0 else result.stderr


def amiconfig_sh_part(user_data: str) -> str:
    head, separator, _ini = user_data.partition("\n[amiconfig]\n")
    assert separator, "amiconfig output has no [amiconfig] section"
    return head


@pytest.mark.parametrize("name", EXAMPLES)
def test_example_shell_output_is_valid_sh(name):
    script = render_example(name, "shell").decode()
    assert script.startswith("#!/bin/sh\n")
    assert sh_syntax_errors(script) == ""


@pytest.mark.parametrize("name", EXAMPLES)
def test_example_amiconfig_sh_part_is_valid_sh_and_ends_with_exit(name):
    sh_part = amiconfig_sh_part(render_example(name, "amiconfig").decode())
    if sh_part:
        assert sh_part.startswith("#!/bin/sh\n")
        assert sh_part.endswith("\nexit 0\n")
        assert sh_syntax_errors(sh_part) == ""


@pytest.mark.parametrize("value", HOSTILE)
def test_quoting_helper_gives_back_the_value_literally(value):
    result = subprocess.run(["sh", "-c", f"printf '%s' {quote(value)}"], capture_output=True)
    assert result.returncode == 0
    assert result.stdout == value.encode()


def test_hostile_file_contents_and_environment_come_out_literally(tmp_path):
    """Run the generated files section, with cp_write redirected into a temporary directory."""
    one_line = [v for v in HOSTILE if "\n" not in v and "\r" not in v]
    document = {
        "schema": 1,
        "env": {f"V{i}": value for i, value in enumerate(one_line)},
        "files": [
            {"path": f"/srv/file-{i}", "content": value, "template": False} for i, value in enumerate(HOSTILE)
        ],
    }
    script = render(document, VARIABLES, "shell", salt_seed=SALT_SEED).decode()
    files_section = script[script.index("# Files\n") :]
    assert sh_syntax_errors(script) == ""
    sandbox = f'cp_write() {{ cat >"$SANDBOX/$(printf %s "$1" | tr / _)"; }}\nset -eu\n{files_section}'
    subprocess.run(["sh", "-c", sandbox], env={"SANDBOX": str(tmp_path), "PATH": "/usr/bin:/bin"}, check=True)

    for i, value in enumerate(HOSTILE):
        assert (tmp_path / f"_srv_file-{i}").read_bytes() == value.encode()
    printed = subprocess.run(
        ["sh", "-c", '. "$1"; for i in $(seq 0 $2); do eval "printf \'%s\\0\' \\"\\$V$i\\""; done', "sh"]
        + [str(tmp_path / "_etc_profile.d_context-portal.sh"), str(len(one_line) - 1)],
        capture_output=True,
        check=True,
    )
    assert printed.stdout.split(b"\0")[:-1] == [v.encode() for v in one_line]
    assert not (tmp_path / "context-portal-pwned").exists()


def test_hostile_user_values_stay_quoted_in_the_script():
    document = {
        "schema": 1,
        "hostname": "host-1",
        "users": [
            {"name": "eve", "gecos": "Eve `id` $(id) 'x'", "shell": "/bin/$(id)", "password": "p'w\"d"}
        ],
        "scripts": [{"name": "s", "language": "bash", "body": "echo '$(date)' \"$HOME\"\n"}],
    }
    script = render(document, VARIABLES, "shell", salt_seed=SALT_SEED).decode()
    assert sh_syntax_errors(script) == ""
    assert "hostname 'host-1'\n" in script
    assert "-c 'Eve `id` $(id) '\\''x'\\''' -s '/bin/$(id)'" in script


def test_a_hostname_that_is_no_host_name_is_refused_when_saved_and_when_rendered():
    assert validate({"schema": 1, "hostname": "host'$(reboot)"}) == [
        "hostname: \"host'$(reboot)\" is not allowed here (a host name: letters, digits and '-', in labels "
        "separated by '.' (or a template giving one))"
    ]
    templated = {"schema": 1, "hostname": "{{ cluster.name }} $(reboot)"}
    with pytest.raises(RenderError, match="is not a valid host name"):
        render(templated, VARIABLES, "shell", salt_seed=SALT_SEED)
