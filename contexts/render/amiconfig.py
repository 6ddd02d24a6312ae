"""The `amiconfig` format: CernVM's user-data, a leading `#!/bin/sh` part then amiconfig's INI.

What CernVM does with it (docs/user-data.md, "amiconfig"): `amiconfig.sh user` drops blank lines,
runs the lines from the `#!` line to the first line starting with `exit` as a script — after
amiconfig's plugins, as CernVM documents for a `#!/bin/sh` script — and amiconfig's parser keeps
only column-0 `[section]` lines and, after the first of them, `key=value` / `key: value` lines, with
keys lower-cased. µCernVM's boot loader reads the `[ucernvm-begin]`..`[ucernvm-end]` block and
sources its pairs as shell assignments.

So the sh part writes every file and script base64-encoded on one line (a body's blank lines,
its column-0 `exit` or `[...]` lines would otherwise be lost, end the script or become INI
sections), and the INI carries only what a plugin reads: `[amiconfig] plugins`, `[cernvm]`
(organisations, repositories, proxy, users=name:group:hash, shell, environment), `[hostname]`,
the sections of the services that have a plugin (each service module gives its pairs) and the
boot loader's block. No secret goes into the INI.

The sh part does the rest: time zone, locale, packages, root, sudo rules, extra groups and keys
of users, extra CernVM-FS repositories (their config and keys: the plugin's own
`extra_repositories` wants a bare host, where the portal has a Stratum-1 URL), files, scripts,
and every service's plan. Values the INI cannot carry safely (an environment value with spaces
or commas) also go there. Nothing in it depends on running after the plugins: it creates what it
needs, and the users the plugin creates are created again only when missing.

With check-in, the sh part installs the `portal-instance` helper and checks in like the `shell`
format: `booted` first, then `ready` or `failed` naming what failed. A failed package install is
such a failure: the rest still runs.
"""

from __future__ import annotations

import re

from contexts import services
from contexts.render import shell
from contexts.render.common import (
    REDACTED_HASH,
    Context,
    File,
    cvmfs_extra_repository_files,
    env_plan,
    files_plan,
    merge_plans,
    primary_group,
    quote,
)

# Values amiconfig splits on ',', ':', '|' or '=' and reads without any quoting.
_PLAIN = re.compile(r"[A-Za-z0-9_./:@+-]*")
FORMAT = "amiconfig"
CVMFS_QUOTA_FILE = "/etc/cvmfs/default.d/90-context-portal.conf"
# CernVM's `config -u` gives a `$6$` value to `usermod -p` as it is and pipes anything else to
# `passwd --stdin` unquoted (so `*` would become a password, or the file names it globs to). A
# `$6$` value holding '!', which no crypt hash holds, is a password field no password matches:
# the account is locked for passwords and SSH keys still log in.
LOCKED_PASSWORD = "$6$!locked"  # noqa: S105 (a shadow marker, not a password)
REDACTED_PASSWORD = f"$6${REDACTED_HASH}"  # noqa: S105 (what a redacted preview shows)
# The boot loader turns on/off into 1/0 before its pairs are sourced: those stay unquoted.
_UCERNVM_PLAIN = re.compile(r"[A-Za-z0-9_.,:/@+-]*")


def build(ctx: Context) -> bytes:
    doc = ctx.document
    cvmfs = doc.get("cvmfs") or {}
    env = doc.get("env") or {}
    plain_env = {k: v for k, v in env.items() if _PLAIN.fullmatch(v)}

    plugins = ["cernvm"]
    sections = [_cernvm_section(ctx, cvmfs, plain_env)]
    if doc.get("hostname"):
        plugins.append("hostname")
        sections.append(_section("hostname", [("hostname", doc["hostname"])]))
    for plugin, pairs in services.amiconfig_sections(ctx):
        plugins.append(plugin)
        sections.append(_section(plugin, pairs))
    ucernvm = _ucernvm_block(cvmfs)
    if ucernvm:
        sections.append(ucernvm)
    ini = _section("amiconfig", [("plugins", " ".join(plugins))]) + "\n" + "\n".join(sections)
    return (_sh_part(ctx, cvmfs, env, plain_env) + ini).encode()


def _cernvm_section(ctx: Context, cvmfs: dict, plain_env: dict) -> str:
    doc = ctx.document
    extra_names = [r["name"] for r in cvmfs.get("extra_repositories", [])]
    repositories = list(dict.fromkeys([*cvmfs.get("repositories", []), *extra_names]))
    organisations = list(dict.fromkeys(name.split(".")[0] for name in cvmfs.get("repositories", [])))
    pairs = [("organisations", ",".join(organisations) or "None")]
    if repositories:
        pairs.append(("repositories", ",".join(repositories)))
    users = doc.get("users") or []
    if users:
        entries = [f"{u['name']}:{primary_group(u)}:{_password_field(ctx, u)}" for u in users]
        pairs.append(("users", ",".join(entries)))
        shells = [u["shell"] for u in users if u.get("shell")]
        if shells:
            pairs.append(("shell", shells[0]))
    if cvmfs.get("http_proxy"):
        pairs.append(("proxy", cvmfs["http_proxy"]))
    if plain_env:
        pairs.append(("environment", ",".join(f"{k}={v}" for k, v in plain_env.items())))
    return _section("cernvm", pairs)


def _password_field(ctx: Context, user: dict) -> str:
    """What `users=` says of a user's password: always a `$6$` value (see LOCKED_PASSWORD)."""
    password_hash = ctx.password_hash(user.get("password"), f"users.{user['name']}")
    if password_hash is None:
        return LOCKED_PASSWORD
    return REDACTED_PASSWORD if password_hash == REDACTED_HASH else password_hash


def _ucernvm_block(cvmfs: dict) -> str:
    """The boot loader's pairs, each a shell word: it sources them (`_UCONTEXT_<KEY>=<value>`)."""
    settings = cvmfs.get("ucernvm") or {}
    pairs = []
    if "resize_rootfs" in settings:
        pairs.append(("resize_rootfs", "on" if settings["resize_rootfs"] else "off"))
    if cvmfs.get("http_proxy"):
        pairs.append(("cvmfs_http_proxy", cvmfs["http_proxy"]))
    if settings.get("cvmfs_branch"):
        pairs.append(("cvmfs_branch", settings["cvmfs_branch"]))
    if settings.get("cvmfs_server"):
        pairs.append(("cvmfs_server", ",".join(settings["cvmfs_server"])))
    if settings.get("cvmfs_tag"):
        pairs.append(("cvmfs_tag", settings["cvmfs_tag"]))
    if not pairs:
        return ""
    lines = [f"{key}={value if _UCERNVM_PLAIN.fullmatch(value) else quote(value)}" for key, value in pairs]
    return "[ucernvm-begin]\n" + "".join(line + "\n" for line in lines) + "[ucernvm-end]\n"


def _section(name: str, pairs: list) -> str:
    return f"[{name}]\n" + "".join(f"{key}={value}\n" for key, value in pairs if value not in (None, ""))


def _sh_part(ctx: Context, cvmfs: dict, env: dict, plain_env: dict) -> str:
    doc = ctx.document
    cvmfs_files = [
        f for repo in cvmfs.get("extra_repositories", []) for f in cvmfs_extra_repository_files(repo)
    ]
    if "quota_mb" in cvmfs:
        cvmfs_files.append(File(CVMFS_QUOTA_FILE, f"CVMFS_QUOTA_LIMIT={cvmfs['quota_mb']}\n"))
    plan = merge_plans(
        services.plan(ctx, FORMAT),
        env_plan({k: v for k, v in env.items() if k not in plain_env}),
        files_plan(doc.get("files") or []),
    )
    packages = [*doc.get("packages", []), *plan.packages]
    parts = [
        shell.system_section(doc, hostname=False),
        shell.users_section(ctx, passwords=False),
        shell.root_section(ctx),
        shell.packages_section(packages, doc.get("package_upgrade", False), keep_going=True),
        shell.files_section(cvmfs_files + plan.files, encoded=True),
        shell.commands_section(plan.commands),
        shell.scripts_section(doc.get("scripts") or [], encoded=True),
    ]
    parts = [p for p in parts if p]
    if ctx.checkin:
        parts = shell.with_checkin(parts, ctx.checkin, encoded=True)
    if not parts:
        return ""
    head = "#!/bin/sh\n# User-data from Context Portal (amiconfig format): CernVM runs this part after\n"
    head += "# amiconfig's plugins; amiconfig reads the sections after `exit`.\n" + shell.HELPERS
    return "\n".join([head, *parts]) + "exit 0\n\n"
