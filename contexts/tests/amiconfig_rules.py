"""How CernVM reads amiconfig user-data, written from its documented behaviour, for the tests.

- `amiconfig.sh user` (CernVM's amiconfig package, `RunUserDataScript`): drops blank lines
  (`grep -v '^ *$'`); if the first line starts with `#!`, the lines from the first `#!...sh` line
  to the first line starting with `exit` are run as a script; CernVM documents that a `#!/bin/sh`
  script runs after amiconfig's plugins.
- amiconfig's parser (`UserData`: `INIFileStub.sanitize`, then Python 2's `ConfigParser`): only
  lines matching `SECTCRE` (a column-0 `[...]`) and, after the first of them, lines matching
  `OPTCRE` (`key=value` or `key: value`, the key not starting with a space) are kept; comment lines
  (`#`, `;`) are skipped; keys are lower-cased; a value loses a ` ;comment` and surrounding
  spaces; a repeated section adds to the first.
- The plugins read the keys of `PLUGIN_KEYS` (CernVM's amiconfig plugins cernvm, condor,
  puppet, ganglia; rPath's hostname). The cernvm plugin splits `users` on ',' then ':' (three
  fields) and `environment` on ',' then '=' (two fields).
- µCernVM's boot loader (`parse_user_data`): between the lines `[ucernvm-begin]` and
  `[ucernvm-end]`, `key=value` becomes `_UCONTEXT_<KEY>=<value>` (on/yes/true -> 1,
  off/no/false -> 0) and the result is sourced by sh.
"""

from __future__ import annotations

import re
import subprocess

SECTCRE = re.compile(r"\[(?P<header>[^]]+)\]")
OPTCRE = re.compile(r"(?P<option>[^:=\s][^:=]*)\s*(?P<vi>[:=])\s*(?P<value>.*)$")

PLUGIN_KEYS = {
    "amiconfig": {"plugins", "disabled_plugins"},
    "cernvm": {
        "organisations",
        "repositories",
        "extra_repositories",
        "users",
        "shell",
        "proxy",
        "environment",
        "services",
        "group_profile",
        "contextualization_key",
        "contextualization_command",
        "config_url",
        "edition",
        "screenres",
        "startxdm",
        "keyboard",
        "griduiversion",
        "auto_login",
        "swap_size",
        "desktop_icons",
        "entitlement_key",
    },
    "hostname": {"hostname"},
    "condor": {
        "hostname",
        "condor_master",
        "condor_secret",
        "collector_name",
        "condor_user",
        "condor_group",
        "condor_dir",
        "condor_admin",
        "highport",
        "lowport",
        "uid_domain",
        "allow_write",
        "extra_vars",
        "use_ips",
    },
    "puppet": {"puppet_server", "puppet_port", "puppet_log", "puppet_extra_opts"},
    "ganglia": {"name", "owner", "latlong", "url", "location", "host", "bind_hostname", "port", "ttl"},
}
UCERNVM_KEYS = {
    "resize_rootfs", "cvmfs_http_proxy", "cvmfs_pac_urls", "cvmfs_branch", "cvmfs_server",
    "cvmfs_tag", "cernvm_inject", "useglideinwms",
}  # fmt: skip


def without_blank_lines(user_data: str) -> list[str]:
    return [line for line in user_data.split("\n") if not re.fullmatch(r" *", line)]


def script_run(user_data: str) -> str | None:
    """The script `amiconfig.sh` runs, or None when the user-data does not start with `#!`."""
    lines = without_blank_lines(user_data)
    if not lines or not lines[0].startswith("#!"):
        return None
    start = next(i for i, line in enumerate(lines) if re.search(r"#!.*sh", line))
    end = next((i for i in range(start, len(lines)) if lines[i].startswith("exit")), len(lines) - 1)
    return "\n".join(lines[start : end + 1]) + "\n"


def parse_ini(user_data: str) -> tuple[list[str], dict[str, dict[str, str]]]:
    """(section headers in the order met, {section: {key: value}}) as amiconfig reads them."""
    kept, found = [], False
    for line in user_data.split("\n"):
        if SECTCRE.match(line):
            found = True
            kept.append(line)
        elif found and OPTCRE.match(line):
            kept.append(line)
    order, sections, current = [], {}, None
    for line in kept:
        if line.strip() == "" or line[0] in "#;":
            continue
        if line.split(None, 1)[0].lower() == "rem" and line[0] in "rR":
            continue
        header = SECTCRE.match(line)
        if header:
            name = header.group("header")
            order.append(name)
            current = sections.setdefault(name, {})
            continue
        option = OPTCRE.match(line)
        key, value = option.group("option").rstrip().lower(), option.group("value")
        semicolon = value.find(";")
        if semicolon > 0 and value[semicolon - 1].isspace():
            value = value[:semicolon]
        value = value.strip()
        current[key] = "" if value == '""' else value
    return order, sections


def cernvm_users(value: str) -> list[tuple[str, str, str]]:
    """`users=` as the cernvm plugin splits it: (name, group, password) each."""
    entries = [tuple(entry.split(":")) for entry in value.split(",")]
    assert all(len(entry) == 3 for entry in entries), f"the plugin cannot split users={value}"
    return entries


def cernvm_environment(value: str) -> dict[str, str]:
    pairs = [entry.split("=") for entry in value.split(",")]
    assert all(len(pair) == 2 for pair in pairs), f"the plugin cannot split environment={value}"
    return dict(pairs)


def ucernvm_values(user_data: str) -> dict[str, str]:
    """The boot loader's `_UCONTEXT_*` variables once sourced, by lower-case key."""
    assignments, inside = [], False
    for line in user_data.split("\n"):
        if line == "[ucernvm-begin]":
            inside = True
            continue
        if line == "[ucernvm-end]":
            break
        if inside and "=" in line:
            key, value = line.split("=", 1)
            value = {"YES": "1", "ON": "1", "TRUE": "1", "NO": "0", "OFF": "0", "FALSE": "0"}.get(
                value.upper(), value
            )
            assignments.append((key, f"_UCONTEXT_{key.upper()}={value}"))
    if not assignments:
        return {}
    names = " ".join(f'"${{_UCONTEXT_{key.upper()}}}"' for key, _line in assignments)
    script = "\n".join(line for _key, line in assignments) + f"\nprintf '%s\\0' {names}\n"
    printed = subprocess.run(["sh", "-c", script], capture_output=True, check=True, text=True).stdout
    return dict(zip((key for key, _line in assignments), printed.split("\0")[:-1], strict=True))
