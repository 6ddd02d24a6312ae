"""The `amiconfig` format: CernVM's user-data, a leading `#!/bin/sh` part then amiconfig's INI.

CernVM runs the sh part of its user-data (which ends with `exit`, so the shell never reads the INI
lines) and amiconfig reads the sections: `[amiconfig] plugins=...`, `[cernvm]` (repositories,
proxy, users=name:group:hash, environment, ...), `[hostname]`, the sections of the services that
have an amiconfig plugin (each service module gives its pairs), and the
`[ucernvm-begin]`..`[ucernvm-end]` block the µCernVM boot loader reads.

The INI says what amiconfig's plugins understand; the sh part (the `shell` format's sections) does
the rest: time zone, locale, packages, root, sudo rules, extra groups and keys of users, files,
scripts, and every service's plan (its files and commands; a plugin's section says only part of it,
and no secret goes into the INI). Values the INI cannot carry safely (an environment value with
spaces or commas, an extra repository whose key is not a plain PEM body) also go to the sh part.

With check-in, the sh part installs the `portal-instance` helper and checks in like the `shell`
format; its `ready` comes at the end of the sh part, before amiconfig's own plugins run.
"""

from __future__ import annotations

import re

from contexts import services
from contexts.render import shell
from contexts.render.common import (
    Context,
    File,
    cvmfs_extra_repository_files,
    env_plan,
    files_plan,
    merge_plans,
    primary_group,
)

# Values amiconfig splits on ',', ':', '|' or '=' and reads without any quoting.
_PLAIN = re.compile(r"[A-Za-z0-9_./:@+-]*")
_PEM_LINE = re.compile(r"-----(BEGIN|END) [A-Z ]+-----")
_BASE64 = re.compile(r"[A-Za-z0-9+/=]+")
FORMAT = "amiconfig"
CVMFS_QUOTA_FILE = "/etc/cvmfs/default.d/90-context-portal.conf"
# amiconfig writes the password of a user without one: '*' allows key logins only.
NO_PASSWORD = "*"  # noqa: S105 (a shadow marker)


def build(ctx: Context) -> bytes:
    doc = ctx.document
    cvmfs = doc.get("cvmfs") or {}
    env = doc.get("env") or {}
    plain_env = {k: v for k, v in env.items() if _PLAIN.fullmatch(v)}
    extras = [(repo, _cernvm_key(repo)) for repo in cvmfs.get("extra_repositories", [])]

    plugins = ["cernvm"]
    sections = [_cernvm_section(ctx, cvmfs, plain_env, extras)]
    if doc.get("hostname"):
        plugins.append("hostname")
        sections.append(_section("hostname", [("hostname", doc["hostname"])]))
    for plugin, pairs in services.amiconfig_sections(ctx):
        plugins.append(plugin)
        sections.append(_section(plugin, pairs))
    if cvmfs.get("http_proxy") and '"' not in cvmfs["http_proxy"]:
        sections.append(f'[ucernvm-begin]\ncvmfs_http_proxy="{cvmfs["http_proxy"]}"\n[ucernvm-end]\n')
    ini = _section("amiconfig", [("plugins", " ".join(plugins))]) + "\n" + "\n".join(sections)
    return (_sh_part(ctx, cvmfs, env, plain_env, extras) + ini).encode()


def _cernvm_section(ctx: Context, cvmfs: dict, plain_env: dict, extras: list) -> str:
    doc = ctx.document
    repositories = list(dict.fromkeys([*cvmfs.get("repositories", []), *(r["name"] for r, _k in extras)]))
    organisations = list(dict.fromkeys(name.split(".")[0] for name in cvmfs.get("repositories", [])))
    pairs = [("organisations", ",".join(organisations) or "None")]
    if repositories:
        pairs.append(("repositories", ",".join(repositories)))
    listed = [f"{r['name']}|{r['server']}|{key}" for r, key in extras if key is not None]
    if listed:
        pairs.append(("extra-repositories", ",".join(listed)))
    users = doc.get("users") or []
    if users:
        entries = [
            f"{u['name']}:{primary_group(u)}:"
            + (ctx.password_hash(u.get("password"), f"users.{u['name']}") or NO_PASSWORD)
            for u in users
        ]
        pairs.append(("users", ",".join(entries)))
        shells = [u["shell"] for u in users if u.get("shell")]
        if shells:
            pairs.append(("shell", shells[0]))
    if cvmfs.get("http_proxy"):
        pairs.append(("proxy", cvmfs["http_proxy"]))
    if plain_env:
        pairs.append(("environment", ",".join(f"{k}={v}" for k, v in plain_env.items())))
    return _section("cernvm", pairs)


def _cernvm_key(repo: dict) -> str | None:
    """The PEM body on one line, as `extra-repositories` wants it; None when that cannot be said."""
    if not _PLAIN.fullmatch(repo["server"]):
        return None
    body = "".join(
        line.strip()
        for line in (repo.get("public_key") or "").splitlines()
        if not _PEM_LINE.fullmatch(line.strip())
    )
    return body if body == "" or _BASE64.fullmatch(body) else None


def _section(name: str, pairs: list) -> str:
    return f"[{name}]\n" + "".join(f"{key}={value}\n" for key, value in pairs if value not in (None, ""))


def _sh_part(ctx: Context, cvmfs: dict, env: dict, plain_env: dict, extras: list) -> str:
    doc = ctx.document
    cvmfs_files = [f for repo, key in extras if key is None for f in cvmfs_extra_repository_files(repo)]
    if "quota_mb" in cvmfs:
        cvmfs_files.append(File(CVMFS_QUOTA_FILE, f"CVMFS_QUOTA_LIMIT={cvmfs['quota_mb']}\n"))
    plan = merge_plans(
        services.plan(ctx, FORMAT),
        env_plan({k: v for k, v in env.items() if k not in plain_env}),
        files_plan(doc.get("files") or []),
    )
    parts = [
        shell.system_section(doc, hostname=False),
        shell.users_section(ctx, passwords=False),
        shell.root_section(ctx),
        shell.packages_section([*doc.get("packages", []), *plan.packages], doc.get("package_upgrade", False)),
        shell.files_section(cvmfs_files + plan.files),
        shell.commands_section(plan.commands),
        shell.scripts_section(doc.get("scripts") or []),
    ]
    parts = [p for p in parts if p]
    if ctx.checkin:
        parts = shell.with_checkin(parts, ctx.checkin)
    if not parts:
        return ""
    head = "#!/bin/sh\n# User-data from Context Portal (amiconfig format): this part runs first, then\n"
    head += "# amiconfig reads the sections after `exit`.\n" + shell.HELPERS
    return "\n".join([head, *parts]) + "exit 0\n\n"
