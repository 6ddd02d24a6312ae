"""Slurm: slurmctld on the cluster's head, slurmd on its workers, one MUNGE key for all of them.

Every node gets the same `/etc/slurm/slurm.conf` but for `SlurmctldHost`, the `controller` setting
(usually `{{ roles.head.address }}`: the head's own host name on the head, which slurmctld needs to
know it is the controller, and the head's address on the workers).

Workers are Slurm's *dynamic nodes*: `slurmd -Z -N <instance name>` registers the node with the
controller, which takes its address from the connection, and partitions with `Nodes=ALL` include it.
So slurm.conf lists no worker and the controller never restarts when workers come and go. `State=CLOUD`
nodes were not chosen: they must be listed by name in advance, and a cluster's instance names never
repeat (`<cluster>-<role>-<index>`, the index only grows), so any list would run out; and they exist
for Slurm's own power saving (ResumeProgram), which would make Slurm, not the portal, start workers.

The MUNGE key is derived from the `munge_key` setting or, when there is none, from the cluster's
secret: HMAC-SHA512, written as 128 hex characters (512 bits; munged takes the file's bytes as they
are and needs at least 32). It travels base64-encoded into a root-only file owned by munge, never on
a command line; every node of a cluster derives the same key, and nothing outside the cluster can.

On the head, the reporter (`contexts.services.reporter`) runs `COLLECTOR` for the portal's elastic
decisions (docs/elastic.md, "Slurm").
"""

from __future__ import annotations

import hashlib
import hmac
import re

from django import forms

from contexts.forms_sections import compact, optional, secret
from contexts.render.common import Context, File, Plan, RenderError, merge_plans
from contexts.secrets import REDACTED
from contexts.services.base import Secret, Service, ServiceForm
from contexts.services.reporter import reporter_plan

CONFIG = "/etc/slurm/slurm.conf"
MUNGE_KEY = "/etc/munge/munge.key"
SLURMD_DROP_IN = "/etc/systemd/system/slurmd.service.d/50-context-portal.conf"
PARTITION = "batch"
DEFAULT_MAX_NODES = 1024
# Slurm's node names on the workers are the portal's instance names (`-N`), so that the queue
# report and the drain requests speak of the same names as the portal.
_NODE_NAME = re.compile(r"[a-z0-9][a-z0-9-]{0,62}")

# The lines of slurm.conf that do not depend on the cluster. No log files: with `-D` the daemons
# log to the journal. TreeWidth: dynamic nodes do not know each other's addresses, so the
# controller talks to each itself instead of through a tree of nodes (Slurm's dynamic-nodes advice).
_SETTINGS = [
    "AuthType=auth/munge",
    "CredType=cred/munge",
    "SlurmUser=slurm",
    "StateSaveLocation=/var/lib/slurm/slurmctld",
    "SlurmdSpoolDir=/var/lib/slurm/slurmd",
    "SlurmctldPidFile=/run/slurmctld.pid",
    "SlurmdPidFile=/run/slurmd.pid",
    "ProctrackType=proctrack/linuxproc",
    "TaskPlugin=task/none",
    "SchedulerType=sched/backfill",
    "SelectType=select/cons_tres",
    "SelectTypeParameters=CR_Core",
    "ReturnToService=2",
    "TreeWidth=65533",
]

# `queue-report collect|drain NAME` on the head (the reporter's protocol, docs/elastic.md).
# - Jobs: one line per job (array tasks expanded): state, nodes asked for, pending reason.
# - Workers: `scontrol -o show node`, one line per node; TZ=UTC so that LastBusyTime, which Slurm
#   prints in local time without a zone, reads the same on the portal.
# - Workers the portal drained and then terminated stay in Slurm as DOWN+DRAIN dynamic nodes, and
#   each would hold one of MaxNodeCount's places for ever: after reporting them once more, collect
#   deletes those (only nodes drained with the portal's reason, never an administrator's).
COLLECTOR = r"""#!/bin/sh
# queue-report: the Slurm queue for Context Portal's elastic decisions (written by Context Portal).
set -u
REASON="context-portal scale-down"

forget_gone_workers() {
	TZ=UTC scontrol -o show node 2>/dev/null | while read -r line; do
		case "$line" in
		*" Reason=$REASON"*) ;;
		*) continue ;;
		esac
		state=$(printf '%s\n' "$line" | sed -n 's/.* State=\([^ ]*\).*/\1/p')
		case "+$state+" in
		*+DRAIN+*) ;;
		*) continue ;;
		esac
		case "+$state+" in
		*+NOT_RESPONDING+* | DOWN+* | *+DOWN+*) ;;
		*) continue ;;
		esac
		name=$(printf '%s\n' "$line" | sed -n 's/^NodeName=\([^ ]*\).*/\1/p')
		[ -n "$name" ] && scontrol delete nodename="$name" >/dev/null 2>&1
	done
	return 0
}

case "${1:-}" in
collect)
	now=$(date +%s)
	jobs=$(squeue -h -a -r -o '%T %D %r') || exit 1
	workers=$(TZ=UTC scontrol -o show node) || exit 1
	printf 'system slurm\nnow %s\n[jobs]\n%s\n[workers]\n%s\n' "$now" "$jobs" "$workers"
	forget_gone_workers
	;;
drain)
	# One plain node name: a host list (a,b or a[1-3]) would drain more than asked.
	case "${2:-}" in
	'' | *[!A-Za-z0-9._-]*)
		echo "queue-report: drain needs one node name" >&2
		exit 2
		;;
	esac
	exec scontrol update nodename="$2" state=drain reason="$REASON"
	;;
*)
	echo "usage: queue-report collect | drain NODE" >&2
	exit 2
	;;
esac
"""


def munge_key(ctx: Context, slurm: dict) -> str:
    """The MUNGE key file's text: 128 hex characters derived from the key setting or the cluster's
    secret, the same on every node of the cluster."""
    cluster = ctx.variables.get("cluster")
    seed = slurm.get("munge_key") or (cluster.get("secret") if isinstance(cluster, dict) else None)
    if not seed:
        raise RenderError(
            "services.slurm: the MUNGE key comes from munge_key or from the cluster's secret; "
            "set munge_key, or render with cluster.secret"
        )
    return hmac.new(str(seed).encode(), b"context-portal slurm munge key", hashlib.sha512).hexdigest()


def cluster_name(ctx: Context) -> str:
    """Slurm's ClusterName: the portal cluster's name in lower-case letters, digits and '_'."""
    cluster = ctx.variables.get("cluster")
    name = str(cluster.get("name") or "") if isinstance(cluster, dict) else ""
    return re.sub(r"[^a-z0-9_]+", "_", name.lower()).strip("_")[:40] or "cluster"


def slurm_conf(ctx: Context, slurm: dict) -> str:
    lines = [
        "# Written by Context Portal. Workers are dynamic nodes (slurmd -Z): none is listed here.",
        f"ClusterName={cluster_name(ctx)}",
        f"SlurmctldHost={slurm['controller']}",
        *_SETTINGS,
        f"MaxNodeCount={slurm.get('max_nodes', DEFAULT_MAX_NODES)}",
        f"PartitionName={PARTITION} Nodes=ALL Default=YES MaxTime=INFINITE State=UP",
    ]
    return "\n".join(lines) + "\n"


def node_name(ctx: Context) -> str | None:
    """The worker's Slurm node name: its instance name, when it is one Slurm accepts."""
    instance = ctx.variables.get("instance")
    name = str(instance.get("name") or "") if isinstance(instance, dict) else ""
    return name if _NODE_NAME.fullmatch(name) else None


def slurmd_drop_in(ctx: Context) -> str:
    """A systemd drop-in starting slurmd as a dynamic node named like the instance."""
    name = node_name(ctx)
    argv = "/usr/sbin/slurmd -D -s -Z" + (f" -N {name}" if name else "")
    return f"# Written by Context Portal.\n[Service]\nExecStart=\nExecStart={argv} $SLURMD_OPTIONS\n"


def plan(ctx: Context, slurm: dict) -> Plan:
    key = REDACTED if ctx.redact else munge_key(ctx, slurm)
    files = [
        File(CONFIG, slurm_conf(ctx, slurm)),
        File(MUNGE_KEY, key, mode="0400", owner="munge:munge", secret=not ctx.redact),
    ]
    if slurm["role"] == "controller":
        daemon, packages = "slurmctld", ["munge", "slurmctld"]
    else:
        daemon, packages = "slurmd", ["munge", "slurmd", "slurm-client"]
        files.append(File(SLURMD_DROP_IN, slurmd_drop_in(ctx)))
    commands = [
        ["systemctl", "daemon-reload"],
        ["systemctl", "enable", "munge", daemon],
        ["systemctl", "restart", "munge"],
        ["systemctl", "restart", daemon],
    ]
    own = Plan(packages=packages, files=files, commands=commands)
    return merge_plans(own, reporter_plan(ctx, "slurm", COLLECTOR)) if daemon == "slurmctld" else own


class SlurmForm(ServiceForm):
    key_field, label = "role", "Slurm"
    secrets = ("munge_key",)
    role = forms.ChoiceField(
        label="Role",
        required=False,
        choices=[
            ("", "— not used —"),
            ("controller", "controller (slurmctld)"),
            ("worker", "worker (slurmd)"),
        ],
    )
    controller = optional("Controller", "Usually {{ roles.head.address }}")
    munge_key = secret("MUNGE key")
    clear_munge_key = forms.BooleanField(label="Clear the stored MUNGE key", required=False)
    max_nodes = forms.IntegerField(
        label="Most workers at once",
        required=False,
        min_value=1,
        max_value=65000,
        help_text=f"Slurm's MaxNodeCount; {DEFAULT_MAX_NODES} when empty",
    )

    @staticmethod
    def initial(slurm):
        slurm = slurm or {}
        return {
            **{k: slurm.get(k, "") for k in ("role", "controller")},
            "max_nodes": slurm.get("max_nodes"),
            "munge_key_set": bool(slurm.get("munge_key")),
        }

    def clean(self):
        data = super().clean()
        if data.get("role") and not data.get("controller"):
            self.add_error("controller", "Give the controller's host, e.g. {{ roles.head.address }}.")
        return data

    def settings(self, stored):
        data = self.cleaned_data
        return compact(
            {
                "role": data["role"],
                "controller": data["controller"],
                "munge_key": self.secret_value("munge_key", stored, "services.slurm.munge_key"),
                "max_nodes": data["max_nodes"],
            }
        )


SERVICE = Service(
    "slurm",
    SlurmForm,
    plan,
    secrets=(
        Secret(
            "munge_key",
            "the MUNGE key",
            derived_from="slurm munge key",
            stand_in="a MUNGE key",
        ),
    ),
)
