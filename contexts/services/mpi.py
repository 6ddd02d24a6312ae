"""MPI: a hostfile with the addresses of the cluster's nodes."""

from __future__ import annotations

from django import forms

from contexts.forms_sections import compact, joined, optional, words
from contexts.render.common import Context, File, Plan
from contexts.services.base import Service, ServiceForm

HOSTFILE = "/etc/mpi/hostfile"


def plan(ctx: Context, mpi: dict) -> Plan:
    """A hostfile with every address of the chosen roles (all roles when none are named).

    A role without addresses (none launched, or scaled to zero) contributes no line.
    """
    variables = ctx.variables
    roles = variables.get("roles") if isinstance(variables.get("roles"), dict) else {}
    names = mpi.get("roles") or sorted(roles)
    slots = mpi.get("slots", 1)
    lines = []
    for name in names:
        role = roles.get(name)
        addresses = role.get("addresses", []) if isinstance(role, dict) else []
        lines += [f"{address} slots={slots}" for address in addresses if isinstance(address, str)]
    content = "".join(line + "\n" for line in lines)
    return Plan(files=[File(mpi.get("hostfile") or HOSTFILE, content)])


def roles(mpi: dict) -> set[str]:
    return set(mpi.get("roles") or []) if isinstance(mpi, dict) else set()


class MpiForm(ServiceForm):
    label = "MPI"
    enabled = forms.BooleanField(label="Set up MPI (a hostfile of the cluster's nodes)", required=False)
    roles = optional("Roles in the hostfile", "Comma-separated; all roles when empty")
    slots = forms.IntegerField(label="Slots per node", required=False, min_value=1, max_value=4096)
    hostfile = optional("Hostfile path", "e.g. /etc/mpi/hostfile")

    @staticmethod
    def initial(mpi):
        if mpi is None:
            return {}
        return {
            "enabled": True,
            "roles": joined(mpi.get("roles"), ", "),
            **{k: mpi.get(k) for k in ("slots", "hostfile")},
        }

    def to_document(self, stored):
        if self.is_blank():
            return None
        data = self.cleaned_data
        return compact({"roles": words(data["roles"]), "slots": data["slots"], "hostfile": data["hostfile"]})


SERVICE = Service("mpi", MpiForm, plan, roles=roles)
