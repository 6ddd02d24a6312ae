"""What the three user-data formats share: quoting, passwords, and plans of files + commands.

Each format turns the same `Plan` (packages to install, files to write, commands to run) into its own
syntax, so a service (`contexts.services`) is described once and the formats cannot drift apart.
"""

from __future__ import annotations

import base64
import re
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from contexts import secrets

if TYPE_CHECKING:
    from contexts.render.checkin import Checkin


class RenderError(ValueError):
    """User-data cannot be produced; the message is one clean line meant for the user."""


# Stands in for a password hash in redacted previews: a '!' hash is a locked account in shadow(5),
# so even a deployed preview never grants a login.
REDACTED_HASH = "!redacted"

SHEBANGS = {"sh": "#!/bin/sh", "bash": "#!/bin/bash", "python": "#!/usr/bin/env python3"}
SUDO_RULE = "ALL=(ALL) NOPASSWD:ALL"

CVMFS_DEFAULT_LOCAL = "/etc/cvmfs/default.local"
ENV_FILE = "/etc/profile.d/context-portal.sh"


def quote(value: Any) -> str:
    """One POSIX shell word meaning exactly `value` (any characters but NUL)."""
    return "'" + str(value).replace("'", "'\\''") + "'"


# Unicode's control characters (category Cc) but newline and tab.
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")


def needs_binary_encoding(text: str) -> bool:
    """True when text holds control characters other than newline and tab."""
    return _CONTROL.search(text) is not None


def b64(text: str) -> str:
    return base64.b64encode(text.encode()).decode()


def octal_mode(mode: str | None, default: str = "0644") -> str:
    mode = mode or default
    return mode if len(mode) == 4 else "0" + mode


# Where every format installs the run-once scripts (run by path, in the document's order).
SCRIPTS_DIR = "/var/lib/context-portal/scripts"


def script_path(index: int, script: dict) -> str:
    return f"{SCRIPTS_DIR}/{script_file_name(index, script)}"


def command_label(argv: list[str]) -> str:
    """A short name for a service command in failure reports: `systemctl restart condor`."""
    words = argv[2].split() if len(argv) > 2 and argv[1] == "-c" else list(argv)
    return " ".join(words[:3])


def script_file_name(index: int, script: dict) -> str:
    """`01-setup`: the list position keeps the document's order when a directory is run sorted."""
    return f"{index + 1:02d}-{script['name']}"


def script_text(script: dict) -> str:
    body = script["body"]
    if not body.endswith("\n"):
        body += "\n"
    return f"{SHEBANGS[script.get('language', 'sh')]}\n{body}"


def run_once(script: dict) -> bool:
    return script.get("run", "once") == "once"


@dataclass
class File:
    path: str
    content: str
    mode: str = "0644"
    owner: str = "root:root"
    # Secret content travels base64-encoded, so the clear text never appears in the user-data.
    secret: bool = False


@dataclass
class Plan:
    packages: list[str] = field(default_factory=list)
    files: list[File] = field(default_factory=list)
    commands: list[list[str]] = field(default_factory=list)


@dataclass
class Context:
    """The templated document and what a format needs besides it."""

    document: dict
    variables: dict
    salt_seed: bytes
    redact: bool
    checkin: Checkin | None = None

    def password_hash(self, password: str | None, purpose: str) -> str | None:
        """A `$6$` hash of a set password, or the redaction placeholder; None when unset."""
        if not password:
            return None
        if self.redact or password == secrets.REDACTED:
            return REDACTED_HASH
        return secrets.password_hash(password, self.salt_seed, purpose)


def primary_group(user: dict) -> str:
    groups = user.get("groups") or []
    return groups[0] if groups else user["name"]


# --- Plans: files and commands --------------------------------------------------------------


def cvmfs_plan(cvmfs: dict) -> Plan:
    """`/etc/cvmfs/default.local`, one `config.d` file and key per extra repository, then setup."""
    if not cvmfs:
        return Plan()
    names = [*cvmfs.get("repositories", []), *(r["name"] for r in cvmfs.get("extra_repositories", []))]
    lines = ["# Written by Context Portal."]
    if names:
        lines.append(f"CVMFS_REPOSITORIES={','.join(dict.fromkeys(names))}")
    if "http_proxy" in cvmfs:
        lines.append(f"CVMFS_HTTP_PROXY={quote(cvmfs['http_proxy'])}")
    if "quota_mb" in cvmfs:
        lines.append(f"CVMFS_QUOTA_LIMIT={cvmfs['quota_mb']}")
    files = [File(CVMFS_DEFAULT_LOCAL, "\n".join(lines) + "\n")]
    for repo in cvmfs.get("extra_repositories", []):
        files.extend(cvmfs_extra_repository_files(repo))
    return Plan(packages=["cvmfs"], files=files, commands=[["cvmfs_config", "setup"]])


def cvmfs_extra_repository_files(repo: dict) -> list[File]:
    name = repo["name"]
    config = [f"CVMFS_SERVER_URL={quote(repo['server'])}"]
    files = []
    if repo.get("public_key"):
        key_path = f"/etc/cvmfs/keys/{name}.pub"
        config.append(f"CVMFS_PUBLIC_KEY={key_path}")
        key = repo["public_key"] if repo["public_key"].endswith("\n") else repo["public_key"] + "\n"
        files.append(File(key_path, key))
    files.insert(0, File(f"/etc/cvmfs/config.d/{name}.conf", "\n".join(config) + "\n"))
    return files


def env_plan(env: dict) -> Plan:
    if not env:
        return Plan()
    lines = ["# Written by Context Portal: the profile's environment for login shells."]
    lines += [f"export {key}={quote(value)}" for key, value in env.items()]
    return Plan(files=[File(ENV_FILE, "\n".join(lines) + "\n")])


def files_plan(files: list[dict]) -> Plan:
    return Plan(
        files=[
            File(f["path"], f["content"], octal_mode(f.get("mode")), f.get("owner") or "root:root")
            for f in files
        ]
    )


def merge_plans(*plans: Plan) -> Plan:
    merged = Plan()
    for plan in plans:
        merged.packages += [p for p in plan.packages if p not in merged.packages]
        merged.files += plan.files
        merged.commands += plan.commands
    return merged
