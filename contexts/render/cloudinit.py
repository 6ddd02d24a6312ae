"""The `cloud-init` format: one `#cloud-config` document.

Mapping choices (checked against the cloud-init 22.4 schema that Debian ships):
- a host name comes with `manage_etc_hosts`, so the name resolves on the host itself;
- users keep the image's `default` user first, so the provider's key pair still logs in;
- a user password becomes `hashed_passwd` (applied even when the account exists), root's goes
  through `chpasswd.users` with `type: hash`;
- every `write_files` entry is deferred: files are written in the final stage, after users and
  packages exist, so owners resolve and package installs do not overwrite them; the files run by
  cloud-init's per-boot scripts module and `runcmd` still come later in that stage;
- a service whose module gives cloud-init keys (cloud-init's own modules, e.g. puppet) is done by
  them; the other services are files + `runcmd`;
- `cloud_config` is merged last: mappings recursively, lists appended, anything else replaced.

Scripts: a run-once script, in any language, is written to `/var/lib/context-portal/scripts/NN-name`
(as the shell format does) and run by its path from `runcmd`, after the service commands and in
document order, so its shebang picks the interpreter; every-boot scripts go to
`/var/lib/cloud/scripts/per-boot/NN-name`.

Check-in (`render(..., checkin=...)`): the token file and the `portal-instance` helper lead
`write_files`; `portal-instance checkin booted` is the first `runcmd` entry; every service command
and script runs through `portal-instance run LABEL ...`, which notes a failure (exit status and
all) and goes on, as `runcmd` does; the last entry, `portal-instance finish` (after the profile's
own `cloud_config` runcmd), checks in `ready`, or `failed` naming each step that failed.
"""

from __future__ import annotations

import yaml

from contexts import services
from contexts.render import checkin
from contexts.render.common import (
    SUDO_RULE,
    Context,
    File,
    command_label,
    cvmfs_plan,
    env_plan,
    files_plan,
    merge_plans,
    needs_binary_encoding,
    run_once,
    script_file_name,
    script_path,
    script_text,
)
from contexts.render.common import b64 as encode_b64

FORMAT = "cloud-init"
PER_BOOT_DIR = "/var/lib/cloud/scripts/per-boot"


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
    if "hostname" in doc:
        # /etc/hosts names the host (127.0.1.1 on Debian): its name resolves before any DNS knows
        # it, which cluster software (batch systems, MPI) needs.
        config = {"hostname": config.pop("hostname"), "manage_etc_hosts": True, **config}
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
        cvmfs_plan(doc.get("cvmfs") or {}),
        services.plan(ctx, FORMAT),
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
    once = [(i, s) for i, s in enumerate(scripts) if run_once(s)]
    if ctx.checkin:
        files = [*ctx.checkin.files(), *files]
    files += plan.files
    files += [File(script_path(i, s), script_text(s), mode="0700") for i, s in once]
    files += [
        File(f"{PER_BOOT_DIR}/{script_file_name(i, s)}", script_text(s), mode="0755")
        for i, s in enumerate(scripts)
        if not run_once(s)
    ]
    if files:
        config["write_files"] = [_write_file(f) for f in files]

    for keys in services.native(ctx, FORMAT):
        config.update(keys)

    steps = [(command_label(argv), argv) for argv in plan.commands]
    steps += [(f"script {script_file_name(i, s)}", [script_path(i, s)]) for i, s in once]
    if ctx.checkin:  # each step through the helper, which notes what failed for the last check-in
        steps = [(label, checkin.run_command(label, argv)) for label, argv in steps]
    if steps:
        config["runcmd"] = [argv for _label, argv in steps]

    config = deep_merge(config, doc.get("cloud_config") or {})
    if ctx.checkin:
        config["runcmd"] = [
            checkin.command("booted"),
            *_as_list(config.get("runcmd")),
            checkin.finish_command(),
        ]
    text = "#cloud-config\n" + yaml.dump(
        config, Dumper=_Dumper, sort_keys=False, allow_unicode=True, default_flow_style=False, width=1 << 30
    )
    return text.encode()


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
