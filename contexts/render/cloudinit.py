"""The `cloud-init` format: a `#cloud-config` document, or a MIME archive when scripts need one.

Mapping choices (checked against the cloud-init 22.4 schema that Debian ships):
- users keep the image's `default` user first, so the provider's key pair still logs in;
- a user password becomes `hashed_passwd` (applied even when the account exists), root's goes
  through `chpasswd.users` with `type: hash`;
- every `write_files` entry is deferred: files are written in the final stage, after users and
  packages exist, so owners resolve and package installs do not overwrite them; the files run by
  cloud-init's per-boot scripts module and `runcmd` still come later in that stage;
- puppet and ansible-pull use cloud-init's own modules; the other services are files + `runcmd`;
- `cloud_config` is merged last: mappings recursively, lists appended, anything else replaced.

Scripts: run-once sh/bash scripts are `runcmd` entries (`[bash, -c, body]`), after the service
commands and in document order; every-boot scripts go to `/var/lib/cloud/scripts/per-boot/NN-name`.
cloud-init cannot run a Python script from `runcmd` with its shebang, so when any run-once script is
in another language the output becomes a MIME multipart archive: part 1 is the cloud-config, then
every run-once script, in document order, is a `text/x-shellscript` part named `script-NN-name`.
cloud-init runs those parts sorted by name after its own `runcmd` script ("runcmd" < "script-..."),
so the order (services, then scripts as listed) is the same either way.

Check-in (`render(..., checkin=...)`): the token file and the `portal-instance` helper lead
`write_files`; `portal-instance checkin booted` is the first `runcmd` entry and `... ready` the last
(after the profile's own `cloud_config` runcmd), or, in a MIME archive, a last part named
`script-zz-portal-ready`, which sorts after every script part.
"""

from __future__ import annotations

import hashlib
from email.mime.multipart import MIMEMultipart
from email.mime.text import MIMEText

import yaml

from contexts.render import checkin
from contexts.render.common import (
    SUDO_RULE,
    Context,
    File,
    env_plan,
    files_plan,
    merge_plans,
    needs_binary_encoding,
    run_once,
    script_file_name,
    script_text,
    service_plan,
)
from contexts.render.common import b64 as encode_b64

PER_BOOT_DIR = "/var/lib/cloud/scripts/per-boot"
READY_PART = "script-zz-portal-ready"
_RUNCMD_SHELLS = {"sh": "sh", "bash": "bash"}


class _Dumper(getattr(yaml, "CSafeDumper", yaml.SafeDumper)):
    """Safe YAML with multi-line strings as literal blocks, for readable scripts and files."""


def _represent_str(dumper, value: str):
    style = "|" if "\n" in value else None
    return dumper.represent_scalar("tag:yaml.org,2002:str", value, style=style)


_Dumper.add_representer(str, _represent_str)


def build(ctx: Context) -> bytes:
    doc = ctx.document
    config: dict = {}
    for key in ("hostname", "timezone", "locale"):
        if key in doc:
            config[key] = doc[key]
    if doc.get("users"):
        config["users"] = ["default", *(_user(ctx, user) for user in doc["users"])]
    files: list[File] = []
    root = doc.get("root") or {}
    if root.get("ssh_authorized_keys"):
        config["disable_root"] = False
        keys = "".join(key + "\n" for key in root["ssh_authorized_keys"])
        files.append(File("/root/.ssh/authorized_keys", keys, mode="0600"))
    root_hash = ctx.password_hash(root.get("password"), "root")
    if root_hash:
        config["chpasswd"] = {
            "expire": False,
            "users": [{"name": "root", "password": root_hash, "type": "hash"}],
        }

    plan = merge_plans(
        service_plan(ctx, native=frozenset({"puppet", "ansible_pull"})),
        env_plan(doc.get("env") or {}),
        files_plan(doc.get("files") or []),
    )
    packages = [*doc.get("packages", []), *(p for p in plan.packages if p not in doc.get("packages", []))]
    if packages:
        config["package_update"] = True
    if "package_upgrade" in doc:
        config["package_upgrade"] = doc["package_upgrade"]
    if packages:
        config["packages"] = packages

    scripts = doc.get("scripts") or []
    if ctx.checkin:
        files = [*ctx.checkin.files(), *files]
    files += plan.files
    files += [
        File(f"{PER_BOOT_DIR}/{script_file_name(i, s)}", script_text(s), mode="0755")
        for i, s in enumerate(scripts)
        if not run_once(s)
    ]
    if files:
        config["write_files"] = [_write_file(f) for f in files]

    services = ctx.services
    if "puppet" in services:
        config["puppet"] = _puppet(services["puppet"])
    if "ansible_pull" in services:
        config["ansible"] = _ansible(services["ansible_pull"])

    once = [(i, s) for i, s in enumerate(scripts) if run_once(s)]
    as_parts = any(s.get("language", "sh") not in _RUNCMD_SHELLS for _i, s in once)
    runcmd = list(plan.commands)
    if not as_parts:
        runcmd += [[_RUNCMD_SHELLS[s.get("language", "sh")], "-c", s["body"]] for _i, s in once]
    if runcmd:
        config["runcmd"] = runcmd

    config = deep_merge(config, doc.get("cloud_config") or {})
    parts = [(f"script-{script_file_name(i, s)}", script_text(s)) for i, s in once]
    if ctx.checkin:
        config["runcmd"] = [checkin.command("booted"), *_as_list(config.get("runcmd"))]
        if as_parts:
            parts.append((READY_PART, f"#!/bin/sh\nexec {' '.join(checkin.command('ready'))}\n"))
        else:
            config["runcmd"].append(checkin.command("ready"))
    text = "#cloud-config\n" + yaml.dump(
        config, Dumper=_Dumper, sort_keys=False, allow_unicode=True, default_flow_style=False, width=1 << 30
    )
    if not as_parts:
        return text.encode()
    return _mime_archive(text, parts)


def _as_list(value) -> list:
    return [] if value is None else value if isinstance(value, list) else [value]


def _user(ctx: Context, user: dict) -> dict:
    out: dict = {"name": user["name"]}
    if user.get("gecos"):
        out["gecos"] = user["gecos"]
    if user.get("groups"):
        out["groups"] = list(user["groups"])
    if user.get("sudo"):
        out["sudo"] = SUDO_RULE
    if user.get("shell"):
        out["shell"] = user["shell"]
    if user.get("ssh_authorized_keys"):
        out["ssh_authorized_keys"] = list(user["ssh_authorized_keys"])
    password_hash = ctx.password_hash(user.get("password"), f"users.{user['name']}")
    if password_hash:
        out["lock_passwd"] = False
        out["hashed_passwd"] = password_hash
    return out


def _write_file(file: File) -> dict:
    out = {"path": file.path}
    if file.secret or needs_binary_encoding(file.content):
        out.update(content=encode_b64(file.content), encoding="b64")
    else:
        out["content"] = file.content
    out.update(owner=file.owner, permissions=file.mode, defer=True)
    return out


def _puppet(puppet: dict) -> dict:
    agent = {key: puppet[key] for key in ("server", "environment", "certname") if puppet.get(key)}
    return {"install": True, "conf": {"agent": agent}, "start_service": True}


def _ansible(ansible: dict) -> dict:
    pull = {"url": ansible["url"], "playbook_name": ansible.get("playbook") or "local.yml"}
    if ansible.get("checkout"):
        pull["checkout"] = ansible["checkout"]
    return {"install_method": "distro", "package_name": "ansible", "pull": pull}


def deep_merge(base, extra):
    """`extra` over `base`: mappings merged recursively, lists appended, other values replaced."""
    if isinstance(base, dict) and isinstance(extra, dict):
        merged = dict(base)
        for key, value in extra.items():
            merged[key] = deep_merge(base[key], value) if key in base else value
        return merged
    if isinstance(base, list) and isinstance(extra, list):
        return base + extra
    return extra


def _mime_archive(cloud_config: str, scripts: list[tuple[str, str]]) -> bytes:
    """multipart/mixed with a boundary derived from the content: same input, same bytes."""
    parts = [
        ("cloud-config", "cloud-config", cloud_config),
        *((name, "x-shellscript", t) for name, t in scripts),
    ]
    digest = hashlib.sha256("\0".join(text for _name, _kind, text in parts).encode()).hexdigest()
    archive = MIMEMultipart(boundary=f"==context-portal-{digest[:32]}==")
    for name, subtype, text in parts:
        part = MIMEText(text, subtype, "us-ascii" if text.isascii() else "utf-8")
        part.add_header("Content-Disposition", "attachment", filename=name)
        archive.attach(part)
    return archive.as_bytes()
