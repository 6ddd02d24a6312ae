"""The `shell` format: one POSIX `#!/bin/sh` script for images without cloud-init.

It runs once as root at boot (the pairing client or a site's own hook starts it) and does what the
cloud-config would: hostname, time zone, users, packages (apt-get, dnf or yum, whichever exists),
files, services, then the scripts. Every value is a single-quoted word made by `common.quote`, so no
value is ever expanded by the shell. Service commands and scripts that fail are reported and the
rest goes on, as cloud-init's `runcmd` does.

Scripts: a run-once script is installed under /var/lib/context-portal/scripts/ and run through a
marker file in /var/lib/context-portal/done/, so running the user-data again does not repeat it.
Every-boot scripts go to /etc/context-portal/boot.d/NN-name and are run now and at every later
boot by /etc/context-portal/boot.sh, started by a systemd unit (or /etc/rc.local without systemd).

Check-in (`render(..., checkin=...)`): the script installs the `portal-instance` helper, checks in
`booted`, and at the end `ready` — or `failed` naming the service commands and scripts that
failed, or the section the script stopped in.

The section functions are shared with the sh part of the `amiconfig` format.
"""

from __future__ import annotations

from contexts import services
from contexts.render import checkin as portal_checkin
from contexts.render.common import (
    SUDO_RULE,
    Context,
    File,
    b64,
    command_label,
    cvmfs_plan,
    env_plan,
    files_plan,
    merge_plans,
    needs_binary_encoding,
    quote,
    run_once,
    script_file_name,
    script_path,
    script_text,
)

FORMAT = "shell"
BOOT_DIR = "/etc/context-portal/boot.d"
BOOT_RUNNER = "/etc/context-portal/boot.sh"
BOOT_UNIT = "/etc/systemd/system/context-portal-boot.service"

HELPERS = r"""set -eu
umask 022

# cp_write PATH MODE OWNER < content: write a file, private until its mode is set.
cp_write() {
	mkdir -p "$(dirname "$1")"
	(umask 077 && cat >"$1")
	chmod "$2" "$1"
	chown "$3" "$1"
}

# cp_install PACKAGE...: with whichever package manager the image has.
cp_install() {
	if command -v apt-get >/dev/null 2>&1; then
		DEBIAN_FRONTEND=noninteractive apt-get update -q
		DEBIAN_FRONTEND=noninteractive apt-get install -y -q "$@"
	elif command -v dnf >/dev/null 2>&1; then
		dnf install -y "$@"
	elif command -v yum >/dev/null 2>&1; then
		yum install -y "$@"
	else
		echo "context-portal: no apt-get, dnf or yum to install $*" >&2
		return 1
	fi
}

cp_upgrade() {
	if command -v apt-get >/dev/null 2>&1; then
		DEBIAN_FRONTEND=noninteractive apt-get update -q
		DEBIAN_FRONTEND=noninteractive apt-get upgrade -y -q
	elif command -v dnf >/dev/null 2>&1; then
		dnf upgrade -y
	elif command -v yum >/dev/null 2>&1; then
		yum update -y
	fi
}

# cp_group NAME: create a group unless it exists.
cp_group() {
	getent group "$1" >/dev/null || groupadd "$1"
}

# cp_keys USER < keys: the user's authorized_keys, owned by the user.
cp_keys() {
	cp_home=$(getent passwd "$1" | cut -d: -f6)
	mkdir -p "$cp_home/.ssh"
	chmod 0700 "$cp_home/.ssh"
	cp_write "$cp_home/.ssh/authorized_keys" 0600 "$1:"
	chown "$1:" "$cp_home/.ssh"
}

# cp_as LABEL COMMAND...: run COMMAND; a failure is reported under LABEL and the rest goes on,
# as cloud-init's runcmd does.
cp_as() {
	cp_label=$1
	shift
	"$@" || cp_failure "$cp_label" $?
}

# cp_failure LABEL STATUS: say what failed.
cp_failure() {
	echo "context-portal: $1 failed with exit status $2" >&2
}

# cp_run COMMAND...: cp_as, labelled by the command's name.
cp_run() {
	cp_as "$1" "$@"
}

# cp_once SCRIPT: run an installed script unless it already ran on this machine.
cp_once() {
	cp_marker=/var/lib/context-portal/done/$(basename "$1")
	[ -e "$cp_marker" ] && return 0
	mkdir -p /var/lib/context-portal/done
	: >"$cp_marker"
	cp_as "script $(basename "$1")" "$1"
}
"""


def build(ctx: Context) -> bytes:
    doc = ctx.document
    plan = merge_plans(
        cvmfs_plan(doc.get("cvmfs") or {}),
        services.plan(ctx, FORMAT),
        env_plan(doc.get("env") or {}),
        files_plan(doc.get("files") or []),
    )
    head = "#!/bin/sh\n# User-data from Context Portal (shell format): run as root at boot.\n" + HELPERS
    sections = [
        system_section(doc, hostname=True),
        users_section(ctx, passwords=True),
        root_section(ctx),
        packages_section([*doc.get("packages", []), *plan.packages], doc.get("package_upgrade", False)),
        files_section(plan.files),
        commands_section(plan.commands),
        scripts_section(doc.get("scripts") or []),
    ]
    sections = [s for s in sections if s]
    if ctx.checkin:
        sections = with_checkin(sections, ctx.checkin)
    return "\n".join([head, *sections]).encode()


def with_checkin(sections: list[str], checkin: portal_checkin.Checkin, *, encoded: bool = False) -> list[str]:
    """The sections between a check-in prologue (helper, `booted`) and epilogue (`ready`/`failed`).

    Each section first names itself in `cp_step`, so a command that stops the script (`set -e`)
    is reported as a failure of that section by the EXIT trap. `encoded` writes the helper
    base64-encoded, on one line, as every file of amiconfig's sh part.
    """
    helper = portal_checkin.HELPER_PATH
    token_file, helper_file = checkin.files()
    if encoded:
        install_helper = [write_file(helper_file, encoded=True)]
    else:
        # A quoted here-document keeps the helper readable; its text is fixed and never holds
        # the delimiter line (the URL in it has no line break).
        delimiter = "PORTAL_INSTANCE_HELPER"
        install_helper = [
            f"cp_write {quote(helper)} {helper_file.mode} root:root <<'{delimiter}'",
            helper_file.content + delimiter,
        ]
    prologue = [
        write_file(token_file),
        *install_helper,
        "cp_failed=",
        "cp_step=start",
        "# cp_failure also remembers what failed, for the check-in at the end.",
        "cp_failure() {",
        '\techo "context-portal: $1 failed with exit status $2" >&2',
        '\tcp_failed="${cp_failed:+$cp_failed, }$1 (exit $2)"',
        "}",
        "cp_checkin() {",
        f'\t{helper} checkin "$@" || echo "context-portal: the $1 check-in did not reach the portal" >&2',
        "}",
        'trap \'cp_status=$?; [ "$cp_status" -eq 0 ] || '
        'cp_checkin failed "stopped with status $cp_status in: $cp_step"\' EXIT',
        "command -v curl >/dev/null 2>&1 || cp_run cp_install curl",
        "cp_checkin booted",
    ]
    epilogue = [
        'if [ -n "$cp_failed" ]; then',
        '\tcp_checkin failed "failed: $cp_failed"',
        "else",
        "\tcp_checkin ready",
        "fi",
    ]
    return [
        _section("Check-in with Context Portal: booted now, ready or failed at the end", prologue),
        *(_naming_step(section) for section in sections),
        _section("Check-in: ready, or failed naming what failed", epilogue),
    ]


def _naming_step(section: str) -> str:
    title, _newline, body = section.partition("\n")
    return f"{title}\ncp_step={quote(title.removeprefix('# '))}\n{body}"


def command(argv: list[str]) -> str:
    return " ".join(quote(arg) for arg in argv)


def system_section(doc: dict, *, hostname: bool) -> str:
    lines = []
    if hostname and doc.get("hostname"):
        name = quote(doc["hostname"])
        lines += [f"hostname {name}", f"printf '%s\\n' {name} >/etc/hostname"]
    if doc.get("hostname"):
        lines += hosts_lines(doc["hostname"])
    if doc.get("timezone"):
        zone = quote(doc["timezone"])
        lines += [
            f"ln -sf /usr/share/zoneinfo/{zone} /etc/localtime",
            f"printf '%s\\n' {zone} >/etc/timezone",
        ]
    if doc.get("locale"):
        locale = quote(doc["locale"])
        lines += [
            f"printf 'LANG=%s\\n' {locale} >/etc/locale.conf",
            "cp /etc/locale.conf /etc/default/locale",
        ]
    return _section("System", lines)


def hosts_lines(hostname: str) -> list[str]:
    """The host's name in /etc/hosts on 127.0.1.1 (as Debian and cloud-init do), replacing any
    line there: the name resolves before any DNS knows it, which cluster software (batch systems, MPI) needs."""
    names = " ".join(dict.fromkeys([hostname, hostname.split(".")[0]]))
    return [
        "sed -i '/^127\\.0\\.1\\.1[[:space:]]/d' /etc/hosts 2>/dev/null || :",
        f"printf '127.0.1.1 %s\\n' {quote(names)} >>/etc/hosts",
    ]


# What amiconfig's `users=` cannot say about a user (it says name, group and password hash).
_BEYOND_AMICONFIG = ("gecos", "shell", "groups", "sudo", "ssh_authorized_keys")


def users_section(ctx: Context, *, passwords: bool) -> str:
    """Users created unless they exist; `passwords=False` leaves passwords to amiconfig."""
    lines = []
    for user in ctx.document.get("users") or []:
        if not passwords and not any(user.get(key) for key in _BEYOND_AMICONFIG):
            continue
        name = quote(user["name"])
        options = ""
        if user.get("gecos"):
            options += f" -c {quote(user['gecos'])}"
        if user.get("shell"):
            options += f" -s {quote(user['shell'])}"
        lines.append(f"# user {user['name']}")
        lines += [f"cp_group {quote(group)}" for group in user.get("groups", [])]
        if options:
            lines.append(
                f"if id -u {name} >/dev/null 2>&1; then usermod{options} {name}; else useradd -m{options} {name}; fi"
            )
        else:
            lines.append(f"id -u {name} >/dev/null 2>&1 || useradd -m {name}")
        if user.get("groups"):
            lines.append(f"usermod -a -G {quote(','.join(user['groups']))} {name}")
        password_hash = ctx.password_hash(user.get("password"), f"users.{user['name']}")
        if passwords and password_hash:
            lines.append(f"usermod -p {quote(password_hash)} {name}")
        if user.get("sudo"):
            rule = quote(f"{user['name']} {SUDO_RULE}")
            sudoers = quote(f"/etc/sudoers.d/90-context-portal-{user['name']}")
            lines.append(f"printf '%s\\n' {rule} | cp_write {sudoers} 0440 root:root")
        if user.get("ssh_authorized_keys"):
            lines.append(_printf_lines(user["ssh_authorized_keys"]) + f" | cp_keys {name}")
    return _section("Users", lines)


def root_section(ctx: Context) -> str:
    root = ctx.document.get("root") or {}
    lines = []
    password_hash = ctx.password_hash(root.get("password"), "root")
    if password_hash:
        lines.append(f"usermod -p {quote(password_hash)} root")
    if root.get("ssh_authorized_keys"):
        lines.append(_printf_lines(root["ssh_authorized_keys"]) + " | cp_keys root")
    return _section("Root", lines)


def packages_section(packages: list[str], upgrade: bool, *, keep_going: bool = False) -> str:
    """`keep_going`: a failed install is reported (and checked in as `failed`) and the rest goes
    on, instead of stopping the script there."""
    prefix = "cp_as packages " if keep_going else ""
    lines = [f"{prefix}cp_upgrade"] if upgrade else []
    unique = list(dict.fromkeys(packages))
    if unique:
        lines.append(f"{prefix}cp_install " + " ".join(quote(p) for p in unique))
    return _section("Packages", lines)


def files_section(files: list[File], *, encoded: bool = False) -> str:
    return _section("Files", [write_file(f, encoded=encoded) for f in files])


def write_file(file: File, *, encoded: bool = False) -> str:
    """The line writing `file`; its content base64-encoded when secret, binary or `encoded`."""
    target = f"cp_write {quote(file.path)} {file.mode} {quote(file.owner)}"
    if encoded or file.secret or needs_binary_encoding(file.content):
        return f"printf '%s' {quote(b64(file.content))} | base64 -d | {target}"
    return f"printf '%s' {quote(file.content)} | {target}"


def commands_section(commands: list[list[str]]) -> str:
    return _section("Services", [f"cp_as {quote(command_label(argv))} {command(argv)}" for argv in commands])


def scripts_section(scripts: list[dict], *, encoded: bool = False) -> str:
    lines = []
    every_boot = []
    for index, script in enumerate(scripts):
        name = script_file_name(index, script)
        if run_once(script):
            path = script_path(index, script)
            script_file = File(path, script_text(script), mode="0700")
            lines += [write_file(script_file, encoded=encoded), f"cp_once {quote(path)}"]
        else:
            every_boot.append(File(f"{BOOT_DIR}/{name}", script_text(script), mode="0755"))
    if every_boot:
        lines += [write_file(f, encoded=encoded) for f in every_boot]
        lines += _boot_hook(encoded)
    return _section("Scripts, in the profile's order", lines)


def _boot_hook(encoded: bool) -> list[str]:
    runner = (
        "#!/bin/sh\n# Context Portal: the profile's every-boot scripts, in order.\n"
        f"for script in {BOOT_DIR}/*; do\n"
        '\t[ -x "$script" ] || continue\n'
        '\t"$script" || echo "context-portal: $script failed with status $?" >&2\n'
        "done\nexit 0\n"
    )
    unit = (
        "[Unit]\nDescription=Context Portal every-boot scripts\n"
        "Wants=network-online.target\nAfter=network-online.target\n\n"
        f"[Service]\nType=oneshot\nExecStart={BOOT_RUNNER}\n\n[Install]\nWantedBy=multi-user.target\n"
    )
    # `\043` is '#': amiconfig.sh edits any user-data line holding "#!" and a later space.
    shebang = "\\043!/bin/sh" if encoded else "#!/bin/sh"
    return [
        write_file(File(BOOT_RUNNER, runner, mode="0755"), encoded=encoded),
        "if command -v systemctl >/dev/null 2>&1; then",
        "\t" + write_file(File(BOOT_UNIT, unit), encoded=encoded),
        "\tsystemctl daemon-reload",
        "\tsystemctl enable context-portal-boot.service",
        "else",
        f"\t[ -e /etc/rc.local ] || printf '{shebang}\\n' >/etc/rc.local",
        f"\tgrep -qx {BOOT_RUNNER} /etc/rc.local || printf '%s\\n' {BOOT_RUNNER} >>/etc/rc.local",
        "\tchmod 0755 /etc/rc.local",
        "fi",
        f"cp_run {BOOT_RUNNER}",
    ]


def _printf_lines(values: list[str]) -> str:
    return "printf '%s\\n' " + " ".join(quote(v) for v in values)


def _section(title: str, lines: list[str]) -> str:
    return f"# {title}\n" + "".join(line + "\n" for line in lines) if lines else ""
