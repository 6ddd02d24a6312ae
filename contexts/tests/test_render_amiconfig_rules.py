"""Everything a profile asks for survives CernVM's reading of the amiconfig output.

The output is read as CernVM reads it (`amiconfig_rules`: amiconfig.sh's script extraction,
amiconfig's INI parser, the keys each plugin reads, µCernVM's boot-loader block), for every
example and for a profile made of what those rules drop or misread: files and scripts holding
blank lines, column-0 `exit`, `#!` and `[section]` lines, a user without a password, an extra
repository, an environment value with spaces and commas, a submit node.
"""

import base64
import re
import subprocess

import pytest

from contexts import services
from contexts.document import validate
from contexts.render import render
from contexts.render.amiconfig import CVMFS_QUOTA_FILE, LOCKED_PASSWORD
from contexts.render.checkin import HELPER_PATH
from contexts.render.common import (
    ENV_FILE,
    Context,
    cvmfs_extra_repository_files,
    octal_mode,
    primary_group,
    quote,
    run_once,
    script_file_name,
    script_path,
    script_text,
)
from contexts.render.shell import BOOT_DIR, command
from contexts.secrets import password_hash, secret_slots
from contexts.templating import render_document
from contexts.tests.amiconfig_rules import (
    PLUGIN_KEYS,
    UCERNVM_KEYS,
    cernvm_environment,
    cernvm_users,
    parse_ini,
    script_run,
    ucernvm_values,
    without_blank_lines,
)
from contexts.tests.render_samples import EXAMPLES, SALT_SEED, VARIABLES, example
from contexts.tests.test_render_checkin import CHECKIN
from contexts.tests.test_render_shell import amiconfig_sh_part, sh_syntax_errors

PEM = "-----BEGIN PUBLIC KEY-----\nMIIBIjANBgkqhkiG9w0BAQEFAAOCAQ8AMIIBCgKCAQEAwCJukqtIqzHL\n-----END PUBLIC KEY-----\n"
EVERYTHING_AMICONFIG_MISREADS = {
    "schema": 1,
    "hostname": "edge-{{ instance.index }}",
    "users": [
        {"name": "carol"},
        {
            "name": "dave",
            "password": "p@ss word * [x]",
            "groups": ["physics", "wheel"],
            "ssh_authorized_keys": ["ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIGRhdmU dave@laptop"],
        },
    ],
    "root": {"password": "r00t *"},
    "packages": ["htop"],
    "cvmfs": {
        "repositories": ["sft.cern.ch"],
        "extra_repositories": [
            {"name": "exp.example.org", "server": "http://s1.example.org/cvmfs/@fqrn@", "public_key": PEM}
        ],
        "http_proxy": "http://squid.example.org:3128;DIRECT",
        "quota_mb": 4000,
        "ucernvm": {
            "resize_rootfs": True,
            "cvmfs_branch": "cernvm-prod.cern.ch",
            "cvmfs_server": ["hepvm.cern.ch", "s1.example.org:8000"],
            "cvmfs_tag": "cernvm-system-4.7.1.0",
        },
    },
    "env": {"PLAIN": "a/b", "SPACED": "a b, c=d"},
    "files": [
        {
            "path": "/etc/app/app.ini",
            "content": "[cernvm]\nusers=mallory:wheel:x\n\n[amiconfig]\nplugins=evil\n\nexit 0\n#!/bin/sh after\n  indented: yes\n",
            "mode": "0600",
        }
    ],
    "scripts": [
        {"name": "setup", "body": "echo one\n\n\nexit 0\n[section]\nkey=value\n"},
        {"name": "mount", "run": "every-boot", "body": "#!/bin/sh before\necho boot\n   \necho again\n"},
    ],
    "services": {"condor": {"role": "submit", "master": "10.0.0.5", "pool_password": "pool secret ;x"}},
}
PROFILES = {name: example(name) for name in EXAMPLES} | {"misread": EVERYTHING_AMICONFIG_MISREADS}
CASES = [(name, checkin) for name in PROFILES for checkin in (None, CHECKIN)]
IDS = [f"{name}{'-checkin' if checkin else ''}" for name, checkin in CASES]
_WRITE = re.compile(
    r"\t?printf '%s' '([A-Za-z0-9+/=]*)' \| base64 -d \| cp_write '([^']*)' (\d{4}) '([^']*)'"
)


@pytest.fixture(params=CASES, ids=IDS)
def read(request):
    """(document as templated, the output, the script amiconfig.sh runs, INI order, INI sections)."""
    name, checkin = request.param
    document = PROFILES[name]
    output = render(document, VARIABLES, "amiconfig", salt_seed=SALT_SEED, checkin=checkin).decode()
    order, sections = parse_ini(output)
    return render_document(document, VARIABLES), output, script_run(output), order, sections


def written_files(script: str) -> dict[str, tuple[str, str, str]]:
    """{path: (content, mode, owner)} of every file the script writes."""
    found = {}
    for line in script.splitlines():
        match = _WRITE.fullmatch(line)
        if match:
            content = base64.b64decode(match.group(1)).decode()
            found[match.group(2)] = (content, match.group(3), match.group(4))
    return found


def test_the_profile_made_of_what_amiconfig_misreads_is_valid():
    assert validate(EVERYTHING_AMICONFIG_MISREADS) == []


def test_amiconfig_sh_runs_the_whole_sh_part_and_dropping_blank_lines_changes_no_command(read):
    _document, output, script, _order, _sections = read
    sh_part = amiconfig_sh_part(output)
    if not sh_part:
        assert script is None
        return
    assert script == "\n".join(without_blank_lines(sh_part)) + "\n", "the script ends before `exit 0`"
    assert script.endswith("\nexit 0\n")
    assert "<<" not in sh_part, "a here-document's blank lines would be dropped"
    for chunk in sh_part.split("\n\n"):
        assert sh_syntax_errors(chunk) == "", f"a blank line inside a command:\n{chunk[:300]}"
    assert sh_syntax_errors(script) == ""
    assert [line for line in script.splitlines()[1:] if "#!" in line] == []


def test_the_ini_starts_at_amiconfig_and_each_plugin_gets_only_keys_it_reads(read):
    _document, _output, _script, order, sections = read
    assert order[0] == "amiconfig", f"a line of the sh part became section [{order[0]}]"
    plugins = sections["amiconfig"]["plugins"].split()
    assert [
        name for name in dict.fromkeys(order) if name not in ("amiconfig", "ucernvm-begin", "ucernvm-end")
    ] == plugins
    assert len(order) == len(set(order)), "a section is repeated"
    for plugin in plugins:
        assert set(sections[plugin]) <= PLUGIN_KEYS[plugin], f"[{plugin}] has keys its plugin never reads"
    assert set(sections.get("ucernvm-begin", {})) <= UCERNVM_KEYS


def test_users_get_their_hash_or_a_locked_password_and_the_rest_in_the_sh_part(read):
    document, _output, script, _order, sections = read
    users = document.get("users") or []
    if not users:
        assert "users" not in sections["cernvm"]
        return
    expected = []
    for user in users:
        if user.get("password"):
            field = password_hash(user["password"], SALT_SEED, f"users.{user['name']}")
        else:
            # `config -u` hands a `$6$` value to `usermod -p` as it is; '!' is in no crypt hash.
            field = LOCKED_PASSWORD
        expected.append((user["name"], primary_group(user), field))
    assert cernvm_users(sections["cernvm"]["users"]) == expected
    assert all(field.startswith("$6$") for _name, _group, field in expected)
    for user in users:
        for key in user.get("ssh_authorized_keys", []):
            assert quote(key) in script
        if len(user.get("groups", [])) > 0:
            assert f"usermod -a -G {quote(','.join(user['groups']))} {quote(user['name'])}" in script
        if user.get("sudo"):
            assert f"/etc/sudoers.d/90-context-portal-{user['name']}" in script
    root = document.get("root") or {}
    if root.get("password"):
        assert f"usermod -p {quote(password_hash(root['password'], SALT_SEED, 'root'))} root" in script


def test_every_file_script_and_repository_is_written_as_given(read):
    document, _output, script, _order, _sections = read
    written = written_files(script or "")
    cvmfs = document.get("cvmfs") or {}
    expected = {}
    for repo in cvmfs.get("extra_repositories", []):
        expected |= {f.path: (f.content, f.mode, f.owner) for f in cvmfs_extra_repository_files(repo)}
    if "quota_mb" in cvmfs:
        expected[CVMFS_QUOTA_FILE] = (f"CVMFS_QUOTA_LIMIT={cvmfs['quota_mb']}\n", "0644", "root:root")
    for file in document.get("files") or []:
        expected[file["path"]] = (
            file["content"],
            octal_mode(file.get("mode")),
            file.get("owner") or "root:root",
        )
    for index, item in enumerate(document.get("scripts") or []):
        if run_once(item):
            expected[script_path(index, item)] = (script_text(item), "0700", "root:root")
        else:
            expected[f"{BOOT_DIR}/{script_file_name(index, item)}"] = (script_text(item), "0755", "root:root")
    for path, file in expected.items():
        assert written.get(path) == file, f"{path} is not written as the profile says"
    for index, item in enumerate(document.get("scripts") or []):
        if run_once(item):
            assert f"cp_once {quote(script_path(index, item))}" in script


def test_repositories_proxy_environment_packages_and_host_name_survive(read):
    document, _output, script, _order, sections = read
    cernvm = sections["cernvm"]
    cvmfs = document.get("cvmfs") or {}
    names = [*cvmfs.get("repositories", []), *(r["name"] for r in cvmfs.get("extra_repositories", []))]
    if names:
        assert cernvm["repositories"].split(",") == list(dict.fromkeys(names))
    assert cernvm.get("proxy") == cvmfs.get("http_proxy")
    env = document.get("env") or {}
    in_ini = cernvm_environment(cernvm["environment"]) if "environment" in cernvm else {}
    env_file = written_files(script or "").get(ENV_FILE, ("",))[0]
    for key, value in env.items():
        assert in_ini.get(key) == value or f"export {key}={quote(value)}\n" in env_file, key
    packages = document.get("packages", [])
    if packages:
        install = next(line for line in script.splitlines() if line.startswith("cp_as packages cp_install "))
        assert all(quote(p) in install.split() for p in packages)
    if document.get("hostname"):
        assert sections["hostname"] == {"hostname": document["hostname"]}


def test_the_boot_loader_gets_the_proxy_and_the_ucernvm_settings(read):
    document, output, _script, _order, _sections = read
    cvmfs = document.get("cvmfs") or {}
    ucernvm = cvmfs.get("ucernvm") or {}
    expected = {}
    if "resize_rootfs" in ucernvm:
        expected["resize_rootfs"] = "1" if ucernvm["resize_rootfs"] else "0"
    if cvmfs.get("http_proxy"):
        expected["cvmfs_http_proxy"] = cvmfs["http_proxy"]
    for key in ("cvmfs_branch", "cvmfs_tag"):
        if key in ucernvm:
            expected[key] = ucernvm[key]
    if "cvmfs_server" in ucernvm:
        expected["cvmfs_server"] = ",".join(ucernvm["cvmfs_server"])
    assert ucernvm_values(output) == expected


def test_every_service_plugin_setting_file_and_command_survives(read):
    document, _output, script, _order, sections = read
    ctx = Context(document, VARIABLES, SALT_SEED, redact=False)
    for plugin, pairs in services.amiconfig_sections(ctx):
        assert sections[plugin] == {key: str(value) for key, value in pairs if value not in (None, "")}
    plan = services.plan(ctx, "amiconfig")
    written = written_files(script or "")
    for file in plan.files:
        assert written.get(file.path) == (file.content, file.mode, file.owner)
    for argv in plan.commands:
        assert any(
            line.startswith("cp_as ") and line.endswith(" " + command(argv)) for line in script.splitlines()
        )


def test_a_submit_node_gets_no_condor_plugin_section_that_would_make_it_a_worker():
    output = render(EVERYTHING_AMICONFIG_MISREADS, VARIABLES, "amiconfig", salt_seed=SALT_SEED).decode()
    assert "condor" not in parse_ini(output)[1]
    assert (
        "MASTER, SCHEDD"
        in written_files(script_run(output))["/etc/condor/config.d/50-context-portal.conf"][0]
    )


def test_no_secret_appears_in_clear_text(read):
    document, output, _script, _order, _sections = read
    for container, key, name in secret_slots(document):
        assert container[key] not in output, f"{name} is in the user-data"


def test_a_failed_package_install_is_checked_in_as_failed_and_the_rest_still_runs(tmp_path):
    """The script amiconfig.sh runs, with stand-ins (this machine must not be changed): files go
    to tmp_path, every install fails, and the portal helper only notes its check-ins."""
    document = {
        "schema": 1,
        "packages": ["no-such-package"],
        "files": [{"path": "/etc/after", "content": "x\n"}],
    }
    output = render(document, VARIABLES, "amiconfig", salt_seed=SALT_SEED, checkin=CHECKIN).decode()
    script = script_run(output)
    stand_ins = (
        'cp_write() { cat >"$SANDBOX/$(printf %s "$1" | tr / _)"; }\n'
        "cp_install() { return 100; }\n"
        'cp_fake_portal() { shift; printf "%s\\n" "$*" >>"$SANDBOX/checkins"; }\n'
    )
    first_section = script.index("\n# Check-in with Context Portal")
    sandboxed = script[:first_section] + "\n" + stand_ins + script[first_section:]
    sandboxed = sandboxed.replace(f"\t{HELPER_PATH} checkin ", "\tcp_fake_portal checkin ")
    result = subprocess.run(
        ["sh", "-c", sandboxed],
        env={"SANDBOX": str(tmp_path), "PATH": "/usr/bin:/bin"},
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, result.stderr
    assert (tmp_path / "checkins").read_text() == "booted\nfailed failed: packages (exit 100)\n"
    assert (tmp_path / "_etc_after").read_text() == "x\n"
