"""HTCondor: a config.d file for the node's role, and the pool password stored for condor.

The pool password never goes into amiconfig's `condor_secret` (that would put it in clear text):
in every format it travels base64-encoded into a root-only file, from which `condor_store_cred`
writes the scrambled file HTCondor reads. amiconfig's `[condor]` section gets the rest.
"""

from __future__ import annotations

from django import forms

from contexts.forms_sections import compact, optional, secret
from contexts.render.common import Context, File, Plan, merge_plans
from contexts.secrets import REDACTED
from contexts.services.base import Secret, Service, ServiceForm
from contexts.services.reporter import reporter_plan

CONFIG = "/etc/condor/config.d/50-context-portal.conf"
PASSWORD_FILE = "/etc/condor/pool_password"  # noqa: S105 (a path)
# Clear text for `condor_store_cred`, which writes the scrambled pool password file condor reads.
PASSWORD_SOURCE = "/etc/condor/pool_password.source"  # noqa: S105 (a path)

_DAEMONS = {
    "master": "MASTER, COLLECTOR, NEGOTIATOR, SCHEDD",
    "worker": "MASTER, STARTD",
    "submit": "MASTER, SCHEDD",
}
_PASSWORD_SECURITY = [
    f"SEC_PASSWORD_FILE = {PASSWORD_FILE}",
    "SEC_DAEMON_AUTHENTICATION = REQUIRED",
    "SEC_DAEMON_INTEGRITY = REQUIRED",
    "SEC_DAEMON_AUTHENTICATION_METHODS = PASSWORD",
    "SEC_NEGOTIATOR_AUTHENTICATION = REQUIRED",
    "SEC_NEGOTIATOR_AUTHENTICATION_METHODS = PASSWORD",
    "SEC_CLIENT_AUTHENTICATION_METHODS = FS, PASSWORD",
    "ALLOW_DAEMON = condor_pool@*",
    "ALLOW_NEGOTIATOR = condor_pool@*",
]
# A graceful drain honours the job's retirement time, which is 0 by default: the job would be
# evicted at once. A week lets every running job finish; the portal's drain deadline ends it sooner.
_WORKER_RETIREMENT = "MAXJOBRETIREMENTTIME = 7 * 24 * 3600"

# The head's queue collector (docs/elastic.md, "HTCondor"), run by `portal-instance report`:
# `collect` prints the queue report, `drain NAME` drains worker NAME. The commands' attributes are
# the ones clusters/elastic/condor.py reads.
COLLECTOR = r"""#!/bin/sh
# Context Portal's HTCondor queue collector: `queue-report collect` prints the queue report,
# `queue-report drain NAME` drains the worker whose short host name is NAME.
set -u

collect() {
    # Scheduler- and local-universe jobs (DAGMan itself) run on the head, never on a worker.
    jobs=$(condor_q -allusers -constraint 'JobUniverse =!= 7 && JobUniverse =!= 12' -af JobStatus) || exit 1
    workers=$(condor_status -af Machine Name State Activity EnteredCurrentState MyCurrentTime LastHeardFrom) || exit 1
    # The head's clock after the queries, so no ad is newer than the report.
    printf 'system condor\nnow %s\n[jobs]\n' "$(date +%s)"
    [ -z "$jobs" ] || printf '%s\n' "$jobs"
    echo '[workers]'
    [ -z "$workers" ] || printf '%s\n' "$workers"
}

drain() {
    pool=$(condor_status -af Machine State Activity) || exit 1
    # The worker's slots as `Machine State Activity`: the portal knows the short host name only.
    slots=$(printf '%s\n' "$pool" | awk -v name="$1" '
        { short = tolower($1); sub(/\..*/, "", short) }
        short == tolower(name)')
    if [ -z "$slots" ]; then
        echo "queue-report: HTCondor knows no worker named $1" >&2
        exit 1
    fi
    # Drained slots, or jobs retiring: a drain is under way, and condor_drain refuses a second.
    if printf '%s\n' "$slots" | awk '$2 == "Drained" || $3 == "Retiring" { found = 1 } END { exit !found }'; then
        exit 0
    fi
    # -graceful: running jobs finish (MAXJOBRETIREMENTTIME on the workers); -start False: no new
    # job starts. condor_drain names the machine by its Machine attribute, the full host name.
    exec condor_drain -graceful -start False "$(printf '%s\n' "$slots" | awk '{ print $1; exit }')"
}

case ${1:-} in
collect) collect ;;
drain) [ -n "${2:-}" ] || { echo "usage: queue-report drain NAME" >&2; exit 2; }; drain "$2" ;;
*) echo "usage: queue-report collect | queue-report drain NAME" >&2; exit 2 ;;
esac
"""


def plan(ctx: Context, condor: dict) -> Plan:
    """A config.d file for the role, and the pool password stored through `condor_store_cred`."""
    lines = ["# Written by Context Portal."]
    if condor.get("master"):
        lines.append(f"CONDOR_HOST = {condor['master']}")
    lines.append(f"DAEMON_LIST = {_DAEMONS[condor['role']]}")
    if condor.get("uid_domain"):
        lines += [f"UID_DOMAIN = {condor['uid_domain']}", "TRUST_UID_DOMAIN = True"]
    if condor.get("port_range"):
        lines += [f"LOWPORT = {condor['port_range']['low']}", f"HIGHPORT = {condor['port_range']['high']}"]
    if condor["role"] == "worker":
        lines.append(_WORKER_RETIREMENT)
    files, commands = [], []
    password = condor.get("pool_password")
    if password:
        lines += _PASSWORD_SECURITY
        shown = REDACTED if ctx.redact else password
        files.append(File(PASSWORD_SOURCE, shown, mode="0600", secret=not ctx.redact))
        store = f'condor_store_cred -f {PASSWORD_FILE} -p "$(cat {PASSWORD_SOURCE})"'
        commands.append(["sh", "-c", store])
    files.insert(0, File(CONFIG, "\n".join(lines) + "\n"))
    commands.append(["systemctl", "restart", "condor"])
    condor_plan = Plan(files=files, commands=commands)
    if condor["role"] != "master":
        return condor_plan
    # The central manager runs the schedd and the collector: it reports the queue of the pool.
    return merge_plans(condor_plan, reporter_plan(ctx, "condor", COLLECTOR))


def amiconfig_pairs(condor: dict) -> list | None:
    """CernVM's condor plugin knows two roles: a worker (`condor_master` given) and the central
    manager (no `condor_master`); it writes condor_config.local, which HTCondor reads after
    config.d. A submit node has no plugin section, so the plugin cannot make it a worker."""
    if condor["role"] == "submit":
        return None
    master = condor.get("master") if condor["role"] == "worker" else None
    pairs = [("condor_master", master), ("uid_domain", condor.get("uid_domain"))]
    if condor.get("port_range"):
        pairs += [("lowport", condor["port_range"]["low"]), ("highport", condor["port_range"]["high"])]
    return pairs


def problems(condor: dict) -> list[str]:
    ports = condor.get("port_range")
    if ports and ports["low"] > ports["high"]:
        return ["services.condor.port_range: low must not be above high"]
    return []


class CondorForm(ServiceForm):
    key_field, label = "role", "HTCondor"
    secrets = ("pool_password",)
    role = forms.ChoiceField(
        label="Role",
        required=False,
        choices=[("", "— not used —"), ("master", "master"), ("worker", "worker"), ("submit", "submit")],
    )
    master = optional("Central manager", "Usually {{ roles.master.address }}")
    pool_password = secret("Pool password")
    clear_pool_password = forms.BooleanField(label="Clear the stored pool password", required=False)
    uid_domain = optional("UID domain")
    port_low = forms.IntegerField(label="Lowest port", required=False, min_value=1024, max_value=65535)
    port_high = forms.IntegerField(label="Highest port", required=False, min_value=1024, max_value=65535)

    @staticmethod
    def initial(condor):
        condor = condor or {}
        ports = condor.get("port_range") or {}
        return {
            **{k: condor.get(k, "") for k in ("role", "master", "uid_domain")},
            "port_low": ports.get("low"),
            "port_high": ports.get("high"),
            "pool_password_set": bool(condor.get("pool_password")),
        }

    def clean(self):
        data = super().clean()
        if (data.get("port_low") is None) != (data.get("port_high") is None):
            self.add_error("port_high", "Give both ends of the port range, or neither.")
        return data

    def settings(self, stored):
        data = self.cleaned_data
        ports = {"low": data["port_low"], "high": data["port_high"]} if data["port_low"] else {}
        return compact(
            {
                "role": data["role"],
                "master": data["master"],
                "pool_password": self.secret_value("pool_password", stored, "services.condor.pool_password"),
                "uid_domain": data["uid_domain"],
                "port_range": ports,
            }
        )


SERVICE = Service(
    "condor",
    CondorForm,
    plan,
    amiconfig=amiconfig_pairs,
    secrets=(
        Secret(
            "pool_password",
            "the HTCondor pool password",
            derived_from="htcondor pool password",
            stand_in="a pool password",
        ),
    ),
    problems=problems,
)
